"""The comparison statistics: CIs over seeds, vectorised metrics against scikit-learn, the paired bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from scipy import stats
from sklearn import metrics as skm

from imblab.comparison import bootstrap_replicates, bootstrap_weights, median_index, paired_bootstrap, seed_interval
from imblab.evaluation import all_metrics, confusion_matrices, higher_is_better, probability_metrics


def _random_run(rng: np.random.Generator, n: int, n_classes: int, skill: float = 1.0):
    """Labels, probabilities with ties (rounded logits) and decisions that are not always the argmax."""
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)
    logits = np.round(rng.normal(size=(n, n_classes)) + skill * np.eye(n_classes)[y], 1)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    pred[rng.random(n) < 0.15] = 0
    return y, proba, pred


def _sklearn_metrics(y, proba, pred, labels, positive):
    n_classes = len(labels)
    report = skm.classification_report(
        y, pred, labels=range(n_classes), target_names=labels, output_dict=True, zero_division=0
    )
    ref = {
        "accuracy": skm.accuracy_score(y, pred),
        "macro_f1": report["macro avg"]["f1-score"],
        "macro_precision": report["macro avg"]["precision"],
        "macro_recall": report["macro avg"]["recall"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "mcc": skm.matthews_corrcoef(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "g_mean": geometric_mean_score(y, pred, average="multiclass"),
        "nll": skm.log_loss(y, np.clip(proba, 1e-15, 1), labels=range(n_classes)),
    }
    for label in labels:
        ref[f"{label}_precision"] = report[label]["precision"]
        ref[f"{label}_recall"] = report[label]["recall"]
        ref[f"{label}_f1"] = report[label]["f1-score"]
    if n_classes == 2:
        is_pos = y == positive
        ref["pr_auc"] = skm.average_precision_score(is_pos, proba[:, positive])
        ref["roc_auc"] = skm.roc_auc_score(is_pos, proba[:, positive])
        ref["brier"] = skm.brier_score_loss(is_pos, proba[:, positive])
    else:
        ref["pr_auc"] = skm.average_precision_score(np.eye(n_classes)[y], proba, average="macro")
        ref["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
        ref["brier"] = skm.brier_score_loss(y, proba, labels=range(n_classes))
    return ref


def _reference_ece(y, proba, n_bins=15):
    """ECE written as the textbook loop (Guo et al. 2017), bins (lo, hi]."""
    conf, correct = proba.max(axis=1), proba.argmax(axis=1) == y
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


# --------------------------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("values", [[0.81, 0.84, 0.79], [1.0, 2.0], [0.5, 0.52, 0.49, 0.55, 0.51]])
def test_seed_interval_is_students_t(values):
    s = seed_interval(values)
    lo, hi = stats.t.interval(0.95, df=len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert s.n == len(values)
    assert s.mean == pytest.approx(np.mean(values))
    assert s.std == pytest.approx(np.std(values, ddof=1))
    assert (s.low, s.high) == pytest.approx((lo, hi))


def test_seed_interval_one_seed_is_undefined_and_nan_is_ignored():
    one = seed_interval([0.9])
    assert one.mean == 0.9 and math.isnan(one.std) and math.isnan(one.low) and math.isnan(one.high)
    assert seed_interval([0.9, float("nan"), 0.7]).n == 2
    assert math.isnan(seed_interval([]).mean)


def test_median_index_picks_the_lower_middle():
    assert median_index([0.3, 0.1, 0.2]) == 2
    assert median_index([0.4, 0.1, 0.3, 0.2]) == 3
    assert median_index([0.5]) == 0


def test_metric_directions():
    assert higher_is_better("macro_f1") and higher_is_better("spam_recall")
    assert not any(higher_is_better(m) for m in ("ece", "brier", "nll", "seconds"))


# ---------------------------------------------------------------------------------------- vectorised metrics


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_metrics_equal_sklearn_on_every_replicate(n_classes, seed):
    rng = np.random.default_rng(seed)
    labels = [f"c{i}" for i in range(n_classes)]
    y, proba, pred = _random_run(rng, 250, n_classes)
    positive = 1 if n_classes == 2 else None
    weights = bootstrap_weights(len(y), n_boot=4, seed=seed)
    got = all_metrics(y, pred, proba, labels, weights, positive=positive)
    for b in range(len(weights)):
        idx = np.repeat(np.arange(len(y)), weights[b].astype(int))
        ref = _sklearn_metrics(y[idx], proba[idx], pred[idx], labels, positive)
        ref["ece"] = _reference_ece(y[idx], proba[idx])
        for name, value in ref.items():
            assert got[name][b] == pytest.approx(value, abs=1e-9), name
    plain = all_metrics(y, pred, proba, labels, positive=positive)
    ref = _sklearn_metrics(y, proba, pred, labels, positive)
    for name, value in ref.items():
        assert float(plain[name]) == pytest.approx(value, abs=1e-9), name


def test_confusion_matrices_match_sklearn_and_keep_counts():
    rng = np.random.default_rng(3)
    y, _, pred = _random_run(rng, 100, 3)
    np.testing.assert_array_equal(confusion_matrices(y, pred, 3), skm.confusion_matrix(y, pred, labels=range(3)))
    weights = bootstrap_weights(100, 7, seed=3)
    assert weights.shape == (7, 100)
    np.testing.assert_array_equal(weights.sum(axis=1), 100)
    assert confusion_matrices(y, pred, 3, weights).sum(axis=(1, 2)).tolist() == [100.0] * 7


def test_probability_metrics_of_perfect_confidence():
    y = np.array([0, 1, 1, 0])
    proba = np.eye(2)[y]
    got = probability_metrics(y, proba)
    assert float(got["ece"]) == pytest.approx(0.0)
    assert float(got["brier"]) == pytest.approx(0.0)
    assert float(got["nll"]) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------- paired bootstrap


def _study_runs(rng, n=400, skill=1.0, seeds=3):
    y = (rng.random(n) < 0.15).astype(int)
    runs = []
    for _ in range(seeds):
        noise = rng.normal(size=n)
        score = 1 / (1 + np.exp(-(skill * (2 * y - 1) * 1.5 + noise)))
        proba = np.column_stack([1 - score, score])
        runs.append((proba.argmax(axis=1), proba))
    return y, runs


def test_identical_techniques_differ_by_zero_with_an_interval_containing_zero():
    rng = np.random.default_rng(0)
    y, runs = _study_runs(rng)
    diffs = paired_bootstrap(y, runs, runs, ["ham", "spam"], n_boot=200, seed=1)
    for d in diffs.values():
        assert d.difference == pytest.approx(0.0, abs=1e-12)
        assert d.low == pytest.approx(0.0, abs=1e-12) and d.high == pytest.approx(0.0, abs=1e-12)
        assert not d.significant


def test_a_clearly_better_technique_has_an_interval_excluding_zero():
    rng = np.random.default_rng(1)
    y, good = _study_runs(rng, skill=2.0)
    rng = np.random.default_rng(1)
    _, bad = _study_runs(rng, skill=0.3)
    diffs = paired_bootstrap(y, good, bad, ["ham", "spam"], n_boot=300, seed=2)
    for metric in ("macro_f1", "spam_recall", "mcc", "pr_auc", "roc_auc"):
        assert diffs[metric].difference > 0 and diffs[metric].low > 0, metric
        assert diffs[metric].significant and diffs[metric].better
    for metric in ("brier", "nll"):  # lower is better: a negative difference is the better one
        assert diffs[metric].high < 0 and diffs[metric].better, metric


def test_noise_only_difference_is_usually_not_significant():
    rng = np.random.default_rng(5)
    significant = 0
    pairs = 40
    for k in range(pairs):
        # Both techniques' runs for the same labels: same skill, independent noise — no real difference.
        y, runs = _study_runs(rng, skill=1.0, seeds=6)
        a, b = runs[:3], runs[3:]
        d = paired_bootstrap(y, a, b, ["ham", "spam"], n_boot=300, seed=k)["macro_f1"]
        assert d.low < d.difference < d.high
        significant += d.significant
    # A 95 % interval excludes 0 for about 5 % of such pairs; an interval that is too narrow would flag many more.
    assert significant / pairs <= 0.15, f"{significant} of {pairs} noise-only differences called significant"


def test_bootstrap_is_deterministic_for_a_seed_and_changes_with_it():
    rng = np.random.default_rng(2)
    y, a = _study_runs(rng)
    _, b = _study_runs(rng, skill=0.8)
    first = paired_bootstrap(y, a, b, ["ham", "spam"], n_boot=200, seed=7)
    again = paired_bootstrap(y, a, b, ["ham", "spam"], n_boot=200, seed=7)
    other = paired_bootstrap(y, a, b, ["ham", "spam"], n_boot=200, seed=8)
    assert first == again
    assert (first["macro_f1"].low, first["macro_f1"].high) != (other["macro_f1"].low, other["macro_f1"].high)


def test_bootstrap_of_a_full_study_gives_every_metric_per_replicate():
    """8 techniques × 3 seeds × 558 test examples × 1000 replicates, every metric (its speed: benchmarks/)."""
    rng = np.random.default_rng(0)
    y = (rng.random(558) < 0.134).astype(int)
    runs = {}
    for t in range(8):
        runs[f"t{t}"] = []
        for _ in range(3):
            proba = rng.dirichlet([1, 1], size=558)
            runs[f"t{t}"].append((proba.argmax(axis=1), proba))
    reps = bootstrap_replicates(y, runs, ["ham", "spam"], bootstrap_weights(558, 1000, seed=0), positive=1)
    assert set(reps) == set(runs)
    for technique in runs:
        assert reps[technique]["macro_f1"].shape == (1000,)
        assert np.isfinite(reps[technique]["macro_f1"]).all()
    # A random classifier's macro-F1 hovers around 0.45 (balanced guesses on a 13 % minority), never 0 or 1.
    assert 0.3 < float(np.median(reps["t0"]["macro_f1"])) < 0.6


def test_comparison_and_metric_catalogue_load_without_scikit_learn() -> None:
    # `imblab compare` re-runs and `imblab report` only read finished runs: importing scikit-learn there
    # would cost seconds (issue 5's re-run target), so the metric catalogue must stay free of it.
    import subprocess
    import sys

    code = ("import sys, imblab.comparison, imblab.evaluation, imblab.study; "
            "assert imblab.evaluation.METRICS['ece']['higher_is_better'] is False; "
            "print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
