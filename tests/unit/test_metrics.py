"""imblab.evaluation against scikit-learn / imbalanced-learn on shared inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    classification_report,
    f1_score,
    log_loss,
    matthews_corrcoef,
    precision_recall_curve,
    roc_auc_score,
)

from imblab.evaluation import (
    METRICS,
    classification_report_text,
    evaluate,
    expected_calibration_error,
    flatten_metrics,
    metric_info,
    reliability_curve,
)
from imblab.evaluation import precision_recall_curve as our_precision_recall_curve


def _inputs(n_classes: int, seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Imbalanced truth; probabilities that carry some signal about it.
    prior = np.linspace(1.0, 0.2, n_classes)
    y = rng.choice(n_classes, size=n, p=prior / prior.sum())
    logits = rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_references(seed: int) -> None:
    y, proba = _inputs(2, seed)
    labels = ["ham", "spam"]
    out = evaluate(y, proba, labels)
    pred = proba.argmax(axis=1)
    minority = int(np.argmin(np.bincount(y)))
    assert out["minority_label"] == labels[minority]
    pos = (y == minority).astype(int)
    assert out["pr_auc"] == pytest.approx(average_precision_score(pos, proba[:, minority]))
    assert out["roc_auc"] == pytest.approx(roc_auc_score(pos, proba[:, minority]))
    assert out["brier"] == pytest.approx(brier_score_loss(pos, proba[:, minority]))
    assert out["mcc"] == pytest.approx(matthews_corrcoef(y, pred))
    assert out["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert out["g_mean"] == pytest.approx(geometric_mean_score(y, pred))
    assert out["nll"] == pytest.approx(log_loss(y, proba))
    assert out["report"] == classification_report(y, pred, target_names=labels, output_dict=True, zero_division=0)
    assert out["mean_probability"]["spam"] == pytest.approx(proba[:, 1].mean())
    assert np.asarray(out["confusion_matrix"]).sum() == len(y)


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_metrics_match_references(seed: int) -> None:
    y, proba = _inputs(3, seed)
    labels = ["a", "b", "c"]
    pred = proba.argmax(axis=1)
    out = evaluate(y, proba, labels)
    onehot = np.eye(3)[y]
    assert out["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    assert out["pr_auc"] == pytest.approx(average_precision_score(onehot, proba, average="macro"))
    assert out["brier"] == pytest.approx(brier_score_loss(y, proba))
    assert out["g_mean"] == pytest.approx(geometric_mean_score(y, pred, average="multiclass"))
    flat = flatten_metrics(out, labels)
    assert flat["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert flat["weighted_f1"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert flat["b_f1"] == pytest.approx(f1_score(y, pred, average=None)[1])


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 4).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=40))))
def test_classification_report_is_scikit_learns(case: tuple[int, list[tuple[int, int]]]) -> None:
    # Absent classes, a class never predicted, a single class: every value and key as scikit-learn's.
    n_classes, pairs = case
    y, pred = (np.array(column) for column in zip(*pairs))
    labels = [f"c{k}" for k in range(n_classes)]
    proba = np.eye(n_classes)[pred] * 0.8 + 0.2 / n_classes
    ours = evaluate(y, proba, labels, pred=pred)["report"]
    theirs = classification_report(y, pred, labels=list(range(n_classes)), target_names=labels, output_dict=True,
                                   zero_division=0)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key] == (pytest.approx(value, abs=1e-12) if isinstance(value, float)
                             else {k: pytest.approx(v, abs=1e-12) for k, v in value.items()})


@pytest.mark.filterwarnings("ignore:No positive class found:UserWarning")
@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=1, max_size=40), st.integers(0, 4))
def test_classification_report_text_and_pr_curve_are_scikit_learns(pairs: list[tuple[bool, int]], digits: int) -> None:
    # The report's text (label lengths, digits) and the precision-recall curve (tied scores, no positive).
    y = np.array([int(p) for p, _ in pairs])
    score = np.array([k / 6 for _, k in pairs])
    labels = ["ok", "a much longer label name"]
    pred = (score > 0.5).astype(int)
    proba = np.c_[1 - score, score]
    # scikit-learn prints the supports as floats ("1.0") when y_true has one class or no decision is right (its
    # support array then comes back as floats); ours are always counts.
    if len(set(y)) == 2 and np.any(y == pred):
        ours = classification_report_text(evaluate(y, proba, labels, pred=pred)["report"], digits=digits)
        assert ours == classification_report(y, pred, labels=[0, 1], target_names=labels, digits=digits,
                                             zero_division=0)
    for mine, theirs in zip(our_precision_recall_curve(y == 1, score), precision_recall_curve(y == 1, score)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


def test_explicit_decisions_are_used() -> None:
    y, proba = _inputs(2, 3)
    all_minority = np.ones_like(y)
    out = evaluate(y, proba, ["ham", "spam"], pred=all_minority)
    assert out["report"]["spam"]["recall"] == 1.0
    assert out["report"]["ham"]["recall"] == 0.0
    # Threshold-free metrics do not depend on the decisions.
    assert out["roc_auc"] == evaluate(y, proba, ["ham", "spam"])["roc_auc"]


def test_auc_of_an_absent_class_is_nan() -> None:
    y = np.zeros(10, dtype=int)
    proba = np.tile([0.9, 0.1], (10, 1))
    out = evaluate(y, proba, ["ham", "spam"], minority_label="spam")
    assert math.isnan(out["roc_auc"])


def _ece_reference(y: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    # Straight from Guo et al. (2017), eq. 3, one bin at a time.
    conf, pred = proba.max(axis=1), proba.argmax(axis=1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b > 0 else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs((pred[inside] == y[inside]).mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("n_classes,seed", [(2, 0), (2, 5), (3, 1), (4, 2)])
def test_ece_matches_binned_reference(n_classes: int, seed: int) -> None:
    y, proba = _inputs(n_classes, seed)
    assert expected_calibration_error(y, proba) == pytest.approx(_ece_reference(y, proba))


def test_ece_zero_when_calibrated_and_large_when_overconfident() -> None:
    # Confidence 0.75 everywhere and 75 % correct: perfectly calibrated.
    y = np.array([0, 0, 0, 1] * 25)
    proba = np.tile([0.75, 0.25], (100, 1))
    assert expected_calibration_error(y, proba) == pytest.approx(0.0)
    # Confidence 0.99, 50 % correct.
    y = np.array([0, 1] * 50)
    proba = np.tile([0.99, 0.01], (100, 1))
    assert expected_calibration_error(y, proba) == pytest.approx(0.49)


def test_reliability_curve_counts_every_example() -> None:
    y, proba = _inputs(3, 4)
    curve = reliability_curve(y, proba)
    assert sum(curve["count"]) == len(y)
    assert len(curve["bin_lower"]) == 15
    filled = [c for c, n in zip(curve["confidence"], curve["count"]) if n]
    assert all(lo <= c <= hi for c, lo, hi, n in zip(curve["confidence"], curve["bin_lower"], curve["bin_upper"],
                                                      curve["count"]) if n)
    assert filled


def test_every_flat_metric_has_metadata() -> None:
    y, proba = _inputs(2, 0)
    flat = flatten_metrics(evaluate(y, proba, ["ham", "spam"]), ["ham", "spam"])
    for name in flat:
        info = metric_info(name)
        assert {"higher_is_better", "title", "description"} <= set(info)
    assert METRICS["ece"]["higher_is_better"] is False
    assert metric_info("spam_recall")["higher_is_better"] is True
    with pytest.raises(KeyError):
        metric_info("not_a_metric")
