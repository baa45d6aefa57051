"""Metric names: their order in tables, their titles and how their values read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..evaluation import METRICS, PER_LABEL

__all__ = ["PER_LABEL", "is_proportion", "metric_order", "metric_title", "normalise_metric", "per_label_metrics"]

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

_TITLES = {**{name: METRICS[name]["title"] for name in AGGREGATES}, "seconds": "Time (s)"}

_ALIASES = {"log_loss": "nll", "logloss": "nll", "f1": "macro_f1", "gmean": "g_mean", "auc": "roc_auc"}

#: Metrics on an unbounded or non-percentage scale: differences are shown as raw values, not points.
_NOT_PROPORTIONS = frozenset({"nll", "ece", "brier", "seconds"})


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
