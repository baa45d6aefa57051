"""Evaluation: metrics as pure functions, tested against scikit-learn and imbalanced-learn; costs and decisions.

The metric catalogue (names, titles, directions), the calibration helpers, costs, Bayes decisions, expected
cost and cost curves import only NumPy; the metric functions, which import scikit-learn, and the
validation-tuned cost rule, which imports ``imblab.techniques``, load on first use.
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
    probability_cost,
)
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
    "parse_prior",
    "probability_cost",
    "reliability_curve",
    "tune_cost_threshold",
]

_LAZY = {"evaluate": "_metrics", "flatten_metrics": "_metrics", "CostRule": "_cost_tuning",
         "tune_cost_threshold": "_cost_tuning"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
