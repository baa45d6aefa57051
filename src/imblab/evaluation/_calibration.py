"""Calibration: expected calibration error and the data of a reliability diagram."""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_BINS", "expected_calibration_error", "reliability_curve"]

DEFAULT_BINS = 15


def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    # Bins are (lo, hi]; a confidence of exactly 0 falls in the first bin.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)


def reliability_curve(y_true: np.ndarray, proba: np.ndarray, n_bins: int = DEFAULT_BINS) -> dict[str, list[float]]:
    """Top-label reliability diagram data in ``n_bins`` equal-width confidence bins.

    The confidence of an example is its largest class probability; it is correct when
    that class is the true one (Guo et al., On Calibration of Modern Neural Networks, ICML 2017).

    Args:
        y_true: (n,) true class indices.
        proba: (n, C) predicted probabilities.
        n_bins: number of equal-width bins over [0, 1].

    Returns:
        ``bin_lower``, ``bin_upper``, ``confidence`` (mean confidence per bin), ``accuracy``
        (share correct per bin) and ``count``; empty bins have ``nan`` confidence/accuracy and count 0.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(float)
    bins = _bin_index(confidence, n_bins)
    count = np.bincount(bins, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return {
        "bin_lower": edges[:-1].tolist(),
        "bin_upper": edges[1:].tolist(),
        "confidence": mean_conf.tolist(),
        "accuracy": accuracy.tolist(),
        "count": count.astype(int).tolist(),
    }


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """Top-label expected calibration error with ``n_bins`` equal-width bins.

    ``ECE = sum_b (n_b / n) * |accuracy_b - confidence_b|`` over the bins of the
    largest predicted probability (Naeini et al. AAAI 2015; Guo et al. ICML 2017, 15 bins).

    Args:
        y_true: (n,) true class indices.
        proba: (n, C) predicted probabilities.
        n_bins: number of equal-width bins over [0, 1].

    Returns:
        The ECE in [0, 1]; 0 for perfectly calibrated confidences.
    """
    curve = reliability_curve(y_true, proba, n_bins)
    count = np.asarray(curve["count"], dtype=float)
    filled = count > 0
    gap = np.abs(np.asarray(curve["accuracy"])[filled] - np.asarray(curve["confidence"])[filled])
    return float((count[filled] / count.sum() * gap).sum())
