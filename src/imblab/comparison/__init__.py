"""Comparison: techniques × seeds on one shared test split, with honest statistics.

``RunOutcome`` holds one run's test results; ``ComparisonResult`` turns many into tables (mean, std and
Student-t CIs over seeds; paired-bootstrap differences to the baseline over test examples) and a report.
"""

from ._names import is_proportion, metric_order, metric_title, normalise_metric, per_label_metrics
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
    "is_proportion",
    "median_index",
    "metric_order",
    "metric_title",
    "normalise_metric",
    "paired_bootstrap",
    "per_label_metrics",
    "probability_metrics",
    "ranking_metrics",
    "seed_interval",
]

# The study itself: configuration, the techniques × seeds grid, and the Python entry point.
from ._api import build_study_config, check_study_out, compare, default_out_dir  # noqa: E402
from ._grid import PreparedStudy, load_study, outcome_from_run, prepare_study, run_study  # noqa: E402
from ._study import StudyConfig, load_study_file  # noqa: E402

__all__ += [
    "PreparedStudy",
    "StudyConfig",
    "build_study_config",
    "check_study_out",
    "compare",
    "default_out_dir",
    "load_study",
    "load_study_file",
    "outcome_from_run",
    "prepare_study",
    "run_study",
]
