"""Training randomness: a metric summarised over the seeds of one technique."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit  # Student t quantile; scipy.stats costs ~2 s to import

__all__ = ["SeedSummary", "median_index", "seed_interval"]


@dataclass(frozen=True)
class SeedSummary:
    """Mean, standard deviation (``ddof=1``) and Student-t confidence interval over seeds."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def seed_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> SeedSummary:
    """Summarise one metric over seeds: mean, standard deviation and a Student-t interval.

    Args:
        values: The metric of each seed; non-finite values are ignored.
        confidence: Coverage of the two-sided interval.

    Returns:
        A :class:`SeedSummary`. With one seed, ``std``, ``low`` and ``high`` are NaN (undefined);
        with no finite value everything is NaN.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return SeedSummary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return SeedSummary(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * std / math.sqrt(n)
    return SeedSummary(n, mean, std, mean - half, mean + half)


def median_index(values: Sequence[float] | np.ndarray) -> int:
    """Index of the median element (the lower middle one for an even count; NaN sorts last)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("median_index of an empty sequence")
    order = np.argsort(np.where(np.isnan(x), np.inf, x), kind="stable")
    n_finite = max(int(np.isfinite(x).sum()), 1)
    return int(order[(n_finite - 1) // 2])
