"""Post-hoc steps: thresholds reach their targets, temperature, logit adjustment, (de)serialisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import f1_score, precision_score, recall_score

from imblab.techniques import PostHoc, fit_temperature, parse_spec
from imblab.techniques._posthoc import macro_f1

LABELS = ["ham", "spam"]
LABELS3 = ["a", "b", "c"]


def noisy_logits(n: int, counts: list[int], seed: int, signal: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(len(counts), size=n, p=np.asarray(counts) / sum(counts))
    logits = rng.normal(size=(n, len(counts)))
    logits[np.arange(n), y] += signal
    logits += np.log(np.asarray(counts) / sum(counts))  # a prior-following model: the minority is under-predicted
    return logits, y


def decisions(fitted, posthoc, logits):
    return posthoc.decide(softmax(posthoc.transform_logits(logits), axis=1))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("target", [0.8, 0.95, 1.0])
def test_recall_target_is_reached_on_the_validation_data(seed, target):
    logits, y = noisy_logits(400, [85, 15], seed)
    fitted = parse_spec(f"threshold:recall={target}", LABELS).fit([85, 15], LABELS)
    posthoc = fitted.fit_posthoc(logits, y)
    pred = decisions(fitted, posthoc, logits)
    assert recall_score(y, pred, pos_label=1) >= target
    assert posthoc.details["recall"] == pytest.approx(recall_score(y, pred, pos_label=1))
    assert posthoc.details["label"] == "spam"


@pytest.mark.parametrize("seed", [0, 1])
def test_recall_target_of_a_named_label_in_three_classes(seed):
    logits, y = noisy_logits(600, [70, 20, 10], seed)
    fitted = parse_spec("focal:posthoc=threshold,recall=0.9,label=b", LABELS3).fit([70, 20, 10], LABELS3)
    pred = decisions(fitted, fitted.fit_posthoc(logits, y), logits)
    assert recall_score(y, pred, labels=[1], average=None)[0] >= 0.9


def test_precision_target_is_reached_when_reachable():
    logits, y = noisy_logits(500, [85, 15], 3, signal=3.0)
    fitted = parse_spec("threshold:precision=0.9", LABELS).fit([85, 15], LABELS)
    pred = decisions(fitted, fitted.fit_posthoc(logits, y), logits)
    assert precision_score(y, pred, pos_label=1) >= 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_macro_f1_threshold_is_the_best_one_on_validation(seed):
    logits, y = noisy_logits(100, [85, 15], seed)
    fitted = parse_spec("threshold", LABELS).fit([85, 15], LABELS)
    posthoc = fitted.fit_posthoc(logits, y)
    tuned = f1_score(y, decisions(fitted, posthoc, logits), average="macro")
    p = softmax(logits, axis=1)[:, 1]
    brute = max(f1_score(y, (p >= t).astype(int), average="macro") for t in np.unique(p))
    assert tuned == pytest.approx(brute)
    assert tuned >= f1_score(y, logits.argmax(axis=1), average="macro")
    assert posthoc.details["macro_f1"] == pytest.approx(tuned)


def test_multiclass_macro_f1_thresholds_do_not_lose_to_argmax():
    logits, y = noisy_logits(600, [80, 15, 5], 4)
    fitted = parse_spec("threshold", LABELS3).fit([80, 15, 5], LABELS3)
    posthoc = fitted.fit_posthoc(logits, y)
    tuned = f1_score(y, decisions(fitted, posthoc, logits), average="macro")
    assert tuned >= f1_score(y, logits.argmax(axis=1), average="macro")
    assert tuned == pytest.approx(posthoc.details["macro_f1"])


def test_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert macro_f1(y, pred, 3) == pytest.approx(f1_score(y, pred, average="macro"))
    pred[pred == 2] = 0  # a class never predicted
    assert macro_f1(y, pred, 3) == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))


def test_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 3)) * 2
    y = np.array([rng.choice(3, p=p) for p in softmax(z, axis=1)])
    assert fit_temperature(z * 3.0, y) == pytest.approx(3.0, rel=0.1)
    fitted = parse_spec("temperature", LABELS3).fit([10, 10, 10], LABELS3)
    posthoc = fitted.fit_posthoc(z * 3.0, y)
    assert posthoc.temperature == pytest.approx(3.0, rel=0.1)
    np.testing.assert_allclose(posthoc.transform_logits(z * 3.0), z * 3.0 / posthoc.temperature)


def test_logit_adjusted_posthoc_subtracts_tau_log_prior():
    counts = [900, 100]
    fitted = parse_spec("logit-adjusted-posthoc:tau=0.5", LABELS).fit(counts, LABELS)
    z = np.random.default_rng(0).normal(size=(5, 2))
    posthoc = fitted.fit_posthoc(z, np.zeros(5, dtype=int))
    np.testing.assert_allclose(posthoc.transform_logits(z), z - 0.5 * np.log([0.9, 0.1]))


def test_no_posthoc_is_argmax_and_ldam_keeps_its_logit_scale():
    z = np.random.default_rng(0).normal(size=(8, 2))
    identity = parse_spec("baseline", LABELS).fit([5, 5], LABELS).fit_posthoc(z, np.zeros(8, dtype=int))
    assert identity == PostHoc()
    np.testing.assert_array_equal(identity.decide(softmax(z, axis=1)), z.argmax(axis=1))
    ldam = parse_spec("ldam-drw:scale=30", LABELS).fit([5, 5], LABELS).fit_posthoc(z, np.zeros(8, dtype=int))
    np.testing.assert_allclose(ldam.transform_logits(z), 30 * z)


def test_posthoc_round_trips_through_a_dict():
    logits, y = noisy_logits(200, [85, 15], 0)
    for spec in ("threshold:recall=0.9", "temperature", "logit-adjusted-posthoc", "baseline"):
        posthoc = parse_spec(spec, LABELS).fit([85, 15], LABELS).fit_posthoc(logits, y)
        again = PostHoc.from_dict(posthoc.to_dict())
        assert again == posthoc
        p = softmax(again.transform_logits(logits), axis=1)
        np.testing.assert_array_equal(again.decide(p), posthoc.decide(p))
