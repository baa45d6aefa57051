"""Evaluation: metrics as pure functions, tested against scikit-learn and imbalanced-learn; costs and decisions.

The metric catalogue (names, titles, directions), the calibration helpers, and costs and decisions (Bayes
decisions, expected cost, the validation-tuned rule, cost curves) import only NumPy; the metric functions,
which import scikit-learn, load on first use.
"""

from typing import Any

from ._calibration import DEFAULT_BINS, expected_calibration_error, reliability_curve
from ._catalogue import METRICS, PER_LABEL, higher_is_better, metric_info
from ._cost_curves import (
    Cheapest,
    CostCurve,
    cheapest,
    cheapest_sentences,
    cost_curve,
    cost_ratio,
    one_error_tolerance,
    probability_cost,
)
from ._cost_tuning import CostRule, tune_cost_threshold
from ._costs import Costs, bayes_decisions, cost_from_confusion, expected_cost, parse_prior

__all__ = [
    "DEFAULT_BINS",
    "METRICS",
    "PER_LABEL",
    "Cheapest",
    "CostCurve",
    "CostRule",
    "Costs",
    "bayes_decisions",
    "cheapest",
    "cheapest_sentences",
    "cost_curve",
    "cost_from_confusion",
    "cost_ratio",
    "evaluate",
    "expected_calibration_error",
    "expected_cost",
    "flatten_metrics",
    "higher_is_better",
    "metric_info",
    "one_error_tolerance",
    "parse_prior",
    "probability_cost",
    "reliability_curve",
    "tune_cost_threshold",
]



def __getattr__(name: str) -> Any:
    if name in ("evaluate", "flatten_metrics"):
        from . import _metrics

        return getattr(_metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
