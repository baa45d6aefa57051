"""Evaluation: one implementation of each metric, its metadata, and the evaluation a run stores.

* :mod:`._catalogue` — names, titles, directions ("higher is better") and table order of every metric.
* :mod:`._metrics` — the metric functions (decisions, probabilities, ranking), vectorised over example
  weights so that the comparison's bootstrap calls the very same code; tested against scikit-learn.
* :mod:`._calibration` — the expected calibration error and reliability-diagram data, in the one binning.
* :mod:`._evaluate` — :func:`evaluate` (one split, as ``metrics.json`` stores it) and :func:`flatten_metrics`.

Nothing here imports scikit-learn at import time (only :func:`evaluate` uses it, for the text of the
classification report), so reading a finished study stays fast.
"""

from ._calibration import expected_calibration_error, reliability_curve
from ._catalogue import (
    AGGREGATES,
    METRICS,
    PER_LABEL,
    higher_is_better,
    is_proportion,
    metric_info,
    metric_order,
    metric_title,
    normalise_metric,
    per_label_metrics,
)
from ._evaluate import evaluate, flatten_metrics
from ._metrics import (
    DEFAULT_BINS,
    all_metrics,
    calibration_bins,
    confusion_matrices,
    confusion_metrics,
    example_terms,
    metrics_from_sums,
    probability_metrics,
    ranking_metrics,
)

__all__ = [
    "AGGREGATES",
    "DEFAULT_BINS",
    "METRICS",
    "PER_LABEL",
    "all_metrics",
    "calibration_bins",
    "confusion_matrices",
    "confusion_metrics",
    "evaluate",
    "example_terms",
    "expected_calibration_error",
    "flatten_metrics",
    "higher_is_better",
    "is_proportion",
    "metric_info",
    "metric_order",
    "metric_title",
    "metrics_from_sums",
    "normalise_metric",
    "per_label_metrics",
    "probability_metrics",
    "ranking_metrics",
    "reliability_curve",
]
