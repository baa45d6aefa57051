"""Sampling plans: how many rows of each class one epoch uses, and drawing them.

A plan only ever resamples *indices* into the training split, never the texts; a new set is
drawn every epoch from the generator the caller passes, so a run is reproducible from its seed.
Rows per class are fixed per plan, so every epoch has the same length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "downsample_upweight_plan",
    "upsample_downweight_plan",
    "downsample_sizes",
    "upsample_sizes",
    "draw_epoch",
]


def _counts(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    n = np.asarray(counts, dtype=np.int64)
    if n.ndim != 1 or n.size < 2 or np.any(n <= 0):
        raise ValueError(f"need a positive count for each of ≥ 2 classes, got {n.tolist()}")
    return n


def downsample_upweight_plan(counts: Sequence[int] | np.ndarray, factor: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Downsample and upweight (Google Machine Learning Crash Course, "Imbalanced datasets").

    Every class larger than the smallest keeps n'_i = max(n_min, round(n_i / factor)) rows per
    epoch; the kept rows are weighted by w_i = n_i / n'_i (the factor, up to rounding and the
    floor at the smallest class). Hence n'_i · w_i = n_i: the expected weighted class mass equals
    the original class distribution, and the effective prior is the true prior.

    Returns:
        (sizes n'_i, weights w_i), both (C,).
    """
    n = _counts(counts)
    if factor < 1:
        raise ValueError(f"factor must be ≥ 1, got {factor}")
    smallest = n.min()
    sizes = np.where(n > smallest, np.maximum(smallest, np.rint(n / factor)), n).astype(np.int64)
    return sizes, n / sizes


def upsample_downweight_plan(counts: Sequence[int] | np.ndarray, factor: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Upsample and downweight (Google Machine Learning Crash Course, "Imbalanced datasets").

    Every class smaller than the largest is repeated to n'_i = min(n_max, round(n_i · factor))
    rows per epoch, and its rows are weighted by w_i = n_i / n'_i (1 / factor up to rounding and
    the cap at the largest class), so n'_i · w_i = n_i and the effective prior is the true prior.

    Returns:
        (sizes n'_i, weights w_i), both (C,).
    """
    n = _counts(counts)
    if factor < 1:
        raise ValueError(f"factor must be ≥ 1, got {factor}")
    largest = n.max()
    sizes = np.where(n < largest, np.minimum(largest, np.rint(n * factor)), n).astype(np.int64)
    return sizes, n / sizes


def downsample_sizes(counts: Sequence[int] | np.ndarray, ratio: float = 1.0) -> np.ndarray:
    """Plain random undersampling (imbalanced-learn ``RandomUnderSampler``), no compensating weight.

    ``ratio`` is the smallest class's size over every other class's size after resampling, as in
    imbalanced-learn's float ``sampling_strategy``: each class keeps min(n_i, round(n_min / ratio))
    rows. ``ratio = 1`` balances the classes.
    """
    n = _counts(counts)
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    return np.minimum(n, np.rint(n.min() / ratio)).astype(np.int64)


def upsample_sizes(counts: Sequence[int] | np.ndarray, ratio: float = 1.0) -> np.ndarray:
    """Plain random oversampling (imbalanced-learn ``RandomOverSampler``), no compensating weight.

    Each class grows to max(n_i, round(ratio · n_max)) rows; ``ratio = 1`` balances the classes.
    """
    n = _counts(counts)
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    return np.maximum(n, np.rint(ratio * n.max())).astype(np.int64)


def draw_epoch(
    y: Sequence[int] | np.ndarray, sizes: Sequence[int] | np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw one epoch's training indices with ``sizes[c]`` rows of each class c.

    A class shrinks by sampling without replacement. A class grows by using each of its rows
    ⌊n'/n⌋ times and then a further n' mod n distinct rows drawn without replacement, so every
    row appears and repeats are spread as evenly as possible.

    Args:
        y: (n,) class index of every training row.
        sizes: (C,) rows of each class in the epoch.
        rng: the generator; the same state gives the same indices.

    Returns:
        (Σ sizes,) int64 indices into ``y``, grouped by class (the training loop shuffles).
    """
    y = np.asarray(y)
    parts = []
    for c, size in enumerate(np.asarray(sizes, dtype=np.int64)):
        rows = np.flatnonzero(y == c)
        if rows.size == 0:
            raise ValueError(f"class {c} has no training rows")
        repeats, extra = divmod(int(size), rows.size)
        parts.append(np.tile(rows, repeats))
        parts.append(rng.choice(rows, size=extra, replace=False))
    return np.concatenate(parts).astype(np.int64)
