"""Every backend x a few techniques through TrainedModel: train, predict, save, load.

Fine-tuning uses tiny random BERT and RoBERTa models built from a config with the bundled
MiniLM tokenizer, so nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from imblab.backends import DEFAULT_CS, make_backend, resolve_backend_name
from imblab.data import load_dataset, split_dataset, stratified_subsample
from imblab.errors import ModelError, SpecError
from imblab.model import TrainConfig, TrainedModel, load_model

LABELS = ["ham", "spam"]


@pytest.fixture(scope="module")
def sms(shared_data):  # type: ignore[no-untyped-def]
    dataset = load_dataset("sms_spam")  # the shared_data fixture fails loudly when the data is missing
    small = stratified_subsample(dataset, 240, seed=0)
    split = split_dataset(small, seed=42)
    return {part: split.take(small, part) for part in ("train", "validation", "test")} | {"full": dataset}


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMBLAB_CACHE_DIR", str(tmp_path / "cache"))


def _tiny(kind: str, root: Path) -> str:
    from transformers import AutoTokenizer, BertConfig, BertModel, RobertaConfig, RobertaModel

    from imblab.backends import resolve_model_name

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(None))
    common = dict(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=37, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    if kind == "bert":
        model = BertModel(BertConfig(max_position_embeddings=128, **common))
    else:
        # RoBERTa's positions start after the padding index.
        model = RobertaModel(RobertaConfig(max_position_embeddings=128 + tokenizer.pad_token_id + 1, type_vocab_size=1,
                                           **common))
    path = root / kind
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tiny")
    return {"bert": _tiny("bert", root), "roberta": _tiny("roberta", root)}


def _fit(sms, technique: str, backend: str, model_name: str | None = None, **config) -> TrainedModel:  # type: ignore[no-untyped-def]
    return TrainedModel.fit(
        sms["train"].texts, sms["train"].y, sms["validation"].texts, sms["validation"].y, labels=LABELS,
        technique=technique, backend=backend, model_name=model_name, seed=0,
        config=TrainConfig(**{"max_length": 64, **config}), progress=False,
    )


CASES = [
    ("tfidf", None, "baseline"),
    ("tfidf", None, "weighted"),
    ("tfidf", None, "focal:gamma=2"),
    ("tfidf", None, "downsample"),
    ("tfidf", None, "threshold"),
    ("tfidf", None, "temperature"),
    ("tfidf", None, "ldam-drw"),
    ("frozen", "bert", "baseline"),
    ("frozen", "bert", "upsample"),
    ("frozen", "roberta", "logit-adjusted"),
    ("finetune", "bert", "focal:gamma=2"),
    ("finetune", "bert", "downsample-upweight"),
    ("finetune", "roberta", "weighted:bias_init=true"),
    ("hybrid", "bert", "baseline"),
    ("hybrid", "bert", "downsample"),
    ("hybrid", "roberta", "focal:gamma=2"),
    ("hybrid", "bert", "ldam-drw"),
]


@pytest.mark.parametrize("backend,tiny,technique", CASES, ids=[f"{b}-{t or 'none'}-{s}" for b, t, s in CASES])
def test_train_predict_save_load(sms, tiny_models, tmp_path: Path, backend: str, tiny: str | None,  # type: ignore[no-untyped-def]
                                 technique: str) -> None:
    epochs = 1 if backend == "finetune" else None
    model = _fit(sms, technique, backend, tiny_models[tiny] if tiny else None, epochs=epochs)
    texts = list(sms["test"].texts)
    assert model.backend_name == backend
    if backend == "finetune":
        assert len(model.history) == epochs
    elif backend == "hybrid":  # the chosen weight's path: the whole one at w = 1, else the chosen C's neighbours
        assert {row["C"] for row in model.history} <= set(DEFAULT_CS) and len(model.history) in (3, 2, len(DEFAULT_CS))
        assert model.backend.fit_info["C"] in DEFAULT_CS
    else:  # the head's regularisation path, one row per C, and the C chosen on validation
        assert [row["C"] for row in model.history] == list(DEFAULT_CS)
        assert model.backend.fit_info["C"] in DEFAULT_CS and model.backend.fit_info["metric"] == "macro_f1"
    logits = model.predict_logits(texts)
    assert logits.shape == (len(texts), 2) and np.isfinite(logits).all()
    for prior in ("true", "raw", {"ham": 0.5, "spam": 0.5}):
        proba = model.predict_proba(texts, prior=prior)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    decisions = model.predict(texts)
    assert set(decisions) <= set(LABELS)
    assert decisions == [LABELS[i] for i in model.posthoc.decide(model.predict_proba(texts, prior="raw"))]

    saved = model.save(tmp_path / "model")
    meta = json.loads((saved / "imblab.json").read_text())
    assert meta["labels"] == LABELS and meta["technique"]["spec"] == model.technique.spec
    assert meta["head"] == model.backend.fit_info
    assert meta["backend"]["name"] == backend
    assert not list(saved.rglob("*.pkl")) and not list(saved.rglob("*.bin"))
    if backend == "finetune":
        assert (saved / "transformer" / "model.safetensors").is_file()
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.predict(texts) == decisions
    assert loaded.posthoc == model.posthoc


@pytest.mark.parametrize("backend,tiny", [("tfidf", None), ("frozen", "bert")])
def test_zero_epochs_with_bias_init_predict_the_training_prior(sms, tiny_models, backend: str, tiny: str | None) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "bias-init", backend, tiny_models[tiny] if tiny else None, epochs=0)
    assert model.history == []
    prior = np.bincount(sms["train"].y) / len(sms["train"].y)
    proba = model.predict_proba(sms["test"].texts, prior="raw")
    np.testing.assert_allclose(proba, np.tile(prior, (len(proba), 1)), atol=1e-6)


def test_bias_init_reaches_the_roberta_classification_layer(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "bias-init", "finetune", tiny_models["roberta"], epochs=0)
    prior = np.bincount(sms["train"].y) / len(sms["train"].y)
    bias = model.backend.model.classifier.out_proj.bias.detach().numpy()
    np.testing.assert_allclose(bias, np.log(prior), atol=1e-6)
    # Without bias init the layer keeps the library's initialisation (zeros for RoBERTa's out_proj bias).
    plain = _fit(sms, "baseline", "finetune", tiny_models["roberta"], epochs=0)
    assert not np.allclose(plain.backend.model.classifier.out_proj.bias.detach().numpy(), np.log(prior))


def test_half_precision_checkpoint_is_fine_tuned_in_fp32(sms, tiny_models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A checkpoint stored in fp16 (as benchmarks/gpu_prepare.sh saves MiniLM) trains with fp32 weights.
    from transformers import AutoModel, AutoTokenizer

    half = tmp_path / "half"
    AutoModel.from_pretrained(tiny_models["bert"]).half().save_pretrained(half)
    AutoTokenizer.from_pretrained(tiny_models["bert"]).save_pretrained(half)
    model = _fit(sms, "weighted", "finetune", str(half), epochs=1)
    assert {p.dtype for p in model.backend.model.parameters()} == {torch.float32}
    assert np.isfinite(model.predict_proba(["Call to claim your prize!"])).all()


def test_focal_with_gamma_zero_equals_baseline(sms) -> None:  # type: ignore[no-untyped-def]
    texts = sms["test"].texts
    a = _fit(sms, "baseline", "tfidf").predict_proba(texts, prior="raw")
    b = _fit(sms, "focal:gamma=0", "tfidf").predict_proba(texts, prior="raw")
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_frozen_embeddings_are_cached_on_disk(sms, tiny_models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = _fit(sms, "baseline", "frozen", tiny_models["bert"], epochs=1)
    cached = sorted((tmp_path / "cache" / "embeddings").glob("*.npy"))
    assert len(cached) == 2  # train and validation
    second = _fit(sms, "weighted", "frozen", tiny_models["bert"], epochs=1)
    assert second.backend._encoder is None  # everything came from the cache
    np.testing.assert_array_equal(first.backend.embeddings(sms["train"].texts), second.backend.embeddings(sms["train"].texts))
    # Another max length is another key.
    other = make_backend("frozen", model_name=tiny_models["bert"], max_length=16)
    assert other._cache_path(sms["train"].texts) != second.backend._cache_path(sms["train"].texts)


@pytest.mark.parametrize("backend", ["frozen", "hybrid"])
def test_a_loaded_model_predicts_without_writing_to_the_cache(sms, tiny_models, tmp_path: Path, backend: str) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "baseline", backend, tiny_models["bert"])
    texts = list(sms["test"].texts)
    expected = model.predict_proba(texts)  # the study's way: the test split cached with the others
    loaded = load_model(model.save(tmp_path / "model"))
    cache = tmp_path / "cache" / "embeddings"
    before = sorted(cache.iterdir())
    for start in range(0, len(texts), 7):  # a server's micro-batches: each would have been an entry of its own
        np.testing.assert_allclose(loaded.predict_proba(texts[start : start + 7]), expected[start : start + 7],
                                   atol=1e-5)
    assert sorted(cache.iterdir()) == before


def test_interrupted_save_leaves_no_model(sms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "weighted", "tfidf")
    target = tmp_path / "model"
    model.save(target)
    before = model.predict_proba(sms["test"].texts)

    def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError):
        model.save(target)  # replacing an existing model
    with pytest.raises(OSError):
        model.save(tmp_path / "fresh")
    monkeypatch.undo()
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["model"]  # no half-written leftovers
    np.testing.assert_array_equal(load_model(target).predict_proba(sms["test"].texts), before)


def test_load_model_rejects_missing_and_foreign_directories(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="not an imblab model"):
        load_model(tmp_path / "foreign")
    (tmp_path / "foreign" / "imblab.json").write_text('{"format": "something-else"}')
    with pytest.raises(ModelError, match="not an imblab model"):
        load_model(tmp_path / "foreign")
    (tmp_path / "foreign" / "imblab.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "foreign")


def test_prior_correction(sms) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "weighted", "tfidf")
    texts = sms["test"].texts
    raw, true = model.predict_proba(texts, prior="raw"), model.predict_proba(texts)
    # Weighting the minority up inflates its raw probability; the correction takes it back down.
    assert true[:, 1].mean() < raw[:, 1].mean()
    deploy = model.predict_proba(texts, prior={"ham": 0.5, "spam": 0.5})
    assert deploy[:, 1].mean() > true[:, 1].mean()
    # One prior parser (evaluation.parse_prior): a label left out gets the rest, text works like a mapping.
    np.testing.assert_array_equal(model.predict_proba(texts, prior={"spam": 0.5}), deploy)
    np.testing.assert_array_equal(model.predict_proba(texts, prior="spam=0.5"), deploy)
    with pytest.raises(SpecError, match="unknown label 'eggs'"):
        model.predict_proba(texts, prior={"spam": 0.5, "eggs": 0.5})
    with pytest.raises(SpecError, match="sum to 0.6, not 1"):
        model.predict_proba(texts, prior={"spam": 0.3, "ham": 0.3})
    with pytest.raises(SpecError):
        model.predict_proba(texts, prior="uniform")


def test_backend_names() -> None:
    assert resolve_backend_name("auto", cuda=True) == "finetune"
    assert resolve_backend_name("auto", cuda=False) == "tfidf"
    assert resolve_backend_name("frozen", cuda=True) == "frozen"
    with pytest.raises(ModelError, match="unknown backend"):
        resolve_backend_name("svm")


@pytest.mark.slow
def test_tfidf_on_full_sms_spam(sms) -> None:  # type: ignore[no-untyped-def]
    dataset = sms["full"]
    split = split_dataset(dataset, seed=42)
    train, val, test = (split.take(dataset, p) for p in ("train", "validation", "test"))
    fit = lambda technique: TrainedModel.fit(train.texts, train.y, val.texts, val.y, labels=LABELS,  # noqa: E731
                                             technique=technique, backend="tfidf", seed=0, progress=False)
    from sklearn.metrics import f1_score

    baseline = fit("baseline")
    # On this split scikit-learn's TF-IDF + LogisticRegression gets a spam F1 of 0.92-0.95 (C 1-100, balanced
    # or not); the C-path head gets 0.944.
    assert f1_score(test.y, baseline.decide(baseline.predict_logits(test.texts))) >= 0.93
    weighted = fit("weighted")
    spam, ham = weighted.predict_proba(["WINNER!! Claim your free prize now, call 09061701461",
                                        "Ok see you at home for dinner"])[:, 1]
    assert spam > 0.5 > ham


@pytest.mark.slow
def test_frozen_on_bundled_minilm(sms) -> None:  # type: ignore[no-untyped-def]
    sub = {p: sms[p] for p in ("train", "validation", "test")}
    model = TrainedModel.fit(sub["train"].texts[:100], sub["train"].y[:100], sub["validation"].texts,
                             sub["validation"].y, labels=LABELS, technique="weighted", backend="frozen", seed=0,
                             progress=False)
    assert model.backend.settings()["model_name"] == "bundled:all-MiniLM-L6-v2"
    proba = model.predict_proba(sub["test"].texts)
    assert proba.shape == (len(sub["test"].texts), 2)


def test_length_chunks_partition_the_rows_longest_first_within_the_token_budget() -> None:
    from imblab.backends._encoders import CPU_TOKENS_PER_THREAD, length_chunks

    lengths = np.random.default_rng(0).integers(3, 128, size=203)
    for threads in (1, 2):
        chunks = length_chunks(lengths, max_texts=64, threads=threads)
        rows = np.concatenate(chunks)
        assert sorted(rows.tolist()) == list(range(len(lengths)))  # every text exactly once
        assert (np.diff(lengths[rows]) <= 0).all()  # longest first
        for chunk in chunks:
            assert len(chunk) <= 64 and lengths[chunk].max() * len(chunk) <= CPU_TOKENS_PER_THREAD * threads
        assert len(chunks) < len(lengths) / 4  # still batched: short texts share a pass
    # An accelerator takes whole batches; one text longer than the budget is a pass of its own.
    assert [len(c) for c in length_chunks(lengths, max_texts=64, device_type="cuda")] == [64, 64, 64, 11]
    assert [len(c) for c in length_chunks(np.array([5000, 3]), max_texts=64)] == [1, 1]


def test_finetune_predicts_each_text_as_it_would_alone(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "baseline", "finetune", tiny_models["bert"], epochs=1)
    texts = list(sms["test"].texts)
    together = model.predict_logits(texts)
    alone = np.vstack([model.predict_logits([text]) for text in texts])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_head_fit_equals_scikit_learn_logistic_regression(n_classes: int, class_weight: str | None) -> None:
    # baseline (cross-entropy) and weighted (inverse frequency) at a fixed C are scikit-learn's
    # LogisticRegression(C) and LogisticRegression(C, class_weight="balanced"): same objective, same optimum.
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from imblab.backends import fit_linear_head
    from imblab.techniques import parse_spec

    rng = np.random.default_rng(0)
    x = sp.random(300, 40, density=0.15, format="csr", random_state=1, dtype=np.float64)
    y = np.minimum(rng.choice(n_classes, size=300, p=[0.7, 0.2, 0.1][:n_classes] / np.sum([0.7, 0.2, 0.1][:n_classes])),
                   n_classes - 1)
    y[:n_classes] = np.arange(n_classes)
    labels = [f"c{i}" for i in range(n_classes)]
    fitted = parse_spec("weighted" if class_weight else "baseline", labels).fit(np.bincount(y), labels)
    for C in (0.3, 10.0):
        ours = fit_linear_head(x, y, fitted, seed=0, Cs=(C,), tol=1e-10, max_iter=5000)
        theirs = LogisticRegression(C=C, class_weight=class_weight, tol=1e-10, max_iter=5000).fit(x, y)
        logits = x @ ours.weight + ours.bias
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        np.testing.assert_allclose(proba / proba.sum(axis=1, keepdims=True), theirs.predict_proba(x), atol=2e-4)


def test_a_repeated_head_fit_is_reused_and_equals_fitting_again() -> None:
    # Runs that share features, loss and sampling plan (no sampling, another seed) get the earlier fit, with
    # the very numbers a fresh fit gives; a sampling technique's other seed draws another plan: fitted anew.
    import scipy.sparse as sp

    from imblab.backends import HeadConfig, fit_head
    from imblab.techniques import parse_spec

    rng = np.random.default_rng(3)
    x = sp.random(400, 30, density=0.2, format="csr", random_state=2, dtype=np.float64)
    y = (rng.random(400) < 0.2).astype(np.int64)
    val_x = sp.random(100, 30, density=0.2, format="csr", random_state=4, dtype=np.float64)
    val_y = (rng.random(100) < 0.2).astype(np.int64)
    labels = ["a", "b"]
    config = HeadConfig(Cs=(0.1, 1.0, 10.0))
    key = ("test features", 1)
    for spec, same_plan in (("focal", True), ("downsample", False)):
        fitted = parse_spec(spec, labels).fit(np.bincount(y), labels)
        first = fit_head(x, y, fitted, seed=0, config=config, val_features=val_x, val_y=val_y, features_key=key)
        again = fit_head(x, y, fitted, seed=1, config=config, val_features=val_x, val_y=val_y, features_key=key)
        fresh = fit_head(x, y, fitted, seed=1, config=config, val_features=val_x, val_y=val_y)
        assert not first.reused and again.reused is same_plan and not fresh.reused
        np.testing.assert_array_equal(again.weight, fresh.weight)
        np.testing.assert_array_equal(again.bias, fresh.bias)
        assert again.C == fresh.C and again.summary()["reused"] is same_plan
    # Other labels are another fit, whatever the key says about the features.
    fitted = parse_spec("focal", labels).fit(np.bincount(1 - y), labels)
    assert not fit_head(x, 1 - y, fitted, seed=0, config=config, val_features=val_x, val_y=val_y,
                        features_key=key).reused


def test_head_sampling_plans_vary_by_seed_and_drw_runs_in_two_stages(sms) -> None:  # type: ignore[no-untyped-def]
    texts = sms["test"].texts
    logits = lambda technique, seed: TrainedModel.fit(  # noqa: E731
        sms["train"].texts, sms["train"].y, sms["validation"].texts, sms["validation"].y, labels=LABELS,
        technique=technique, backend="tfidf", seed=seed, config=TrainConfig(C=1.0), progress=False,
    ).predict_logits(texts)
    # A convex fit without sampling is the same for every seed; downsampling draws other rows per seed.
    np.testing.assert_array_equal(logits("weighted", 0), logits("weighted", 1))
    assert not np.allclose(logits("downsample", 0), logits("downsample", 1))
    from imblab.techniques import parse_spec

    assert parse_spec("ldam-drw", LABELS).fit([50, 10], LABELS).loss_stages == (0.0, 1.0)
    assert parse_spec("focal", LABELS).fit([50, 10], LABELS).loss_stages == (0.0,)


@pytest.mark.parametrize("technique", ["baseline", "downsample"])
def test_head_regularisation_is_chosen_on_validation_only(sms, tmp_path: Path, technique: str) -> None:  # type: ignore[no-untyped-def]
    # The test split is never read while choosing C: permuting its labels changes nothing the fit chose.
    from dataclasses import replace

    from imblab.run import train_run
    from imblab.techniques import parse_spec

    dataset = stratified_subsample(sms["full"], 600, seed=0)
    split = split_dataset(dataset, seed=42)
    labels = list(dataset.labels)
    shuffled = np.random.default_rng(0).permutation(split.test)
    for i, j in zip(split.test, shuffled):
        labels[i] = dataset.labels[j]
    permuted = replace(dataset, labels=tuple(labels))
    assert [labels[i] for i in split.test] != [dataset.labels[i] for i in split.test]
    from imblab.backends._convex import forget_head_fits

    runs = []
    for k, data in enumerate((dataset, permuted)):
        forget_head_fits()  # each fitted afresh (the fit does not read test labels, so it would be reused)
        runs.append(train_run(data, split, parse_spec(technique, LABELS), backend="tfidf", out=tmp_path / str(k),
                              progress=False))
    assert not any(run.metrics["head"]["reused"] for run in runs)
    chosen = [{**run.metrics["head"], "path": [{k: v for k, v in row.items() if k != "seconds"}
                                               for row in run.metrics["head"]["path"]]} for run in runs]
    assert chosen[0]["path"] and chosen[0] == chosen[1]
    assert runs[0].metrics["validation"] == runs[1].metrics["validation"]
    assert runs[0].metrics["test"] != runs[1].metrics["test"]


def test_tfidf_is_deterministic_and_saves_shared_vocabularies(sms, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import scipy.sparse as sp

    texts = sms["test"].texts
    first, second = _fit(sms, "weighted", "tfidf"), _fit(sms, "weighted", "tfidf")
    np.testing.assert_array_equal(first.predict_logits(texts), second.predict_logits(texts))
    # The training rows come from fit_transform; they equal a plain transform bit for bit.
    cached = first.backend.features(sms["train"].texts)
    fresh = sp.hstack([vec.transform(sms["train"].texts) for vec in first.backend.vectorizers], format="csr")
    assert np.array_equal(cached.indptr, fresh.indptr) and np.array_equal(cached.indices, fresh.indices)
    assert np.array_equal(cached.data, fresh.data)
    # Models sharing a vocabulary are saved independently of each other.
    other = _fit(sms, "downsample", "tfidf")
    a, b = first.save(tmp_path / "a"), other.save(tmp_path / "b")
    assert (a / "tfidf.json").read_bytes() == (b / "tfidf.json").read_bytes()
    (a / "tfidf.json").unlink()
    np.testing.assert_array_equal(load_model(b).predict_proba(texts), other.predict_proba(texts))
    with pytest.raises(ModelError):
        load_model(a)


@pytest.mark.parametrize("technique", ["baseline", "weighted", "upsample"])
def test_hybrid_with_dense_weight_0_is_tfidf(sms, tiny_models, technique: str) -> None:  # type: ignore[no-untyped-def]
    texts = list(sms["test"].texts)
    tfidf = _fit(sms, technique, "tfidf")
    hybrid = _fit(sms, technique, "hybrid", tiny_models["bert"], options={"dense_weight": 0.0})
    assert hybrid.backend.fit_info["dense_weight"] == 0.0 and hybrid.backend.fit_info["C"] == tfidf.backend.fit_info["C"]
    np.testing.assert_allclose(hybrid.predict_proba(texts), tfidf.predict_proba(texts), atol=1e-6)


def test_hybrid_chooses_its_dense_weight_on_validation(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "weighted", "hybrid", tiny_models["bert"])
    info = model.backend.fit_info
    # The whole C path at w = 1, then the chosen C and its neighbours at each other weight.
    assert [row["weight"] for row in info["weights"]] == [1.0, 0.5, 2.0, 4.0] and info["dense_weight_chosen"]
    at_one = info["weights"][0]["C"]
    i = list(DEFAULT_CS).index(at_one)
    assert all(row["C"] in DEFAULT_CS[max(0, i - 1):i + 2] for row in info["weights"][1:])
    best = max(info["weights"], key=lambda r: (round(r["validation_score"], 12), -r["validation_log_loss"], -r["weight"]))
    assert info["dense_weight"] == best["weight"]
    fixed = _fit(sms, "weighted", "hybrid", tiny_models["bert"], options={"dense_weight": 2.0})
    assert [row["weight"] for row in fixed.backend.fit_info["weights"]] == [2.0]
