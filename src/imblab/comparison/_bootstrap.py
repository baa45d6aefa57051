"""The finite test split: a paired bootstrap over test examples of the difference between two techniques.

The bootstrap resamples test examples with replacement (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 13 percentile intervals). Every replicate draws ONE set of indices and applies it to both
techniques (all runs share the test split), so the comparison is paired (cf. Koehn 2004, "Statistical
significance tests for machine translation evaluation"); within a replicate the metric is averaged over each
technique's seeds. A replicate is a vector of resampling counts, and the metrics are those of
:mod:`imblab.evaluation`, evaluated for all replicates at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..evaluation import all_metrics, example_terms, higher_is_better, metrics_from_sums

__all__ = [
    "BootstrapDifference",
    "bootstrap_replicates",
    "bootstrap_weights",
    "difference_interval",
    "paired_bootstrap",
]

Run = tuple[np.ndarray, "np.ndarray | None"]  # (pred, proba) of one seed


def bootstrap_weights(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Resampling counts of ``n_boot`` bootstrap replicates of ``n`` examples.

    Returns:
        ``(n_boot, n)`` float array: how often each example was drawn in each replicate (rows sum to ``n``).
    """
    if n <= 0 or n_boot <= 0:
        raise ValueError(f"need n > 0 and n_boot > 0, got n={n}, n_boot={n_boot}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    idx += np.arange(n_boot)[:, None] * n
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def bootstrap_replicates(
    y_true: np.ndarray,
    runs: Mapping[str, Sequence[Run]],
    labels: Sequence[str],
    weights: np.ndarray,
    positive: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Each technique's metrics in every replicate, averaged over its seeds.

    Args:
        y_true: ``(n,)`` the shared test labels.
        runs: technique → its seeds' ``(pred, proba)``.
        labels: Class names.
        weights: ``(B, n)`` from :func:`bootstrap_weights`; the same for every technique (paired).
        positive: The class of binary ranking metrics.

    Returns:
        technique → metric → ``(B,)`` values.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    flat = [(technique, pred, proba) for technique, seeds in runs.items() for pred, proba in seeds]
    blocks = [example_terms(y_true, pred, proba, len(labels)) for _, pred, proba in flat]
    # One matrix product for every run's per-example terms: the bulk of the work, done by BLAS.
    all_sums = weights @ np.hstack(blocks)
    edges = np.cumsum([0] + [b.shape[1] for b in blocks])
    per_run: dict[str, list[dict[str, np.ndarray]]] = {technique: [] for technique in runs}
    for i, (technique, _, proba) in enumerate(flat):
        sums = all_sums[:, edges[i] : edges[i + 1]]
        per_run[technique].append(metrics_from_sums(sums, y_true, proba, labels, weights, positive))
    return {
        technique: {m: np.mean([s[m] for s in seeds], axis=0) for m in seeds[0]}
        for technique, seeds in per_run.items()
    }


@dataclass(frozen=True)
class BootstrapDifference:
    """``technique − baseline`` on one metric, with a percentile bootstrap interval."""

    metric: str
    technique_value: float
    baseline_value: float
    difference: float
    low: float
    high: float
    n_boot: int

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def better(self) -> bool | None:
        """Whether the technique is significantly better (``None`` when not significant)."""
        if not self.significant:
            return None
        return (self.difference > 0) == higher_is_better(self.metric)


def difference_interval(
    metric: str,
    technique_reps: np.ndarray,
    baseline_reps: np.ndarray,
    technique_value: float,
    baseline_value: float,
    confidence: float = 0.95,
) -> BootstrapDifference:
    """A :class:`BootstrapDifference` from paired replicate values (NaN replicates are ignored)."""
    diff = np.asarray(technique_reps, dtype=np.float64) - np.asarray(baseline_reps, dtype=np.float64)
    alpha = (1 - confidence) / 2
    if np.isfinite(diff).any():
        low, high = np.nanquantile(diff, [alpha, 1 - alpha])
    else:
        low = high = math.nan
    return BootstrapDifference(
        metric=metric,
        technique_value=float(technique_value),
        baseline_value=float(baseline_value),
        difference=float(technique_value - baseline_value),
        low=float(low),
        high=float(high),
        n_boot=len(diff),
    )


def paired_bootstrap(
    y_true: np.ndarray,
    technique_runs: Sequence[Run],
    baseline_runs: Sequence[Run],
    labels: Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    positive: int | None = None,
) -> dict[str, BootstrapDifference]:
    """Paired bootstrap of ``technique − baseline`` over test examples pooled over seeds.

    Args:
        y_true: ``(n,)`` test labels shared by all runs.
        technique_runs: The technique's seeds as ``(pred, proba)``; ``proba`` may be ``None``
            (then only decision metrics are available).
        baseline_runs: The same for the baseline.
        labels: Class names.
        metrics: Metric names to return (default: all computed).
        n_boot: Number of replicates.
        seed: Seed of the resampling.
        confidence: Coverage of the percentile interval.
        positive: The class of binary PR/ROC AUC (default: the rarer class).

    Returns:
        metric → :class:`BootstrapDifference`; the point estimate is the difference of seed-averaged
        metrics on the full test split.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    runs = {"technique": technique_runs, "baseline": baseline_runs}
    weights = bootstrap_weights(len(y_true), n_boot, seed)
    reps = bootstrap_replicates(y_true, runs, labels, weights, positive)
    point = {
        name: {
            m: float(np.mean(v))
            for m, v in _stack([all_metrics(y_true, p, q, labels, None, positive) for p, q in seeds]).items()
        }
        for name, seeds in runs.items()
    }
    names = metrics or list(reps["technique"])
    return {
        m: difference_interval(
            m, reps["technique"][m], reps["baseline"][m], point["technique"][m], point["baseline"][m], confidence
        )
        for m in names
    }


def _stack(per_seed: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {m: np.array([float(s[m]) for s in per_seed]) for m in per_seed[0]}
