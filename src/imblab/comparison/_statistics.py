"""Honest statistics for a techniques × seeds study: CIs over seeds and a paired bootstrap over test examples.

Two sources of uncertainty are reported separately:

* **Seeds** — training randomness. :func:`seed_interval` gives mean, standard deviation (``ddof=1``) and a
  Student-t 95 % confidence interval over the seeds of one technique.
* **Test examples** — the finite test split. :func:`paired_bootstrap` resamples test examples with
  replacement (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13 percentile intervals).
  Every replicate draws ONE set of indices and applies it to both techniques (all runs share the test split),
  so the comparison is paired (cf. Koehn 2004, "Statistical significance tests for machine translation
  evaluation"); within a replicate the metric is averaged over each technique's seeds.

The metrics are vectorised over replicates: a replicate is a vector of resampling counts (``np.bincount`` of
its indices), so a confusion matrix for all replicates is one matrix product, and ranking metrics are
weighted cumulative sums over the examples sorted once. They equal scikit-learn's on the resampled data
(``tests/unit/test_statistics.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit  # Student t quantile; scipy.stats costs ~2 s to import

from ..evaluation import METRICS, higher_is_better

__all__ = [
    "LOWER_IS_BETTER",
    "BootstrapDifference",
    "SeedSummary",
    "all_metrics",
    "bootstrap_replicates",
    "bootstrap_weights",
    "confusion_matrices",
    "confusion_metrics",
    "higher_is_better",
    "median_index",
    "paired_bootstrap",
    "probability_metrics",
    "ranking_metrics",
    "seed_interval",
]

#: Metrics where a smaller value is better; every other metric is "higher is better".
LOWER_IS_BETTER = frozenset(
    {name for name, info in METRICS.items() if not info["higher_is_better"]} | {"log_loss", "seconds"}
)

#: Bins of the expected calibration error (Guo et al. 2017 use 15 equal-width bins).
ECE_BINS = 15


# --------------------------------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class SeedSummary:
    """Mean, standard deviation (``ddof=1``) and Student-t confidence interval over seeds."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def seed_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> SeedSummary:
    """Summarise one metric over seeds.

    Args:
        values: The metric of each seed; non-finite values are ignored.
        confidence: Coverage of the two-sided interval.

    Returns:
        A :class:`SeedSummary`. With one seed, ``std``, ``low`` and ``high`` are NaN (undefined);
        with no finite value everything is NaN.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return SeedSummary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return SeedSummary(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * std / math.sqrt(n)
    return SeedSummary(n, mean, std, mean - half, mean + half)


def median_index(values: Sequence[float] | np.ndarray) -> int:
    """Index of the median element (the lower middle one for an even count; NaN sorts last)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("median_index of an empty sequence")
    order = np.argsort(np.where(np.isnan(x), np.inf, x), kind="stable")
    n_finite = max(int(np.isfinite(x).sum()), 1)
    return int(order[(n_finite - 1) // 2])


# ------------------------------------------------------------------------------------------ vectorised metrics


def bootstrap_weights(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Resampling counts of ``n_boot`` bootstrap replicates of ``n`` examples.

    Returns:
        ``(n_boot, n)`` float array: how often each example was drawn in each replicate (rows sum to ``n``).
    """
    if n <= 0 or n_boot <= 0:
        raise ValueError(f"need n > 0 and n_boot > 0, got n={n}, n_boot={n_boot}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    idx += np.arange(n_boot)[:, None] * n
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def _decision_columns(y_true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, C²)`` one-hot cell of each example in the confusion matrix."""
    codes = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(pred, dtype=np.int64)
    onehot = np.zeros((len(codes), n_classes**2))
    onehot[np.arange(len(codes)), codes] = 1.0
    return onehot


def _sums(columns: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column sums, or one weighted sum per row of ``weights`` (``(B, K)``): the only pass over examples."""
    return columns.sum(axis=0) if weights is None else weights @ columns


def confusion_matrices(
    y_true: np.ndarray, pred: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Confusion matrices (rows true, columns predicted), one per row of ``weights``.

    Args:
        y_true: ``(n,)`` true label indices.
        pred: ``(n,)`` predicted label indices.
        n_classes: Number of classes ``C``.
        weights: ``(B, n)`` example weights (bootstrap counts); ``None`` for the plain ``(C, C)`` matrix.

    Returns:
        ``(C, C)`` or ``(B, C, C)`` float array.
    """
    sums = _sums(_decision_columns(y_true, pred, n_classes), weights)
    return sums.reshape(*sums.shape[:-1], n_classes, n_classes)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def confusion_metrics(cm: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """Every decision metric of a confusion matrix (or a stack of them, leading axes kept).

    Keys follow ``imblab.evaluation.flatten_metrics``: ``<label>_precision``, ``<label>_recall``,
    ``<label>_f1``, ``accuracy``, ``macro_precision``, ``macro_recall``, ``macro_f1``, ``weighted_f1``,
    ``balanced_accuracy``, ``mcc`` (Gorodkin 2004's multiclass form, as scikit-learn) and ``g_mean``
    (geometric mean of per-class recalls, as imbalanced-learn).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    n = support.sum(axis=-1)
    precision = _div(tp, predicted)
    recall = _div(tp, support)
    f1 = _div(2 * tp, support + predicted)
    out: dict[str, np.ndarray] = {}
    for c, label in enumerate(labels):
        out[f"{label}_precision"] = precision[..., c]
        out[f"{label}_recall"] = recall[..., c]
        out[f"{label}_f1"] = f1[..., c]
    present = support > 0
    correct = tp.sum(axis=-1)
    cov_tp = correct * n - (support * predicted).sum(axis=-1)
    cov_tt = n**2 - (support**2).sum(axis=-1)
    cov_pp = n**2 - (predicted**2).sum(axis=-1)
    out.update(
        accuracy=_div(correct, n),
        macro_precision=precision.mean(axis=-1),
        macro_recall=recall.mean(axis=-1),
        macro_f1=f1.mean(axis=-1),
        weighted_f1=_div((f1 * support).sum(axis=-1), n),
        balanced_accuracy=_div((recall * present).sum(axis=-1), present.sum(axis=-1)),
        mcc=_div(cov_tp, np.sqrt(cov_tt * cov_pp)),
        g_mean=np.prod(recall, axis=-1) ** (1.0 / cm.shape[-1]),
    )
    return out


def _probability_columns(y_true: np.ndarray, proba: np.ndarray, n_bins: int) -> np.ndarray:
    """``(n, n_bins + 2)`` per-example terms: ECE bin gaps (accuracy − confidence), Brier, NLL."""
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n, n_classes = proba.shape
    rows = np.arange(n)
    onehot = np.zeros_like(proba)
    onehot[rows, y_true] = 1.0
    columns = np.zeros((n, n_bins + 2))
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(np.float64)
    # Bins are (lo, hi]; a confidence of exactly 0 falls in the first bin.
    bins = np.clip(np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1), confidence, side="left") - 1, 0, n_bins - 1)
    columns[rows, bins] = correct - confidence
    columns[:, -2] = ((proba - onehot) ** 2).sum(axis=1) * (0.5 if n_classes == 2 else 1.0)
    columns[:, -1] = -np.log(np.clip(proba[rows, y_true], 1e-15, 1.0))
    return columns


def _probability_from_sums(sums: np.ndarray, total: np.ndarray | float) -> dict[str, np.ndarray]:
    return {
        "ece": np.abs(sums[..., :-2]).sum(axis=-1) / total,
        "brier": sums[..., -2] / total,
        "nll": sums[..., -1] / total,
    }


def _total(n: int, weights: np.ndarray | None) -> np.ndarray | float:
    return float(n) if weights is None else weights.sum(axis=1)


def probability_metrics(
    y_true: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None, n_bins: int = ECE_BINS
) -> dict[str, np.ndarray]:
    """Calibration metrics of probabilities: ``ece``, ``brier`` and ``nll``.

    * ``ece`` — top-label expected calibration error with ``n_bins`` equal-width bins (Guo et al. 2017,
      "On Calibration of Modern Neural Networks").
    * ``brier`` — mean squared error of the probability vector (Brier 1950), halved for two classes so that
      it equals scikit-learn's ``brier_score_loss`` in both cases.
    * ``nll`` — mean negative log-likelihood of the true label, probabilities clipped to ``[1e-15, 1]``
      (scikit-learn's ``log_loss``).
    """
    sums = _sums(_probability_columns(y_true, proba, n_bins), weights)
    return _probability_from_sums(sums, _total(len(y_true), weights))


def _binary_ranking(is_pos: np.ndarray, score: np.ndarray, weights_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average precision and ROC AUC of one positive class for each column of ``weights_t`` (``(n, B)``).

    Examples are sorted by score once; tied scores form one operating point, as in scikit-learn's
    ``_binary_clf_curve``. AP sums, over positives, their weight times the precision at their score;
    ROC AUC is the Mann-Whitney form (ties count one half), which equals the trapezoidal area.
    """
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    w = weights_t[order]
    pos_idx = np.flatnonzero(is_pos[order])
    n_rep = w.shape[1]
    if len(pos_idx) == 0:
        nan = np.full(n_rep, np.nan)
        return nan, nan
    new_group = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:] - 1, len(s) - 1]
    group = (np.cumsum(new_group) - 1)[pos_idx]
    cum = np.cumsum(w, axis=0)  # weight at or above each sorted position
    w_pos = w[pos_idx]
    cum_pos = np.cumsum(w_pos, axis=0)  # positive weight up to each positive
    end, start = ends[group], starts[group]
    tp_end = cum_pos[np.searchsorted(pos_idx, end, side="right") - 1]
    k_before = np.searchsorted(pos_idx, start, side="left")
    tp_before = np.where((k_before > 0)[:, None], cum_pos[np.maximum(k_before - 1, 0)], 0.0)
    c_end = cum[end]
    c_before = np.where((start > 0)[:, None], cum[np.maximum(start - 1, 0)], 0.0)
    n_pos = cum_pos[-1]
    n_neg = cum[-1] - n_pos
    ap = _div((w_pos * _div(tp_end, c_end)).sum(axis=0), n_pos)
    below = n_neg - 0.5 * ((c_end - tp_end) + (c_before - tp_before))  # negatives scored lower, ties half
    auc = _div((w_pos * below).sum(axis=0), n_pos * n_neg)
    ap = np.where(n_pos > 0, ap, np.nan)
    auc = np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)
    return ap, auc


def ranking_metrics(
    y_true: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None, positive: int | None = None
) -> dict[str, np.ndarray]:
    """``pr_auc`` (average precision) and ``roc_auc``.

    Binary: of class ``positive`` (default: the rarer class in ``y_true``), scored by its probability.
    Multiclass: the macro average over one-vs-rest problems, as scikit-learn's ``average="macro"``.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = proba.shape[1]
    w_t = np.ones((len(y_true), 1)) if weights is None else np.ascontiguousarray(weights.T)
    if n_classes == 2:
        if positive is None:
            positive = int(np.argmin(np.bincount(y_true, minlength=2)))
        classes = [positive]
    else:
        classes = list(range(n_classes))
    results = [_binary_ranking(y_true == c, proba[:, c], w_t) for c in classes]
    # Macro over the classes present in the (resampled) labels, as scikit-learn skips absent ones.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        ap = np.nanmean([r[0] for r in results], axis=0)
        auc = np.nanmean([r[1] for r in results], axis=0)
    if weights is None:
        return {"pr_auc": ap[0], "roc_auc": auc[0]}
    return {"pr_auc": ap, "roc_auc": auc}


def all_metrics(
    y_true: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    labels: Sequence[str],
    weights: np.ndarray | None = None,
    positive: int | None = None,
) -> dict[str, np.ndarray]:
    """Decision, ranking and calibration metrics together (the last two only with ``proba``)."""
    return _metrics_from_columns(
        _example_columns(y_true, pred, proba, len(labels)), y_true, proba, labels, weights, positive
    )


def _example_columns(y_true: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, n_classes: int) -> np.ndarray:
    columns = _decision_columns(y_true, pred, n_classes)
    if proba is None:
        return columns
    return np.hstack([columns, _probability_columns(y_true, proba, ECE_BINS)])


def _metrics_from_columns(
    columns: np.ndarray,
    y_true: np.ndarray,
    proba: np.ndarray | None,
    labels: Sequence[str],
    weights: np.ndarray | None,
    positive: int | None,
    sums: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    n_classes = len(labels)
    if sums is None:
        sums = _sums(columns, weights)
    cm = sums[..., : n_classes**2].reshape(*sums.shape[:-1], n_classes, n_classes)
    out = confusion_metrics(cm, labels)
    if proba is not None:
        out.update(_probability_from_sums(sums[..., n_classes**2 :], _total(len(y_true), weights)))
        out.update(ranking_metrics(y_true, proba, weights, positive))
    return out


# ------------------------------------------------------------------------------------------ paired bootstrap

Run = tuple[np.ndarray, "np.ndarray | None"]  # (pred, proba) of one seed


def bootstrap_replicates(
    y_true: np.ndarray,
    runs: Mapping[str, Sequence[Run]],
    labels: Sequence[str],
    weights: np.ndarray,
    positive: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Each technique's metrics in every replicate, averaged over its seeds.

    Args:
        y_true: ``(n,)`` the shared test labels.
        runs: technique → its seeds' ``(pred, proba)``.
        labels: Class names.
        weights: ``(B, n)`` from :func:`bootstrap_weights`; the same for every technique (paired).
        positive: The class of binary ranking metrics.

    Returns:
        technique → metric → ``(B,)`` values.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    flat = [(technique, pred, proba) for technique, seeds in runs.items() for pred, proba in seeds]
    blocks = [_example_columns(y_true, pred, proba, len(labels)) for _, pred, proba in flat]
    # One matrix product for every run's per-example terms: the bulk of the work, done by BLAS.
    all_sums = weights @ np.hstack(blocks)
    edges = np.cumsum([0] + [b.shape[1] for b in blocks])
    per_run: dict[str, list[dict[str, np.ndarray]]] = {technique: [] for technique in runs}
    for i, (technique, pred, proba) in enumerate(flat):
        sums = all_sums[:, edges[i] : edges[i + 1]]
        per_run[technique].append(
            _metrics_from_columns(blocks[i], y_true, proba, labels, weights, positive, sums=sums)
        )
    return {
        technique: {m: np.mean([s[m] for s in seeds], axis=0) for m in seeds[0]}
        for technique, seeds in per_run.items()
    }


@dataclass(frozen=True)
class BootstrapDifference:
    """``technique − baseline`` on one metric, with a percentile bootstrap interval."""

    metric: str
    technique_value: float
    baseline_value: float
    difference: float
    low: float
    high: float
    n_boot: int

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def better(self) -> bool | None:
        """Whether the technique is significantly better (``None`` when not significant)."""
        if not self.significant:
            return None
        return (self.difference > 0) == higher_is_better(self.metric)


def difference_interval(
    metric: str,
    technique_reps: np.ndarray,
    baseline_reps: np.ndarray,
    technique_value: float,
    baseline_value: float,
    confidence: float = 0.95,
) -> BootstrapDifference:
    """A :class:`BootstrapDifference` from paired replicate values (NaN replicates are ignored)."""
    diff = np.asarray(technique_reps, dtype=np.float64) - np.asarray(baseline_reps, dtype=np.float64)
    alpha = (1 - confidence) / 2
    if np.isfinite(diff).any():
        low, high = np.nanquantile(diff, [alpha, 1 - alpha])
    else:
        low = high = math.nan
    return BootstrapDifference(
        metric=metric,
        technique_value=float(technique_value),
        baseline_value=float(baseline_value),
        difference=float(technique_value - baseline_value),
        low=float(low),
        high=float(high),
        n_boot=len(diff),
    )


def paired_bootstrap(
    y_true: np.ndarray,
    technique_runs: Sequence[Run],
    baseline_runs: Sequence[Run],
    labels: Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    positive: int | None = None,
) -> dict[str, BootstrapDifference]:
    """Paired bootstrap of ``technique − baseline`` over test examples pooled over seeds.

    Args:
        y_true: ``(n,)`` test labels shared by all runs.
        technique_runs: The technique's seeds as ``(pred, proba)``; ``proba`` may be ``None``
            (then only decision metrics are available).
        baseline_runs: The same for the baseline.
        labels: Class names.
        metrics: Metric names to return (default: all computed).
        n_boot: Number of replicates.
        seed: Seed of the resampling.
        confidence: Coverage of the percentile interval.
        positive: The class of binary PR/ROC AUC (default: the rarer class).

    Returns:
        metric → :class:`BootstrapDifference`; the point estimate is the difference of seed-averaged
        metrics on the full test split.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    runs = {"technique": technique_runs, "baseline": baseline_runs}
    weights = bootstrap_weights(len(y_true), n_boot, seed)
    reps = bootstrap_replicates(y_true, runs, labels, weights, positive)
    point = {
        name: {
            m: float(np.mean(v))
            for m, v in _stack([all_metrics(y_true, p, q, labels, None, positive) for p, q in seeds]).items()
        }
        for name, seeds in runs.items()
    }
    names = metrics or list(reps["technique"])
    return {
        m: difference_interval(
            m, reps["technique"][m], reps["baseline"][m], point["technique"][m], point["baseline"][m], confidence
        )
        for m in names
    }


def _stack(per_seed: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {m: np.array([float(s[m]) for s in per_seed]) for m in per_seed[0]}
