"""Every metric imblab reports, as pure NumPy functions, optionally vectorised over example weights.

One implementation per metric (torchmetrics' rule): a run's stored metrics (:func:`~imblab.evaluation.evaluate`)
and the comparison's paired bootstrap both call these functions, so their numbers agree. They are tested
against scikit-learn and imbalanced-learn (``tests/unit/test_metrics.py``, ``tests/unit/test_statistics.py``)
and import neither, so reading a finished study stays fast.

Weights make a bootstrap cheap: a replicate is a vector of resampling counts (``np.bincount`` of its indices),
so a confusion matrix for all replicates is one matrix product of per-example terms, and ranking metrics are
weighted cumulative sums over the examples sorted once.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..data import minority_index
__all__ = [
    "class_f1",
    "macro_f1",
    "DEFAULT_BINS",
    "all_metrics",
    "calibration_bins",
    "confusion_matrices",
    "confusion_metrics",
    "example_terms",
    "metrics_from_sums",
    "probability_metrics",
    "ranking_metrics",
]

#: Bins of the expected calibration error and of the reliability diagrams (Guo et al. 2017 use 15).
DEFAULT_BINS = 15


def calibration_bins(score: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """The equal-width bin of each score in [0, 1]: bins are (lo, hi], a score of exactly 0 falls in the first.

    The one binning of imblab: the ECE, :func:`~imblab.evaluation.reliability_curve` and the report's
    reliability diagrams all use it.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, score, side="left") - 1, 0, n_bins - 1)


def _weighted_sums(terms: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column sums, or one weighted sum per row of ``weights`` (``(B, n)``): the only pass over examples."""
    return terms.sum(axis=0) if weights is None else weights @ terms


def _total(n: int, weights: np.ndarray | None) -> np.ndarray | float:
    return float(n) if weights is None else weights.sum(axis=1)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


# ------------------------------------------------------------------------------------------ decisions


def _decision_terms(y_true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, C²)`` one-hot cell of each example in the confusion matrix."""
    codes = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(pred, dtype=np.int64)
    onehot = np.zeros((len(codes), n_classes**2))
    onehot[np.arange(len(codes)), codes] = 1.0
    return onehot


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
    sums = _weighted_sums(_decision_terms(y_true, pred, n_classes), weights)
    return sums.reshape(*sums.shape[:-1], n_classes, n_classes)


def class_f1(cm: np.ndarray) -> np.ndarray:
    """Per-class F1 of a (…, C, C) confusion matrix (rows true, columns predicted): 2·TP / (support + predicted),
    0 where a class has neither true nor predicted rows (scikit-learn's ``zero_division=0``)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    return _div(2 * tp, cm.sum(axis=-1) + cm.sum(axis=-2))


def macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Macro-averaged F1 of decisions ``pred`` against ``y`` (class indices): the mean of :func:`class_f1`. The one
    macro-F1 of imblab: metrics, threshold search and fine-tuning's validation score all call it."""
    y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    cm = np.bincount(y * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    return float(class_f1(cm).mean())


def confusion_metrics(cm: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """Every decision metric of a confusion matrix (or a stack of them, leading axes kept).

    Keys follow :func:`~imblab.evaluation.flatten_metrics`: ``<label>_precision``, ``<label>_recall``,
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
    f1 = class_f1(cm)
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


# ------------------------------------------------------------------------------------------ probabilities


def _probability_terms(y_true: np.ndarray, proba: np.ndarray, n_bins: int) -> np.ndarray:
    """``(n, n_bins + 2)`` per-example terms: ECE bin gaps (accuracy − confidence), Brier, NLL."""
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n, n_classes = proba.shape
    rows = np.arange(n)
    onehot = np.zeros_like(proba)
    onehot[rows, y_true] = 1.0
    terms = np.zeros((n, n_bins + 2))
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(np.float64)
    terms[rows, calibration_bins(confidence, n_bins)] = correct - confidence
    terms[:, -2] = ((proba - onehot) ** 2).sum(axis=1) * (0.5 if n_classes == 2 else 1.0)
    terms[:, -1] = -np.log(np.clip(proba[rows, y_true], 1e-15, 1.0))
    return terms


def _probability_from_sums(sums: np.ndarray, total: np.ndarray | float) -> dict[str, np.ndarray]:
    return {
        "ece": np.abs(sums[..., :-2]).sum(axis=-1) / total,
        "brier": sums[..., -2] / total,
        "nll": sums[..., -1] / total,
    }


def probability_metrics(
    y_true: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None, n_bins: int = DEFAULT_BINS
) -> dict[str, np.ndarray]:
    """Calibration metrics of probabilities: ``ece``, ``brier`` and ``nll``.

    * ``ece`` — top-label expected calibration error, ``sum_b (n_b / n) |accuracy_b − confidence_b|`` over
      ``n_bins`` equal-width bins of the largest probability (Naeini et al. AAAI 2015; Guo et al. 2017,
      "On Calibration of Modern Neural Networks").
    * ``brier`` — mean squared error of the probability vector (Brier 1950), halved for two classes so that
      it equals scikit-learn's ``brier_score_loss`` in both cases.
    * ``nll`` — mean negative log-likelihood of the true label, probabilities clipped to ``[1e-15, 1]``
      (scikit-learn's ``log_loss``).
    """
    sums = _weighted_sums(_probability_terms(y_true, proba, n_bins), weights)
    return _probability_from_sums(sums, _total(len(y_true), weights))


# ------------------------------------------------------------------------------------------ ranking


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


def precision_recall_curve(is_pos: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``precision_recall_curve(is_pos, score)``: (precision, recall, thresholds), one operating
    point per distinct score from the highest threshold down, then (1, 0) appended; thresholds increasing."""
    is_pos = np.asarray(is_pos, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    s, positive = score[order], is_pos[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]  # the last example of each distinct score
    tps = np.cumsum(positive)[last].astype(np.float64)
    fps = 1 + last - tps
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], s[last][::-1]


def ranking_metrics(
    y_true: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None, positive: int | None = None
) -> dict[str, np.ndarray]:
    """``pr_auc`` (average precision) and ``roc_auc``; NaN where undefined (a class absent from ``y_true``).

    Binary: of class ``positive`` (default: the rarer class in ``y_true``), scored by its probability.
    Multiclass: the macro average over one-vs-rest problems, as scikit-learn's ``average="macro"``.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = proba.shape[1]
    w_t = np.ones((len(y_true), 1)) if weights is None else np.ascontiguousarray(weights.T)
    if n_classes == 2:
        if positive is None:
            positive = minority_index(np.bincount(y_true, minlength=2))
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


# ------------------------------------------------------------------------------------------ all together


def example_terms(y_true: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, n_classes: int) -> np.ndarray:
    """The per-example terms whose (weighted) column sums give every decision and probability metric.

    Summed with :func:`metrics_from_sums`; a bootstrap sums the terms of many runs in one matrix product.
    """
    terms = _decision_terms(y_true, pred, n_classes)
    if proba is None:
        return terms
    return np.hstack([terms, _probability_terms(y_true, proba, DEFAULT_BINS)])


def metrics_from_sums(
    sums: np.ndarray,
    y_true: np.ndarray,
    proba: np.ndarray | None,
    labels: Sequence[str],
    weights: np.ndarray | None = None,
    positive: int | None = None,
) -> dict[str, np.ndarray]:
    """Every metric from the (weighted) column sums of :func:`example_terms` (ranking metrics from ``proba``)."""
    n_classes = len(labels)
    cm = sums[..., : n_classes**2].reshape(*sums.shape[:-1], n_classes, n_classes)
    out = confusion_metrics(cm, labels)
    if proba is not None:
        out.update(_probability_from_sums(sums[..., n_classes**2 :], _total(len(y_true), weights)))
        out.update(ranking_metrics(y_true, proba, weights, positive))
    return out


def all_metrics(
    y_true: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    labels: Sequence[str],
    weights: np.ndarray | None = None,
    positive: int | None = None,
) -> dict[str, np.ndarray]:
    """Decision, ranking and calibration metrics together (the last two only with ``proba``).

    Args:
        y_true: ``(n,)`` true label indices.
        pred: ``(n,)`` decisions.
        proba: ``(n, C)`` probabilities, or ``None`` for decision metrics only.
        labels: Class names, in index order.
        weights: ``(B, n)`` example weights (bootstrap counts): every value becomes a ``(B,)`` array.
        positive: The class of binary PR-/ROC-AUC (default: the rarer class).

    Returns:
        Metric name (as in :data:`~imblab.evaluation.METRICS`, per-label ones included) → value.
    """
    terms = example_terms(y_true, pred, proba, len(labels))
    return metrics_from_sums(_weighted_sums(terms, weights), y_true, proba, labels, weights, positive)
