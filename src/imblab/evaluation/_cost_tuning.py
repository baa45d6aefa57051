"""The cost-optimal decision rule tuned on the validation split: the comparison to the Bayes decision.

The Bayes decision (:func:`~imblab.evaluation.bayes_decisions`) trusts the probabilities; this rule trusts the
validation labels instead (the idea of scikit-learn's ``TunedThresholdClassifierCV``, with the expected cost
at the deployment prior as the objective; Elkan 2001). Both start from the same place: the family searched
contains the Bayes decision, and when validation cannot tell candidates apart the one nearest to it wins, so
the tuned rule moves away from the Bayes decision only as far as the validation labels ask.

* Binary: one threshold on the positive label's probability, "predict positive iff p ≥ t", searched
  exhaustively over the validation scores.
* Multiclass: per-class additive log-offsets o: the Bayes decision with each row of the cost matrix weighted,
  C'[i, j] = e^{o_i}·C[i, j] — the same decisions as a prior shift of the probabilities, q ∝ p·e^o (Saerens
  et al. 2002), i.e. Bayes decisions at a prior tuned for cost (ties still go to the most probable label of
  p). The offsets are found by coordinate search, each coordinate over the exact break points where a
  validation decision changes. With o = 0 it is the Bayes rule.

The tuning function takes validation data only, so it cannot read test labels by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._costs import Costs, bayes_decisions, cost_from_confusion, expected_cost, min_risk_decisions

__all__ = ["CostRule", "tune_cost_threshold"]

#: Search range of a multiclass log-offset: beyond e^±50 a class is always or never predicted anyway.
_MAX_OFFSET = 50.0

# Decide in blocks of about this many numbers (a few MB), whatever the size of the validation split.
_CELLS = 1 << 20


@dataclass(frozen=True, eq=False)
class CostRule:
    """A decision rule tuned on validation; :meth:`decide` applies it to new probabilities.

    Attributes:
        costs: the costs it minimises.
        threshold: binary: predict ``costs.positive`` iff its probability ≥ ``threshold``; else None.
        log_offsets: multiclass: (C,) shifts o of the log-probabilities before the Bayes decision; else None.
        validation_cost: its expected cost per example on the validation split, at the deployment prior.
        bayes_validation_cost: the Bayes decision's on the same data (the starting point).
        n_validation: validation examples it was tuned on.
    """

    costs: Costs
    threshold: float | None = None
    log_offsets: np.ndarray | None = None
    validation_cost: float = math.nan
    bayes_validation_cost: float = math.nan
    n_validation: int = 0

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """(n,) label indices for (n, C) probabilities — the same kind the rule was tuned on."""
        p = np.asarray(proba, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self.costs.n_classes:
            raise ValueError(f"proba has shape {p.shape}, expected (n, {self.costs.n_classes})")
        if self.threshold is not None:
            k = self.costs.positive_index
            assert k is not None  # binary costs always name the positive label
            return np.where(p[:, k] >= self.threshold, k, 1 - k).astype(np.int64)
        assert self.log_offsets is not None
        return _offset_decisions(p, self.log_offsets[None], self.costs)[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; :meth:`from_dict` restores it."""
        return {
            "costs": self.costs.to_dict(),
            "threshold": self.threshold,
            "log_offsets": None if self.log_offsets is None else self.log_offsets.tolist(),
            "validation_cost": self.validation_cost,
            "bayes_validation_cost": self.bayes_validation_cost,
            "n_validation": self.n_validation,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CostRule:
        """Inverse of :meth:`to_dict`."""
        offsets = d.get("log_offsets")
        return cls(costs=Costs.from_dict(d["costs"]), threshold=d.get("threshold"),
                   log_offsets=None if offsets is None else np.asarray(offsets, dtype=np.float64),
                   validation_cost=float(d.get("validation_cost", math.nan)),
                   bayes_validation_cost=float(d.get("bayes_validation_cost", math.nan)),
                   n_validation=int(d.get("n_validation", 0)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CostRule) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def tune_cost_threshold(
    val_proba: np.ndarray,
    val_y: np.ndarray | Sequence[int],
    costs: Costs,
    deploy_prior: np.ndarray | Sequence[float] | None = None,
    *,
    rounds: int = 3,
    max_candidates: int = 128,
) -> CostRule:
    """The decision rule of least expected cost on the validation split, at the deployment prior.

    Args:
        val_proba: (n, C) validation probabilities, of the kind the rule will be applied to — normally at the
            deployment prior, as :func:`bayes_decisions` takes them (then the search starts at, and breaks ties
            towards, the Bayes threshold). For two classes the prior correction is monotone, so the same
            decisions are reachable either way (only the choice among equally cheap thresholds differs).
        val_y: (n,) validation label indices.
        costs: the costs.
        deploy_prior: (C,) the deployment prior the validation examples are re-weighted to; None keeps their mix.
        rounds: multiclass: passes of the coordinate search.
        max_candidates: multiclass: most offsets tried per coordinate (evenly spread over the break points);
            a finer search fits validation more closely without costing less on new data.

    Returns:
        A :class:`CostRule`.
    """
    p = np.asarray(val_proba, dtype=np.float64)
    y = np.asarray(val_y, dtype=np.int64)
    if p.ndim != 2 or p.shape != (len(y), costs.n_classes):
        raise ValueError(f"val_proba has shape {p.shape}, expected ({len(y)}, {costs.n_classes})")
    if len(y) == 0:
        raise ValueError("no validation examples to tune on")
    bayes_cost = float(expected_cost(y, bayes_decisions(p, costs), costs, deploy_prior))
    if costs.positive is not None:
        threshold, cost = _tune_binary(p, y, costs, deploy_prior)
        return CostRule(costs, threshold=threshold, validation_cost=cost, bayes_validation_cost=bayes_cost,
                        n_validation=len(y))
    offsets, cost = _tune_offsets(p, y, costs, deploy_prior, rounds, max_candidates)
    return CostRule(costs, log_offsets=offsets, validation_cost=cost, bayes_validation_cost=bayes_cost,
                    n_validation=len(y))


# ----------------------------------------------------------------------------------------------- binary


def _tune_binary(
    p: np.ndarray, y: np.ndarray, costs: Costs, deploy_prior: Any
) -> tuple[float, float]:
    """Exhaustive search of "positive iff p_k ≥ t" over every distinct split of the validation scores."""
    k = costs.positive_index
    assert k is not None
    score = p[:, k]
    values, inverse = np.unique(score, return_inverse=True)
    is_pos = y == k
    # Candidate m predicts positive for scores ≥ values[m] (m = len(values): none); any t in
    # (values[m-1], values[m]] gives those decisions.
    pos_below = np.concatenate([[0], np.cumsum(np.bincount(inverse[is_pos], minlength=len(values)))])
    neg_below = np.concatenate([[0], np.cumsum(np.bincount(inverse[~is_pos], minlength=len(values)))])
    n_pos, n_neg = pos_below[-1], neg_below[-1]
    cm = np.zeros((len(values) + 1, 2, 2))
    cm[:, k, 1 - k] = pos_below  # missed positives
    cm[:, k, k] = n_pos - pos_below
    cm[:, 1 - k, k] = n_neg - neg_below  # false alarms
    cm[:, 1 - k, 1 - k] = neg_below
    cost = cost_from_confusion(cm, costs, deploy_prior)
    if np.isnan(cost).all():
        raise ValueError("the validation split has no example of a label the deployment prior needs")
    best = np.nanmin(cost)
    optimal = np.flatnonzero(cost <= best + 1e-12 * max(1.0, abs(best)))
    lo = np.concatenate([[-np.inf], values])[optimal]
    hi = np.concatenate([values, [np.inf]])[optimal]
    bayes = costs.bayes_threshold
    assert bayes is not None
    inside = (lo < bayes) & (bayes <= hi)
    if inside.any():
        return float(bayes), float(best)
    # Validation wants another threshold: the middle of the optimal interval nearest to the Bayes threshold,
    # an open end closed at 0 or 1 (below 0 or above 1 a probability threshold means "always" or "never").
    m = int(np.argmin(np.where(bayes <= lo, lo - bayes, bayes - hi)))
    low = max(float(lo[m]), 0.0)
    if np.isfinite(hi[m]):
        return (low + float(hi[m])) / 2, float(best)
    # Nothing positive: any t above the largest validation score.
    return ((low + 1.0) / 2 if low < 1.0 else float(np.nextafter(low, np.inf))), float(best)


# ------------------------------------------------------------------------------------------- multiclass


def _weighted_matrices(costs: Costs, log_offsets: np.ndarray) -> np.ndarray:
    """(K, C, C): each row i of the cost matrix times e^{o_i} (scaled so the largest weight is 1)."""
    weights = np.exp(log_offsets - log_offsets.max(axis=-1, keepdims=True))
    return weights[:, :, None] * costs.matrix[None]


def _offset_decisions(p: np.ndarray, log_offsets: np.ndarray, costs: Costs) -> np.ndarray:
    """(K, n) decisions for (K, C) offsets: Bayes decisions with re-weighted cost rows, in blocks of memory."""
    step = max(1, _CELLS // p.size)
    return np.concatenate([min_risk_decisions(p, _weighted_matrices(costs, log_offsets[i : i + step]))
                           for i in range(0, len(log_offsets), step)])


def _costs_of(y: np.ndarray, decisions: np.ndarray, costs: Costs, deploy_prior: Any) -> np.ndarray:
    """(K,) expected cost of each row of (K, n) decisions: one bincount for all confusion matrices."""
    n = costs.n_classes
    codes = y[None] * n + decisions + np.arange(len(decisions))[:, None] * n * n
    cm = np.bincount(codes.ravel(), minlength=len(decisions) * n * n).reshape(len(decisions), n, n)
    return cost_from_confusion(cm, costs, deploy_prior)


def _break_points(p: np.ndarray, log_offsets: np.ndarray, costs: Costs, c: int) -> np.ndarray:
    """Log-offsets of class ``c`` at which some validation decision changes (others fixed), sorted, unique.

    With s = e^{o_c}, predicting j costs A_j + s·B_j in each row (unnormalised q): two predictions swap
    where the lines cross, s = (A_k − A_j) / (B_j − B_k).
    """
    q = p * np.exp(log_offsets - log_offsets.max())
    q_rest = q.copy()
    q_rest[:, c] = 0.0
    a = q_rest @ costs.matrix
    b = (p[:, c : c + 1] * np.exp(-log_offsets.max())) * costs.matrix[c]
    j, k = np.triu_indices(costs.n_classes, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (a[:, k] - a[:, j]) / (b[:, j] - b[:, k])
    s = s[np.isfinite(s) & (s > 0)]
    return np.unique(np.clip(np.log(s), -_MAX_OFFSET, _MAX_OFFSET))


def _tune_offsets(
    p: np.ndarray, y: np.ndarray, costs: Costs, deploy_prior: Any, rounds: int, max_candidates: int
) -> tuple[np.ndarray, float]:
    """Coordinate search of the log-offsets, each coordinate tried between its break points."""
    offsets = np.zeros(costs.n_classes)
    best = float(_costs_of(y, _offset_decisions(p, offsets[None], costs), costs, deploy_prior)[0])
    for _ in range(rounds):
        improved = False
        for c in range(costs.n_classes):
            points = _break_points(p, offsets, costs, c)
            if len(points) == 0:
                continue
            # One offset inside every interval between break points, and one beyond each end.
            candidates = np.concatenate([[points[0] - 1.0], (points[:-1] + points[1:]) / 2, [points[-1] + 1.0]])
            if len(candidates) > max_candidates:
                spread = np.linspace(0, len(candidates) - 1, max_candidates).round().astype(int)
                candidates = candidates[np.unique(spread)]
            trials = np.repeat(offsets[None], len(candidates), axis=0)
            trials[:, c] = candidates
            values = _costs_of(y, _offset_decisions(p, trials, costs), costs, deploy_prior)
            lowest = float(np.nanmin(values))
            if lowest < best - 1e-12 * max(1.0, abs(best)):
                # Among equally good offsets, the one nearest 0: the smallest move away from the Bayes decision.
                tied = np.flatnonzero(values <= lowest + 1e-12 * max(1.0, abs(lowest)))
                offsets[c] = float(candidates[tied[np.argmin(np.abs(candidates[tied]))]])
                best, improved = lowest, True
        if not improved:
            break
    return offsets, best
