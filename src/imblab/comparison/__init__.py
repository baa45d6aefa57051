"""Comparison: techniques × seeds on one shared test split, with honest statistics.

``RunOutcome`` holds one run's test results; ``ComparisonResult`` turns many into tables (mean, std and
Student-t CIs over seeds; paired-bootstrap differences to the baseline over test examples) and a report.
"""

from ._names import metric_order, metric_title, normalise_metric
from ._outcome import RunOutcome
from ._result import ComparisonResult
from ._statistics import (
    LOWER_IS_BETTER,
    BootstrapDifference,
    SeedSummary,
    all_metrics,
    bootstrap_replicates,
    bootstrap_weights,
    confusion_matrices,
    confusion_metrics,
    higher_is_better,
    median_index,
    paired_bootstrap,
    probability_metrics,
    ranking_metrics,
    seed_interval,
)

__all__ = [
    "LOWER_IS_BETTER",
    "BootstrapDifference",
    "ComparisonResult",
    "RunOutcome",
    "SeedSummary",
    "all_metrics",
    "bootstrap_replicates",
    "bootstrap_weights",
    "confusion_matrices",
    "confusion_metrics",
    "higher_is_better",
    "median_index",
    "metric_order",
    "metric_title",
    "normalise_metric",
    "paired_bootstrap",
    "probability_metrics",
    "ranking_metrics",
    "seed_interval",
]
