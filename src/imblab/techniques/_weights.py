"""Class weights for the loss: one function per weighting scheme.

All functions take the training class counts n_i (in label order) and return one positive
weight per class. Only the *ratios* matter for imblab's losses, which reduce a weighted batch
as Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i} (see :mod:`imblab.techniques._losses`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..data import inverse_frequency_weights

__all__ = [
    "WEIGHT_SCHEMES",
    "inverse_frequency_weights",
    "sqrt_inverse_frequency_weights",
    "class_balanced_weights",
    "scheme_weights",
    "label_weights",
]


def sqrt_inverse_frequency_weights(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """√(N / (c · n_i)): a softer inverse frequency, the square-root re-balancing of Mahajan et al.
    (2018), "Exploring the Limits of Weakly Supervised Pretraining", ECCV."""
    return np.sqrt(inverse_frequency_weights(np.asarray(counts)))


def class_balanced_weights(counts: Sequence[int] | np.ndarray, beta: float = 0.999) -> np.ndarray:
    """Class-balanced weights from the effective number of samples (Cui et al. 2019).

    Cui, Jia, Lin, Song & Belongie (2019), "Class-Balanced Loss Based on Effective Number of
    Samples", CVPR: E_n = (1 − β^n) / (1 − β); w_i ∝ 1 / E_{n_i} = (1 − β) / (1 − β^{n_i}),
    normalised so that Σ_i w_i = C (the number of classes).

    Args:
        counts: training rows per class.
        beta: β in [0, 1). β = 0 gives equal weights; β → 1 approaches inverse frequency.

    Returns:
        (C,) weights summing to C. For counts (4827, 747) and β = 0.999: (0.693, 1.307).
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    n = np.asarray(counts, dtype=np.float64)
    # -expm1(n·log β) = 1 − β^n without cancellation for β close to 1.
    effective_number = -np.expm1(n * np.log(beta)) if beta > 0 else np.ones_like(n)
    w = (1.0 - beta) / effective_number
    return w * (len(n) / w.sum())


WEIGHT_SCHEMES = {
    "none": lambda counts: np.ones(len(counts)),
    "inverse-frequency": inverse_frequency_weights,
    "sqrt-inverse": sqrt_inverse_frequency_weights,
}
"""Named weighting schemes a spec may give (``weights=inverse-frequency``)."""


def scheme_weights(scheme: str, counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """The weights of a named scheme (a key of :data:`WEIGHT_SCHEMES`)."""
    return np.asarray(WEIGHT_SCHEMES[scheme](np.asarray(counts)), dtype=np.float64)


def label_weights(
    value: str | Mapping[str, float],
    counts: Sequence[int] | np.ndarray,
    labels: Sequence[str],
    default_scheme: str = "none",
) -> np.ndarray:
    """Resolve a weights parameter: a scheme name, or per-label weights.

    Labels a mapping does not name keep the weight ``default_scheme`` gives them, as in the
    study's {ham: 0.576 (inverse frequency), spam: 10}.
    """
    if isinstance(value, str):
        return scheme_weights(value, counts)
    w = scheme_weights(default_scheme, counts)
    index = {label: i for i, label in enumerate(labels)}
    for label, weight in value.items():
        w[index[label]] = float(weight)
    return w
