"""The evaluation of one split, as a run stores it in ``metrics.json``.

Every number comes from the metric functions of :mod:`._metrics`, the ones the comparison's bootstrap
calls, so a run's stored metrics and the bootstrap's point values agree; the classification report is
scikit-learn's format filled from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import minority_index
from ._metrics import all_metrics, confusion_matrices, confusion_metrics

__all__ = ["classification_report", "classification_report_text", "evaluate", "flatten_metrics"]

_SCALARS = ("pr_auc", "roc_auc", "mcc", "balanced_accuracy", "g_mean", "ece", "brier", "nll")
_AVERAGES = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")


def _minority(y_true: np.ndarray, n_classes: int) -> int:
    return minority_index(np.bincount(y_true, minlength=n_classes), present_only=True)


def classification_report(cm: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """scikit-learn's ``classification_report(output_dict=True, zero_division=0)`` of a confusion matrix, from
    :func:`confusion_metrics` (the metric functions everything else uses; scikit-learn's own report costs
    ~40 ms a call in argument checks, more than a whole linear-head evaluation).

    Args:
        cm: (C, C) confusion matrix, rows true, columns predicted.
        labels: class names, in index order.

    Returns:
        ``{label: {precision, recall, f1-score, support}, "accuracy", "macro avg", "weighted avg"}``, floats.
    """
    cm = np.asarray(cm, dtype=np.float64)
    values = confusion_metrics(cm, labels)
    support = cm.sum(axis=1)
    n = float(support.sum())
    parts = {"precision": "precision", "recall": "recall", "f1-score": "f1"}
    per_class = {label: {key: float(values[f"{label}_{part}"]) for key, part in parts.items()} for label in labels}
    report: dict[str, Any] = {label: {**per_class[label], "support": float(support[c])} for c, label in enumerate(labels)}
    report["accuracy"] = float(values["accuracy"])
    report["macro avg"] = {key: float(np.mean([per_class[label][key] for label in labels])) for key in parts}
    report["macro avg"]["support"] = n
    report["weighted avg"] = {
        key: float(np.dot([per_class[label][key] for label in labels], support) / n) if n else 0.0 for key in parts
    }
    report["weighted avg"]["support"] = n
    return report


def classification_report_text(report: dict[str, Any], digits: int = 2) -> str:
    """The text of scikit-learn's ``classification_report`` from :func:`classification_report`'s dict (its
    layout, character for character)."""
    labels = [key for key in report if key not in ("accuracy", "macro avg", "weighted avg")]
    headers = ("precision", "recall", "f1-score", "support")
    width = max(max(len(label) for label in labels), len("weighted avg"), digits)
    row = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"

    def line(name: str, values: dict[str, float]) -> str:
        return row.format(name, values["precision"], values["recall"], values["f1-score"], int(values["support"]),
                          width=width, digits=digits)

    text = ("{:>{width}s} " + " {:>9}" * len(headers)).format("", *headers, width=width) + "\n\n"
    text += "".join(line(label, report[label]) for label in labels) + "\n"
    accuracy = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
    text += accuracy.format("accuracy", "", "", report["accuracy"], int(report["macro avg"]["support"]), width=width,
                            digits=digits)
    return text + line("macro avg", report["macro avg"]) + line("weighted avg", report["weighted avg"])


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
    cm = confusion_matrices(y, decisions, n_classes)
    return {
        "report": classification_report(cm, labels),
        **{name: float(values[name]) for name in _SCALARS},
        "mean_probability": {label: float(proba[:, c].mean()) for c, label in enumerate(labels)},
        "confusion_matrix": cm.astype(np.int64).tolist(),
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
