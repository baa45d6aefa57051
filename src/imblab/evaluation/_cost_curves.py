"""Cost curves: which technique is cheapest under which costs and priors (Drummond & Holte 2006).

Drummond & Holte (2006), "Cost curves: An improved method for visualizing classifier performance", Machine
Learning 65(1). One axis folds the class prior and the two error costs into one number, the
*probability-cost function*

    PC(+) = p(+)·C(−|+) / (p(+)·C(−|+) + p(−)·C(+|−)),

with C(−|+) = fn (a missed positive) and C(+|−) = fp (a false alarm); the other is the *normalised expected
cost* NE = FNR·PC(+) + FPR·(1 − PC(+)), the expected cost divided by its largest possible value
p(+)·fn + p(−)·fp. A fixed set of decisions is a straight line from (0, FPR) to (1, FNR); "always negative"
is NE = PC, "always positive" NE = 1 − PC.

:func:`cost_curve` gives two curves per technique:

* ``envelope`` — the lower envelope over every threshold of the score: the best any threshold could do at
  each operating point (what a threshold tuned with hindsight reaches; the ROC convex hull in cost space).
* ``bayes`` — what imblab does: at each PC, the Bayes decision (:func:`~imblab.evaluation.bayes_decisions`)
  of the probabilities corrected to the operating point. It depends on the operating point only through PC:
  correcting p from the prior π it is calibrated to, to π', and deciding with costs (fn, fp) predicts the
  positive iff (p₊/π₊)·PC > (p₋/π₋)·(1 − PC), so the curve is the Bayes decision with costs
  fn* = PC/π₊, fp* = (1 − PC)/π₋ on p itself. The gap between the two curves is the cost of miscalibration.

Multiclass: the curve of one label (default: the minority) against the rest — p₊ = p_k, p₋ = 1 − p_k. It is
exact for the costs "a missed k costs fn, predicting k for any other label costs fp, other confusions are
free"; a full cost matrix has no one-dimensional cost space, so the reduction shows the trade-off users of
an imbalanced data set care most about.

:func:`cheapest` takes several techniques' curves, returns the lower envelope across them and the PC ranges
where each is strictly cheapest; :func:`cheapest_sentences` turns those ranges back into the user's units at
the deployment prior: "focal is cheapest only when a missed spam costs more than 7 false alarms".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._costs import Costs, min_risk_decisions

__all__ = [
    "Cheapest",
    "CostCurve",
    "cheapest",
    "cheapest_sentences",
    "cost_curve",
    "cost_ratio",
    "one_error_tolerance",
    "probability_cost",
]

#: Points of the default PC grid over [0, 1].
GRID_POINTS = 1001

#: Curves closer than this (NE is in [0, 1]) tie: no technique is "cheapest" where all predict alike.
TIE = 1e-9

# Work in blocks of about this many numbers (a few MB) whatever the size of the test split.
_CELLS = 1 << 20


@dataclass(frozen=True, eq=False)
class CostCurve:
    """Normalised expected cost against PC(+) for one technique (one seed, or averaged over seeds).

    Attributes:
        pc: (G,) the probability-cost grid.
        envelope: (G,) the least NE over all thresholds of the score.
        bayes: (G,) NE of the Bayes decisions of the prior-corrected probabilities; None for a bare score.
        positive: index of the positive label (the one-vs-rest label for multiclass).
    """

    pc: np.ndarray
    envelope: np.ndarray
    bayes: np.ndarray | None
    positive: int


def probability_cost(costs: Costs, deploy_prior: np.ndarray | Sequence[float]) -> float:
    """PC(+) of binary ``costs`` at ``deploy_prior`` (in ``costs.labels`` order): the user's operating point."""
    k = costs.positive_index
    if k is None:
        raise ValueError("the probability-cost function needs binary costs (fn, fp)")
    prior = np.asarray(deploy_prior, dtype=np.float64)
    missed = prior[k] * costs.fn  # type: ignore[operator]
    return float(missed / (missed + prior[1 - k] * costs.fp))  # type: ignore[operator]


def cost_ratio(pc: float | np.ndarray, prior_positive: float) -> float | np.ndarray:
    """The fn/fp ratio at which PC(+) = ``pc`` for a positive prior p(+): (PC / (1 − PC))·(p(−) / p(+)).

    Inverse of :func:`probability_cost` at a fixed prior; ``inf`` at PC = 1.
    """
    x = np.asarray(pc, dtype=np.float64)
    with np.errstate(divide="ignore"):
        r = x / (1.0 - x) * (1.0 - prior_positive) / prior_positive
    return float(r) if r.ndim == 0 else r


def _rates(y_pos: np.ndarray, pred_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FNR and FPR of decisions (last axis: examples)."""
    n_pos, n_neg = y_pos.sum(), (~y_pos).sum()
    fnr = (~pred_pos & y_pos).sum(axis=-1) / n_pos
    fpr = (pred_pos & ~y_pos).sum(axis=-1) / n_neg
    return fnr, fpr


def cost_curve(
    y_true: np.ndarray | Sequence[int],
    score_or_proba: np.ndarray,
    pc_grid: np.ndarray | Sequence[float] | None = None,
    *,
    positive: int,
    prior: np.ndarray | Sequence[float] | None = None,
) -> CostCurve:
    """The cost curves of one technique on labelled data (normally the test split).

    Args:
        y_true: (n,) true label indices.
        score_or_proba: (n,) a score of the positive label (envelope only), or (n, C) probabilities.
        pc_grid: PC(+) values in [0, 1]; default 1,001 evenly spaced.
        positive: index of the positive label (multiclass: the label against the rest).
        prior: (C,) the prior the probabilities are calibrated to (after ``correct_prior``, usually the
            training prior); needed for the ``bayes`` curve, which is None without it.

    Returns:
        A :class:`CostCurve`.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score_or_proba, dtype=np.float64)
    pc = np.linspace(0.0, 1.0, GRID_POINTS) if pc_grid is None else np.asarray(pc_grid, dtype=np.float64)
    if pc.ndim != 1 or len(pc) == 0 or np.any((pc < 0) | (pc > 1)):
        raise ValueError("pc_grid must be a non-empty list of values in [0, 1]")
    if s.shape[0] != len(y) or s.ndim not in (1, 2):
        raise ValueError(f"score_or_proba has shape {s.shape}, expected ({len(y)},) or ({len(y)}, C)")
    y_pos = y == positive
    if y_pos.all() or not y_pos.any():
        raise ValueError("a cost curve needs examples of both the positive label and the others")
    score = s if s.ndim == 1 else s[:, positive]
    return CostCurve(pc=pc, envelope=_envelope(y_pos, score, pc),
                     bayes=None if s.ndim == 1 or prior is None else _bayes_curve(y_pos, s, positive, prior, pc),
                     positive=positive)


def _envelope(y_pos: np.ndarray, score: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """min over thresholds t of FNR(t)·PC + FPR(t)·(1 − PC), "positive iff score ≥ t", t the distinct scores."""
    values, inverse = np.unique(score, return_inverse=True)
    pos_below = np.concatenate([[0], np.cumsum(np.bincount(inverse[y_pos], minlength=len(values)))])
    neg_below = np.concatenate([[0], np.cumsum(np.bincount(inverse[~y_pos], minlength=len(values)))])
    fnr = pos_below / pos_below[-1]  # positives scored below the threshold are missed
    fpr = 1.0 - neg_below / neg_below[-1]
    best = np.full(len(pc), np.inf)
    step = max(1, _CELLS // len(pc))
    for start in range(0, len(fnr), step):
        lines = np.outer(fnr[start : start + step], pc) + np.outer(fpr[start : start + step], 1.0 - pc)
        best = np.minimum(best, lines.min(axis=0))
    return best


def _bayes_curve(
    y_pos: np.ndarray, proba: np.ndarray, positive: int, prior: np.ndarray | Sequence[float], pc: np.ndarray
) -> np.ndarray:
    """NE of the Bayes decision at each PC (:func:`bayes_decisions`' code), the prior folded into the costs."""
    prior = np.asarray(prior, dtype=np.float64)
    if prior.shape != (proba.shape[1],) or np.any(prior <= 0):
        raise ValueError(f"prior must be ({proba.shape[1]},) positive probabilities, got {prior}")
    p_pos, pi_pos = proba[:, positive], prior[positive] / prior.sum()
    two = np.column_stack([1.0 - p_pos, p_pos])  # the other labels together, then the positive one
    # The Costs of each grid point: a missed positive costs PC/π₊, a false alarm (1 − PC)/π₋.
    matrices = np.zeros((len(pc), 2, 2))
    matrices[:, 1, 0] = pc / pi_pos
    matrices[:, 0, 1] = (1.0 - pc) / (1.0 - pi_pos)
    out = np.empty(len(pc))
    step = max(1, _CELLS // (2 * len(two)))
    for start in range(0, len(pc), step):
        fnr, fpr = _rates(y_pos, min_risk_decisions(two, matrices[start : start + step]) == 1)
        out[start : start + step] = fnr * pc[start : start + step] + fpr * (1.0 - pc[start : start + step])
    return out


# ------------------------------------------------------------------------------------- across techniques


@dataclass(frozen=True, eq=False)
class Cheapest:
    """Which technique has the lowest curve where.

    Attributes:
        pc: (G,) the grid.
        envelope: (G,) the lowest curve across techniques.
        names: the techniques, in the order given.
        winner: (G,) index into ``names`` of the technique cheaper than all others by more than the tolerance,
            −1 where none is.
        ranges: technique → the PC intervals where no technique is cheaper by more than the tolerance and it
            is cheaper than all others by more than the tolerance somewhere inside (a tie — e.g. at the ends of
            the axis, where every technique predicts one label — extends a win but is none by itself, so two
            techniques' ranges may overlap where they tie); ends refined to where the curves cross (linear
            between grid points). Empty when the technique is never clearly the cheapest.
    """

    pc: np.ndarray
    envelope: np.ndarray
    names: tuple[str, ...]
    winner: np.ndarray
    ranges: dict[str, list[tuple[float, float]]]


def one_error_tolerance(pc: np.ndarray | Sequence[float], n_positive: int, n_negative: int) -> np.ndarray:
    """The normalised expected cost of one test error at each PC: max(PC / n₊, (1 − PC) / n₋).

    Curves measured on the same test split that differ by less than this differ by less than one misclassified
    text; pass it as ``tol`` to :func:`cheapest` so that a sentence does not hinge on a single example.
    """
    x = np.asarray(pc, dtype=np.float64)
    return np.maximum(x / n_positive, (1.0 - x) / n_negative)


def cheapest(
    pc: np.ndarray | Sequence[float], curves: Mapping[str, np.ndarray], tol: float | np.ndarray = TIE
) -> Cheapest:
    """The lower envelope across techniques and where each technique is the cheapest.

    Args:
        pc: (G,) the common PC grid, increasing.
        curves: technique → (G,) normalised expected cost (its ``bayes`` curve for what imblab does, or its
            ``envelope`` for the best thresholds; averaged over seeds if there are several).
        tol: curves closer than this tie: a number or (G,) values, e.g. :func:`one_error_tolerance`.
    """
    x = np.asarray(pc, dtype=np.float64)
    names = tuple(curves)
    if not names:
        raise ValueError("no curves")
    stack = np.vstack([np.asarray(curves[name], dtype=np.float64) for name in names])
    if stack.shape[1] != len(x):
        raise ValueError(f"curves have {stack.shape[1]} points, the grid {len(x)}")
    tolerance = np.broadcast_to(np.asarray(tol, dtype=np.float64), x.shape)
    winner = np.full(len(x), -1)
    ranges: dict[str, list[tuple[float, float]]] = {}
    for t, name in enumerate(names):
        others = np.delete(stack, t, axis=0)
        gap = stack[t] - (others.min(axis=0) if len(others) else np.inf)  # < 0 where t is cheapest
        wins = gap < -tolerance
        winner[wins] = t
        ranges[name] = _runs(x, gap - tolerance, wins)
    return Cheapest(pc=x, envelope=stack.min(axis=0), names=names, winner=winner, ranges=ranges)


def _runs(x: np.ndarray, excess: np.ndarray, wins: np.ndarray) -> list[tuple[float, float]]:
    """Maximal runs where ``excess`` (gap − tolerance) ≤ 0 that hold a win, as (low, high) PC, each end moved
    to where ``excess`` crosses 0 (linearly between grid points)."""
    unbeaten = excess <= 0
    edges = np.diff(np.concatenate([[0], unbeaten.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    out = []
    for i, j in zip(starts, stops):
        if not wins[i : j + 1].any():
            continue
        low = x[i] if i == 0 else _crossing(x[i], x[i - 1], excess[i], excess[i - 1])
        high = x[j] if j == len(x) - 1 else _crossing(x[j], x[j + 1], excess[j], excess[j + 1])
        out.append((float(low), float(high)))
    return out


def _crossing(x_in: float, x_out: float, f_in: float, f_out: float) -> float:
    """Where f crosses 0 between an unbeaten point (f_in ≤ 0) and a beaten one (f_out > 0), f linear between."""
    if not (np.isfinite(f_in) and np.isfinite(f_out)):
        return (x_in + x_out) / 2
    return x_in + (x_out - x_in) * (-f_in) / (f_out - f_in)


def _ratio_text(r: float) -> str:
    if r >= 100:
        return f"{r:,.0f}"
    if r >= 10:
        return f"{r:.0f}"
    return f"{r:.2g}"


def cheapest_sentences(
    result: Cheapest,
    *,
    positive_label: str,
    prior_positive: float,
    alarm: str = "false alarm",
) -> dict[str, str]:
    """Each technique's cheapest ranges as a sentence in the user's units, at the deployment prior.

    A PC boundary b is the cost ratio fn/fp = (b / (1 − b))·(p(−) / p(+)) at the positive label's deployment
    prior p(+) (:func:`cost_ratio`), e.g. "focal is cheapest only when a missed spam costs more than 7 false
    alarms (at 2 % spam)".

    Args:
        result: the output of :func:`cheapest`.
        positive_label: the positive label's name.
        prior_positive: its deployment prior, in (0, 1).
        alarm: the name of a false positive.

    Returns:
        technique → one sentence.
    """
    if not 0 < prior_positive < 1:
        raise ValueError(f"prior_positive must be in (0, 1), got {prior_positive}")
    at = f"(at {100 * prior_positive:.3g} % {positive_label})"
    first, last = float(result.pc[0]), float(result.pc[-1])
    out = {}
    for name in result.names:
        clauses = []
        for low, high in result.ranges[name]:
            lo_text = _ratio_text(float(cost_ratio(low, prior_positive)))
            hi_text = _ratio_text(float(cost_ratio(high, prior_positive)))
            if low <= first and high >= last:
                clauses = []
                break
            if low <= first:
                clauses.append(f"less than {hi_text}")
            elif high >= last:
                clauses.append(f"more than {lo_text}")
            else:
                clauses.append(f"between {lo_text} and {hi_text}")
        if not result.ranges[name]:
            out[name] = f"{name} is never clearly the cheapest {at}"
        elif not clauses:
            out[name] = f"{name} is cheapest whatever a missed {positive_label} costs {at}"
        else:
            number = clauses[-1].rsplit(" ", 1)[-1]
            noun = alarm if number == "1" else alarm + "s"
            ranges = " or ".join(clauses)
            out[name] = f"{name} is cheapest only when a missed {positive_label} costs {ranges} {noun} {at}"
    return out
