"""Evaluation: metrics as pure functions, tested against scikit-learn and imbalanced-learn."""

from ._calibration import DEFAULT_BINS, expected_calibration_error, reliability_curve
from ._metrics import METRICS, evaluate, flatten_metrics, metric_info

__all__ = [
    "DEFAULT_BINS",
    "METRICS",
    "evaluate",
    "expected_calibration_error",
    "flatten_metrics",
    "metric_info",
    "reliability_curve",
]
