"""Issue 27: imbalanced-learn's samplers as techniques of the backends with fixed features — the contract of every
sampler preset, a sampler sees only the training rows, the same seed gives the same rows, the effective prior counts
synthetic rows, probabilities stay trustworthy, bad specs and fine-tuning are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imblab.data import split_dataset
from imblab.errors import SpecError
from imblab.techniques import GROUPS, PRESETS, parse_spec, resample
from imblab.techniques import _samplers

SAMPLERS = GROUPS["sampling"]


def _toy(counts: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    x = rng.normal(size=(len(y), 6)) + y[:, None] * 1.5
    return x, y


def test_the_sampling_group_and_the_catalogue() -> None:
    assert SAMPLERS == ["smote", "borderline-smote", "adasyn", "svm-smote", "tomek-links", "edited-nn", "smote-tomek",
                        "smote-enn"]
    assert all(PRESETS[name].feature_space and PRESETS[name].citation for name in [*SAMPLERS, "imblearn"])
    assert not set(SAMPLERS) & set(GROUPS["all"])  # "all" runs on every backend
    listed = {p["name"]: p for p in json.loads(json.dumps([PRESETS[n].describe() for n in PRESETS]))}
    assert listed["smote"]["backends"].startswith("fixed features") and listed["smote"]["group"] == "sampling"
    assert listed["focal"]["backends"] == "all"


@pytest.mark.parametrize("counts", [[60, 12], [10, 70, 25]], ids=["binary", "3-class"])
@pytest.mark.parametrize("name", [*SAMPLERS, "imblearn:RandomOverSampler()"])
def test_sampler_contract(name: str, counts: list[int]) -> None:
    labels = [f"c{i}" for i in range(len(counts))]
    x, y = _toy(counts)
    fitted = parse_spec(name, labels).fit(np.array(counts), labels)
    assert fitted.sampler is not None
    x_res, y_res = resample(fitted.sampler, x, y, 3, labels)
    again = resample(fitted.sampler, x, y, 3, labels)
    np.testing.assert_array_equal(x_res, again[0])  # the same seed, the same rows
    np.testing.assert_array_equal(y_res, again[1])
    assert x_res.shape[1] == x.shape[1] and len(x_res) == len(y_res)
    resampled = np.bincount(y_res, minlength=len(labels))
    assert set(y_res.tolist()) == set(range(len(labels)))
    fitted.set_resampled_counts(resampled)
    # Synthetic rows count as rows of their class: the effective prior is the resampled class shares.
    np.testing.assert_allclose(fitted.effective_prior, resampled / resampled.sum())
    assert fitted.true_prior == pytest.approx(np.array(counts) / sum(counts))
    objective = fitted.head_objective(resampled)
    assert objective.sampler is None and objective.sample_sizes is None
    np.testing.assert_array_equal(objective.class_counts, resampled)
    assert parse_spec(fitted.technique.spec, labels) == fitted.technique


def test_a_different_seed_synthesises_other_rows() -> None:
    x, y = _toy([60, 12])
    spec = parse_spec("smote", ["a", "b"]).fit(np.array([60, 12]), ["a", "b"]).sampler
    assert not np.array_equal(resample(spec, x, y, 0, ["a", "b"])[0], resample(spec, x, y, 1, ["a", "b"])[0])


def test_ratio_and_k_neighbors_reach_imbalanced_learn() -> None:
    spec = parse_spec("smote:k_neighbors=3,ratio=0.5", ["a", "b"]).fit(np.array([60, 12]), ["a", "b"]).sampler
    sampler = _samplers.build_sampler(spec, np.array([60, 12]), seed=0)
    assert sampler.k_neighbors == 3 and sampler.sampling_strategy == {0: 60, 1: 30}
    x, y = _toy([60, 12])
    assert np.bincount(resample(spec, x, y, 0, ["a", "b"])[1]).tolist() == [60, 30]


@pytest.mark.parametrize("spec, message", [
    ("imblearn:NoSuch()", "no sampler 'NoSuch'"),
    ("smote:k_neighbors=0", "k_neighbors"),
    ("imblearn:SMOTE(k_neighbors=-1)", "k_neighbors"),
    ("imblearn:SMOTE(random_state=3)", "random_state is the run's seed"),
    ("imblearn:SMOTE(k_neighbors=__import__('os'))", "literal values"),
])
def test_bad_specs_are_one_sentence(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        fitted = parse_spec(spec, ["a", "b"]).fit(np.array([60, 12]), ["a", "b"])
        _samplers.build_sampler(fitted.sampler, np.array([60, 12]), seed=0)


def test_fewer_minority_rows_than_neighbours_is_one_sentence() -> None:
    x, y = _toy([60, 4])
    spec = parse_spec("smote", ["a", "b"]).fit(np.array([60, 4]), ["a", "b"]).sampler
    with pytest.raises(SpecError, match="b \\(4\\) has fewer; lower k_neighbors"):
        resample(spec, x, y, 0, ["a", "b"])


@pytest.mark.parametrize(("spec", "rows"), [
    ("smote", 300),  # within each class it oversamples: the largest is 300
    ("smote:ratio=0.5", 300),  # grows the classes under 500 rows: the largest is 300
    ("smote-tomek", 3 * 1000),  # every row after SMOTE: three classes of 1,000
    ("adasyn", 1420), ("tomek-links", 1420), ("edited-nn", 1420), ("imblearn:KMeansSMOTE", 1420),
    ("imblearn:RandomOverSampler", 0),
])
def test_the_rows_a_sampler_searches(spec: str, rows: int) -> None:
    counts = np.array([1000, 300, 120])
    labels = ["a", "b", "c"]
    sampler = parse_spec(spec, labels).fit(counts, labels).sampler
    assert _samplers.search_rows(sampler, counts) == rows
    _samplers.check_search_rows(sampler, counts, rows, spec)  # at the bound: allowed
    if rows:
        with pytest.raises(SpecError, match=f"would cover {rows:,} training rows, more than --sampler-max-rows"):
            _samplers.check_search_rows(sampler, counts, rows - 1, spec)


def test_the_default_bound_is_50_000_rows() -> None:
    labels = ["a", "b"]
    for counts, refused in ((np.array([49_000, 1_000]), False), (np.array([49_000, 1_001]), True)):
        sampler = parse_spec("tomek-links", labels).fit(counts, labels).sampler
        if refused:
            with pytest.raises(SpecError, match="50,001 training rows, more than --sampler-max-rows 50,000"):
                _samplers.check_search_rows(sampler, counts, None, "tomek-links")
        else:
            _samplers.check_search_rows(sampler, counts, None, "tomek-links")


def test_a_sampler_sees_only_the_training_rows(sms, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from imblab.model import TrainedModel

    small = split_dataset(sms, seed=42)
    train, val = small.take(sms, "train"), small.take(sms, "validation")
    seen: list[tuple[int, np.ndarray]] = []
    real = _samplers.build_sampler

    def recording(spec, counts, seed):  # type: ignore[no-untyped-def]
        sampler = real(spec, counts, seed)
        original = sampler.fit_resample

        def fit_resample(x, y):  # type: ignore[no-untyped-def]
            seen.append((x.shape[0], np.asarray(y).copy()))
            return original(x, y)

        sampler.fit_resample = fit_resample
        return sampler

    monkeypatch.setattr(_samplers, "build_sampler", recording)
    model = TrainedModel.fit(train.texts, train.y, val.texts, val.y, labels=list(sms.label_names), technique="smote",
                             backend="tfidf", seed=0, progress=False)
    assert len(seen) == 1
    rows, y = seen[0]
    assert rows == len(train.y) and np.array_equal(y, train.y)  # never a validation or test row
    assert model.effective_prior == pytest.approx([0.5, 0.5])


def test_a_sampler_that_only_duplicates_corrects_like_upsampling(sms) -> None:  # type: ignore[no-untyped-def]
    from imblab.model import TrainConfig, TrainedModel

    split = split_dataset(sms, seed=42)
    train, val, test = (split.take(sms, p) for p in ("train", "validation", "test"))

    def fit(technique: str) -> TrainedModel:
        return TrainedModel.fit(train.texts, train.y, val.texts, val.y, labels=list(sms.label_names),
                                technique=technique, backend="tfidf", seed=0, progress=False, config=TrainConfig(C=10.0))

    duplicated, upsampled, plain = fit("imblearn:RandomOverSampler()"), fit("upsample"), fit("baseline")
    texts = list(test.texts)
    p_dup, p_up, p_plain = (m.predict_proba(texts, "true")[:, 1] for m in (duplicated, upsampled, plain))
    assert duplicated.effective_prior == pytest.approx(upsampled.effective_prior)
    # Corrected to the real prior, the duplicating sampler agrees with upsampling (both duplicate minority rows)
    # far better than either agrees with the model trained without resampling.
    assert np.mean(np.abs(p_dup - p_up)) < 0.01
    assert np.mean(np.abs(p_dup - p_up)) < 0.5 * np.mean(np.abs(p_dup - p_plain))
    raw = duplicated.predict_proba(texts, "raw")[:, 1]
    assert raw.mean() > p_dup.mean() + 0.02  # the raw probabilities are at the balanced prior; corrected, lower
