"""Classification metrics as pure functions of (true labels, probabilities, decisions).

Every number comes from scikit-learn or imbalanced-learn where they have it; only
the expected calibration error is computed here (see ``_calibration``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sklearn
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    classification_report,
    confusion_matrix,
    log_loss,
    matthews_corrcoef,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from ._calibration import expected_calibration_error
from ._catalogue import METRICS, metric_info

__all__ = ["METRICS", "evaluate", "flatten_metrics", "metric_info"]  # METRICS, metric_info: from _catalogue


def _minority(y_true: np.ndarray, n_classes: int) -> int:
    counts = np.bincount(y_true, minlength=n_classes)
    present = np.flatnonzero(counts > 0)
    return int(present[np.argmin(counts[present])]) if len(present) else 0


def _nan_if_undefined(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    # AUCs are undefined when a class is absent from y_true; report nan rather than fail.
    try:
        return float(fn(*args, **kwargs))
    except ValueError:
        return math.nan


def evaluate(
    y_true: Sequence[int] | np.ndarray,
    proba: np.ndarray,
    labels: Sequence[str],
    pred: Sequence[int] | np.ndarray | None = None,
    *,
    minority_label: str | None = None,
) -> dict[str, Any]:
    """All metrics of one split.

    Args:
        y_true: (n,) true class indices into ``labels``.
        proba: (n, C) probabilities, rows summing to 1.
        labels: class names, in index order.
        pred: (n,) decisions; defaults to ``argmax(proba)``.
        minority_label: the positive class of binary PR-/ROC-AUC and Brier score; defaults
            to the least frequent class in ``y_true``.

    Returns:
        ``report`` (scikit-learn ``classification_report(output_dict=True)``), ``pr_auc``, ``roc_auc``,
        ``mcc``, ``balanced_accuracy``, ``g_mean``, ``ece``, ``brier``, ``nll``, ``mean_probability``
        (label -> mean probability), ``confusion_matrix`` (rows true, columns predicted) and
        ``minority_label``.
    """
    # The inputs are checked above and by the metrics themselves; scikit-learn's check of each
    # public function's arguments only costs time (a fifth of an evaluation of a few hundred rows).
    with sklearn.config_context(skip_parameter_validation=True):
        return _evaluate(y_true, proba, labels, pred, minority_label)


def _evaluate(
    y_true: Sequence[int] | np.ndarray,
    proba: np.ndarray,
    labels: Sequence[str],
    pred: Sequence[int] | np.ndarray | None,
    minority_label: str | None,
) -> dict[str, Any]:
    labels = list(labels)
    n_classes = len(labels)
    y = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), n_classes):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(y)}, {n_classes})")
    decisions = proba.argmax(axis=1) if pred is None else np.asarray(pred, dtype=np.int64)
    class_ids = list(range(n_classes))
    positive = labels.index(minority_label) if minority_label is not None else _minority(y, n_classes)

    if n_classes == 2:
        is_pos = (y == positive).astype(int)
        pr_auc = _nan_if_undefined(average_precision_score, is_pos, proba[:, positive])
        roc_auc = _nan_if_undefined(roc_auc_score, is_pos, proba[:, positive])
        brier = float(brier_score_loss(is_pos, proba[:, positive]))
    else:
        onehot = label_binarize(y, classes=class_ids)
        present = onehot.sum(axis=0) > 0
        # Macro one-vs-rest over the classes present in y_true (an absent class has no curve).
        pr_auc = _nan_if_undefined(average_precision_score, onehot[:, present], proba[:, present], average="macro")
        roc_auc = _nan_if_undefined(
            roc_auc_score, y, proba, multi_class="ovr", average="macro", labels=class_ids
        ) if present.all() else math.nan
        brier = float(brier_score_loss(y, proba, labels=class_ids))

    return {
        "report": classification_report(
            y, decisions, labels=class_ids, target_names=labels, output_dict=True, zero_division=0
        ),
        "pr_auc": pr_auc,
        "roc_auc": roc_auc,
        "mcc": float(matthews_corrcoef(y, decisions)),
        "balanced_accuracy": float(balanced_accuracy_score(y, decisions)),
        "g_mean": float(geometric_mean_score(y, decisions, labels=class_ids, average="multiclass")),
        "ece": expected_calibration_error(y, proba),
        "brier": brier,
        "nll": float(log_loss(y, np.clip(proba, 1e-15, 1.0), labels=class_ids)),
        "mean_probability": {label: float(proba[:, c].mean()) for c, label in enumerate(labels)},
        "confusion_matrix": confusion_matrix(y, decisions, labels=class_ids).tolist(),
        "minority_label": labels[positive],
    }


def flatten_metrics(nested: dict[str, Any], labels: Sequence[str]) -> dict[str, float]:
    """One flat ``name -> float`` dict of an ``evaluate`` result (names as in ``METRICS``).

    Args:
        nested: the output of ``evaluate``.
        labels: the class names.

    Returns:
        ``accuracy``, ``macro_f1``, ``weighted_f1``, ``macro_precision``, ``macro_recall``, the scalar
        metrics of ``evaluate``, and ``<label>_precision``, ``<label>_recall``, ``<label>_f1`` per label.
    """
    report = nested["report"]
    flat = {
        "accuracy": float(report["accuracy"]),
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "weighted_f1": float(report["weighted avg"]["f1-score"]),
        "macro_precision": float(report["macro avg"]["precision"]),
        "macro_recall": float(report["macro avg"]["recall"]),
    }
    for key in ("pr_auc", "roc_auc", "mcc", "balanced_accuracy", "g_mean", "ece", "brier", "nll"):
        flat[key] = float(nested[key])
    for label in labels:
        row = report[label]
        flat[f"{label}_precision"] = float(row["precision"])
        flat[f"{label}_recall"] = float(row["recall"])
        flat[f"{label}_f1"] = float(row["f1-score"])
    return flat
