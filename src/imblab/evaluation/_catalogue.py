"""The metrics imblab reports: names, titles, directions and descriptions (no scikit-learn import).

Kept apart from the metric functions so that reading a finished study (``imblab report``, an
``imblab compare`` re-run) can title and rank metrics without importing scikit-learn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["METRICS", "PER_LABEL", "higher_is_better", "metric_info"]

_M = dict[str, Any]

METRICS: dict[str, _M] = {
    "accuracy": {"higher_is_better": True, "title": "Accuracy", "description": "Share of correct decisions."},
    "macro_f1": {"higher_is_better": True, "title": "Macro F1", "description": "Unweighted mean of per-class F1."},
    "weighted_f1": {"higher_is_better": True, "title": "Weighted F1", "description": "Per-class F1 weighted by support."},
    "macro_precision": {"higher_is_better": True, "title": "Macro precision", "description": "Unweighted mean of per-class precision."},
    "macro_recall": {"higher_is_better": True, "title": "Macro recall", "description": "Unweighted mean of per-class recall."},
    "pr_auc": {
        "higher_is_better": True, "title": "PR-AUC",
        "description": "Average precision of the minority class (binary) or macro one-vs-rest (multiclass).",
    },
    "roc_auc": {
        "higher_is_better": True, "title": "ROC-AUC",
        "description": "Area under the ROC curve of the minority class (binary) or macro one-vs-rest (multiclass).",
    },
    "mcc": {"higher_is_better": True, "title": "MCC", "description": "Matthews correlation coefficient of the decisions."},
    "balanced_accuracy": {"higher_is_better": True, "title": "Balanced accuracy", "description": "Mean per-class recall."},
    "g_mean": {"higher_is_better": True, "title": "G-mean", "description": "Geometric mean of per-class recalls (imbalanced-learn)."},
    "ece": {
        "higher_is_better": False, "title": "ECE",
        "description": "Top-label expected calibration error, 15 equal-width bins.",
    },
    "brier": {
        "higher_is_better": False, "title": "Brier score",
        "description": "Mean squared error of the minority-class probability (binary) or of the probability vector (multiclass).",
    },
    "nll": {"higher_is_better": False, "title": "Log-loss", "description": "Mean negative log-likelihood of the true class."},
    # Per-label metrics are stored as "<label>_<suffix>"; see metric_info.
    "precision": {"higher_is_better": True, "title": "Precision", "description": "Share of the label's predictions that are right."},
    "recall": {"higher_is_better": True, "title": "Recall", "description": "Share of the label's examples found."},
    "f1": {"higher_is_better": True, "title": "F1", "description": "Harmonic mean of the label's precision and recall."},
}
PER_LABEL = ("precision", "recall", "f1")


def metric_info(name: str) -> _M:
    """The ``METRICS`` entry of a flat metric name, per-label ones (``spam_f1``) included.

    Raises:
        KeyError: an unknown metric name.
    """
    if name in METRICS:
        return METRICS[name]
    for suffix in PER_LABEL:
        if name.endswith("_" + suffix):
            label = name[: -len(suffix) - 1]
            info = dict(METRICS[suffix])
            info["title"] = f"{label} {info['title']}"
            return info
    raise KeyError(f"unknown metric {name!r}")


def higher_is_better(name: str) -> bool:
    """Whether a larger value of the flat metric ``name`` is better (unknown names: yes, except times)."""
    if name.endswith("seconds"):
        return False
    try:
        return bool(metric_info("nll" if name == "log_loss" else name)["higher_is_better"])
    except KeyError:
        return True
