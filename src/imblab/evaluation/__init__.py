"""Evaluation: metrics as pure functions, tested against scikit-learn and imbalanced-learn.

The metric catalogue (names, titles, directions) and the calibration helpers import only NumPy; the
metric functions, which import scikit-learn, load on first use.
"""

from typing import Any

from ._calibration import DEFAULT_BINS, expected_calibration_error, reliability_curve
from ._catalogue import METRICS, PER_LABEL, higher_is_better, metric_info

__all__ = [
    "DEFAULT_BINS",
    "METRICS",
    "PER_LABEL",
    "evaluate",
    "expected_calibration_error",
    "flatten_metrics",
    "higher_is_better",
    "metric_info",
    "reliability_curve",
]


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "flatten_metrics"):
        from . import _metrics

        return getattr(_metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
