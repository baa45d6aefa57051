"""The metrics imblab reports: names, titles, directions, descriptions and table order.

The only place that says which way a metric is better (:func:`higher_is_better`) and how it reads
(:func:`metric_title`, :func:`is_proportion`). Plain Python: reading a finished study (``imblab report``,
an ``imblab compare`` re-run) titles and ranks metrics without importing anything heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "AGGREGATES",
    "METRICS",
    "PER_LABEL",
    "higher_is_better",
    "is_proportion",
    "metric_info",
    "metric_order",
    "metric_title",
    "normalise_metric",
    "per_label_metrics",
]

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
    # Only with --costs / --deploy-prior: it depends on the user's costs, so no run stores it.
    "expected_cost": {
        "higher_is_better": False, "title": "Expected cost / 1,000",
        "description": "Expected cost per 1,000 texts of the Bayes decisions at the deployment prior (Elkan 2001).",
    },
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


#: Order of the aggregate metrics in every table (the order of issue 5), after the per-label ones.
AGGREGATES = (
    "accuracy",
    "macro_f1",
    "weighted_f1",
    "macro_precision",
    "macro_recall",
    "pr_auc",
    "roc_auc",
    "mcc",
    "balanced_accuracy",
    "g_mean",
    "ece",
    "brier",
    "nll",
)

_TITLES = {**{name: METRICS[name]["title"] for name in (*AGGREGATES, "expected_cost")}, "seconds": "Time (s)"}

_ALIASES = {"log_loss": "nll", "logloss": "nll", "f1": "macro_f1", "gmean": "g_mean", "auc": "roc_auc"}

#: Metrics on an unbounded or non-percentage scale: differences are shown as raw values, not points.
_NOT_PROPORTIONS = frozenset({"nll", "ece", "brier", "expected_cost", "seconds"})


def per_label_metrics(labels: Sequence[str]) -> list[str]:
    """``<label>_precision``, ``<label>_recall``, ``<label>_f1`` for each label, label by label."""
    return [f"{label}_{part}" for label in labels for part in PER_LABEL]


def metric_order(labels: Sequence[str], present: Iterable[str] = ()) -> list[str]:
    """Table order: per-label metrics, the aggregates, then any other metric in ``present`` (sorted)."""
    known = per_label_metrics(labels) + list(AGGREGATES)
    extra = sorted(set(present) - set(known) - {"seconds"})
    return known + extra


def normalise_metric(name: str) -> str:
    """``"macro-F1"`` → ``"macro_f1"``; ``"log-loss"`` → ``"nll"``."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def metric_title(name: str, labels: Sequence[str] = ()) -> str:
    """A human title: ``"spam_recall"`` → ``"spam recall"``, ``"pr_auc"`` → ``"PR-AUC"``."""
    if name in _TITLES:
        return _TITLES[name]
    for label in labels:
        for part in PER_LABEL:
            if name == f"{label}_{part}":
                return f"{label} {'F1' if part == 'f1' else part}"
    return name.replace("_", " ")


def is_proportion(name: str) -> bool:
    """Whether the metric is a proportion in [0, 1], so that differences read as percentage points."""
    return name not in _NOT_PROPORTIONS and not name.endswith("seconds")
