"""Calibration: the expected calibration error of one set of predictions and the data of a reliability diagram."""

from __future__ import annotations

import numpy as np

from ._metrics import DEFAULT_BINS, calibration_bins, probability_metrics

__all__ = ["expected_calibration_error", "reliability_curve"]


def reliability_curve(
    y_true: np.ndarray, proba: np.ndarray, n_bins: int = DEFAULT_BINS, positive: int | None = None
) -> dict[str, list[float]]:
    """Reliability diagram data in ``n_bins`` equal-width bins (those of the ECE, :func:`calibration_bins`).

    By default top-label: the confidence of an example is its largest class probability, and it is correct
    when that class is the true one (Guo et al., On Calibration of Modern Neural Networks, ICML 2017). With
    ``positive``, the probability of that class against how often it is the true class.

    Args:
        y_true: (n,) true class indices.
        proba: (n, C) predicted probabilities.
        n_bins: number of equal-width bins over [0, 1].
        positive: a class index, or None for the top label.

    Returns:
        ``bin_lower``, ``bin_upper``, ``confidence`` (mean score per bin), ``accuracy`` (share correct, or
        share of ``positive``, per bin) and ``count``; empty bins have ``nan`` confidence/accuracy and count 0.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if positive is None:
        score = proba.max(axis=1)
        hit = (proba.argmax(axis=1) == y_true).astype(float)
    else:
        score = proba[:, positive]
        hit = (y_true == positive).astype(float)
    bins = calibration_bins(score, n_bins)
    count = np.bincount(bins, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.bincount(bins, weights=score, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=hit, minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return {
        "bin_lower": edges[:-1].tolist(),
        "bin_upper": edges[1:].tolist(),
        "confidence": mean_score.tolist(),
        "accuracy": accuracy.tolist(),
        "count": count.astype(int).tolist(),
    }


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """Top-label expected calibration error with ``n_bins`` equal-width bins (see :func:`probability_metrics`).

    Args:
        y_true: (n,) true class indices.
        proba: (n, C) predicted probabilities.
        n_bins: number of equal-width bins over [0, 1].

    Returns:
        The ECE in [0, 1]; 0 for perfectly calibrated confidences.
    """
    return float(probability_metrics(y_true, proba, n_bins=n_bins)["ece"])
