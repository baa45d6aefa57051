"""Comparison: techniques × seeds on one shared test split, with honest statistics.

``RunOutcome`` holds one run's test results; ``ComparisonResult`` turns many into tables (mean, std and
Student-t CIs over seeds; paired-bootstrap differences to the baseline over test examples) and a report.
"""

from ._bootstrap import (
    BootstrapDifference,
    bootstrap_replicates,
    bootstrap_weights,
    difference_interval,
    paired_bootstrap,
)
from ._outcome import RunOutcome
from ._result import ComparisonResult
from ._seeds import SeedSummary, median_index, seed_interval

__all__ = [
    "BootstrapDifference",
    "ComparisonResult",
    "RunOutcome",
    "SeedSummary",
    "bootstrap_replicates",
    "bootstrap_weights",
    "difference_interval",
    "median_index",
    "paired_bootstrap",
    "seed_interval",
]

# The study itself: configuration, the techniques × seeds grid, and the Python entry point.
from ._api import build_study_config, compare, default_out_dir  # noqa: E402
from ._grid import PreparedStudy, load_study, outcome_from_run, prepare_study, run_study  # noqa: E402
from ._study import StudyConfig, load_study_file  # noqa: E402

__all__ += [
    "PreparedStudy",
    "StudyConfig",
    "build_study_config",
    "compare",
    "default_out_dir",
    "load_study",
    "load_study_file",
    "outcome_from_run",
    "prepare_study",
    "run_study",
]
