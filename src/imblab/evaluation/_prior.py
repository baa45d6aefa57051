"""Class priors and the prior shift a technique implies.

Every technique trains the model towards an *effective prior* π': the class distribution the
loss "sees" after sampling and weighting. Probabilities learned under π' are mapped back to the
real prior π (or any deployment prior) with the Bayes correction of Saerens, Latinne &
Decaestecker (2002), "Adjusting the Outputs of a Classifier to New a Priori Probabilities: A
Simple Procedure", Neural Computation 14(1):  p'_i ∝ p_i · π_i / π'_i.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["class_prior", "normalise", "effective_prior", "correct_prior"]


def normalise(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``values / values.sum()`` as float64; raises ValueError unless all values are ≥ 0 with a positive sum."""
    v = np.asarray(values, dtype=np.float64)
    total = v.sum()
    if v.ndim != 1 or np.any(v < 0) or not np.isfinite(total) or total <= 0:
        raise ValueError(f"cannot normalise {v!r} to a distribution")
    return v / total


def class_prior(class_counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """The empirical class prior π_i = n_i / N."""
    return normalise(class_counts)


def effective_prior(
    class_counts: Sequence[int] | np.ndarray,
    *,
    sample_sizes: Sequence[float] | np.ndarray | None = None,
    class_weights: Sequence[float] | np.ndarray | None = None,
    prior_factor: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """The prior a technique trains towards: π'_i ∝ π_i · m_i · w_i · a_i.

    Args:
        class_counts: training rows per class, n_i.
        sample_sizes: rows per class in one resampled epoch, n'_i (sampling multiplier m_i = n'_i / n_i);
            None when every row is used once.
        class_weights: loss weight per class w_i (a weighted loss is minimised by q(y|x) ∝ p(y|x) · w_y);
            None for an unweighted loss.
        prior_factor: any further multiplicative prior shift a_i of the loss or the post-hoc step, e.g.
            π_i^(−τ) for logit adjustment (Menon et al. 2021). None for none.

    Returns:
        The effective prior, float64, summing to 1.
    """
    mass = np.asarray(class_counts, dtype=np.float64).copy()
    if sample_sizes is not None:
        mass = np.asarray(sample_sizes, dtype=np.float64).copy()
    if class_weights is not None:
        mass *= np.asarray(class_weights, dtype=np.float64)
    if prior_factor is not None:
        mass *= np.asarray(prior_factor, dtype=np.float64)
    return normalise(mass)


def correct_prior(
    proba: np.ndarray,
    from_prior: Sequence[float] | np.ndarray,
    to_prior: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Map probabilities learned under ``from_prior`` to ``to_prior`` (Saerens et al. 2002).

    p'_i = (p_i · to_i / from_i) / Σ_j p_j · to_j / from_j.

    Args:
        proba: (n, C) or (C,) class probabilities, rows summing to 1.
        from_prior: (C,) the prior the model was trained under (a technique's effective prior).
        to_prior: (C,) the prior to map to (the true training prior, or a deployment prior).

    Returns:
        Probabilities of the same shape, rows summing to 1. Identity when the two priors are equal.
    """
    p = np.asarray(proba, dtype=np.float64)
    ratio = normalise(to_prior) / normalise(from_prior)
    if p.shape[-1] != ratio.shape[0]:
        raise ValueError(f"proba has {p.shape[-1]} classes but the priors have {ratio.shape[0]}")
    scaled = p * ratio
    return scaled / scaled.sum(axis=-1, keepdims=True)
