"""Comparison: statistics over a study's runs on one shared test split.

``RunOutcome`` holds one run's test results; ``ComparisonResult`` turns many into tables (mean, std and
Student-t CIs over seeds, :mod:`._seeds`; paired-bootstrap differences to the baseline over test examples,
:mod:`._bootstrap`); numbers only. Their plain-language reading is :mod:`imblab.reporting`'s, as is rendering;
running a study and writing its files is :mod:`imblab.study`'s job.
"""

from ._bootstrap import (
    BootstrapDifference,
    bootstrap_replicates,
    bootstrap_weights,
    difference_interval,
    paired_bootstrap,
)
from ._chosen import ValidationChoice, validation_choice
from ._costs import METRIC as COST_METRIC
from ._costs import CostComparison, StudyView
from ._outcome import RunOutcome
from ._prior_support import DRAWS as PRIOR_DRAWS
from ._result import ComparisonResult
from ._seeds import SeedSummary, median_index, seed_interval

__all__ = [
    "COST_METRIC",
    "PRIOR_DRAWS",
    "BootstrapDifference",
    "CostComparison",
    "StudyView",
    "ComparisonResult",
    "RunOutcome",
    "SeedSummary",
    "ValidationChoice",
    "bootstrap_replicates",
    "bootstrap_weights",
    "difference_interval",
    "median_index",
    "paired_bootstrap",
    "seed_interval",
    "validation_choice",
]

