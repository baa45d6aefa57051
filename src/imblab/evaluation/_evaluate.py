"""The evaluation of one split, as a run stores it in ``metrics.json``.

Every number comes from the metric functions of :mod:`._metrics`, the ones the comparison's bootstrap
calls, so a run's stored metrics and the bootstrap's point values agree. scikit-learn only formats the
classification report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._metrics import all_metrics, confusion_matrices, confusion_metrics

__all__ = ["evaluate", "flatten_metrics"]

_SCALARS = ("pr_auc", "roc_auc", "mcc", "balanced_accuracy", "g_mean", "ece", "brier", "nll")
_AVERAGES = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")


def _minority(y_true: np.ndarray, n_classes: int) -> int:
    counts = np.bincount(y_true, minlength=n_classes)
    present = np.flatnonzero(counts > 0)
    return int(present[np.argmin(counts[present])]) if len(present) else 0


def _classification_report(y: np.ndarray, decisions: np.ndarray, labels: list[str]) -> dict[str, Any]:
    # Imported here: reading a finished study never evaluates, and scikit-learn takes seconds to import.
    import sklearn
    from sklearn.metrics import classification_report

    # The inputs are checked by evaluate; scikit-learn's check of each public function's arguments only
    # costs time.
    with sklearn.config_context(skip_parameter_validation=True):
        return classification_report(
            y, decisions, labels=list(range(len(labels))), target_names=labels, output_dict=True, zero_division=0
        )


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
    labels = list(labels)
    n_classes = len(labels)
    y = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), n_classes):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(y)}, {n_classes})")
    decisions = proba.argmax(axis=1) if pred is None else np.asarray(pred, dtype=np.int64)
    positive = labels.index(minority_label) if minority_label is not None else _minority(y, n_classes)
    values = all_metrics(y, decisions, proba, labels, positive=positive)
    return {
        "report": _classification_report(y, decisions, labels),
        **{name: float(values[name]) for name in _SCALARS},
        "mean_probability": {label: float(proba[:, c].mean()) for c, label in enumerate(labels)},
        "confusion_matrix": confusion_matrices(y, decisions, n_classes).astype(np.int64).tolist(),
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
    decisions = confusion_metrics(np.asarray(nested["confusion_matrix"], dtype=np.float64), labels)
    flat = {name: float(decisions[name]) for name in _AVERAGES}
    flat.update({name: float(nested[name]) for name in _SCALARS})
    for label in labels:
        for part in ("precision", "recall", "f1"):
            flat[f"{label}_{part}"] = float(decisions[f"{label}_{part}"])
    return flat
