"""What each technique costs at the user's costs and deployment prior, over a study's runs.

For every run, two cost-optimal decisions of the same probabilities (:func:`imblab.evaluation.run_costs`):

* **Bayes** — the run's prior-corrected probabilities moved to the deployment prior (Saerens, Latinne &
  Decaestecker 2002), then the label of least expected cost (Elkan 2001). This ranks the techniques: it is
  what ``imblab predict`` and the server decide.
* **tuned on validation** — the threshold (binary) or class offsets (multiclass) of least expected cost on the
  run's *validation* split (stored in ``validation.csv``), applied to test. Test labels only measure it.

Per technique: the expected cost per 1,000 texts with its Student-t interval over seeds, and paired-bootstrap
intervals (the comparison's own resampling weights, so the same replicates as every other difference) of
technique − baseline and of tuned − Bayes. Cost curves (Drummond & Holte 2006) of the Bayes decisions,
averaged over seeds, say which technique is cheapest under which costs and priors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from ..evaluation import (
    Cheapest,
    CostSetting,
    RunCosts,
    cheapest,
    cost_curve,
    expected_calibration_error,
    expected_cost,
    one_error_tolerance,
    run_costs,
)
from ._bootstrap import BootstrapDifference, difference_interval
from ._seeds import SeedSummary, seed_interval

if TYPE_CHECKING:
    from ._outcome import RunOutcome


class StudyView(Protocol):
    """What a cost comparison reads of its study (a :class:`~._result.ComparisonResult` is one)."""

    confidence: float
    outcomes: list[RunOutcome]
    quality_metric: str
    techniques: list[str]
    y_true: np.ndarray

    def runs(self, technique: str) -> list[RunOutcome]: ...

__all__ = ["CostComparison", "CostCurves", "DECISIONS", "PER", "operating_point"]

#: Expected costs are shown per this many texts.
PER = 1000

#: The decisions compared: Bayes on prior-corrected probabilities, the rule tuned on validation, the technique's own.
DECISIONS = ("bayes", "tuned", "own")

METRIC = "expected_cost"  # its direction and title come from evaluation's catalogue


@dataclass(frozen=True)
class CostCurves:
    """The cost curves of a study (Drummond & Holte 2006), in the space of one label against the rest.

    Attributes:
        pc: (G,) the probability-cost grid PC(+).
        curves: technique → (G,) normalised expected cost of its Bayes decisions, averaged over seeds.
        cheapest: the lower envelope and where each technique is cheapest (ties within one test error).
        positive: the label against the rest (binary: the costs' positive label; else the minority).
        prior_positive: its deployment prior.
        operating_pc: the user's costs and prior as a point on the axis (multiclass: approximate, see
            :func:`operating_point`); None when undefined.
        exact: whether ``operating_pc`` is exact (binary costs) or a one-vs-rest approximation.
    """

    pc: np.ndarray
    curves: dict[str, np.ndarray]
    cheapest: Cheapest
    positive: str
    prior_positive: float
    operating_pc: float | None
    exact: bool


def operating_point(setting: CostSetting) -> float | None:
    """The user's costs and deployment prior as PC(+) of the label ``setting.positive_index`` against the rest.

    Binary costs: exactly PC(+) = π₊·fn / (π₊·fn + π₋·fp). A C × C matrix has no one-dimensional cost space,
    so its point is approximate: a miss of k costs the deployment-prior-weighted mean of row k (what k is
    mistaken for), a false alarm the weighted mean of column k (whose text is flagged as k).
    """
    k, prior, matrix = setting.positive_index, setting.deploy_prior, setting.costs.matrix
    others = np.arange(len(prior)) != k
    w = prior[others] / prior[others].sum()
    fn, fp = float(matrix[k, others] @ w), float(matrix[others, k] @ w)
    missed, alarms = prior[k] * fn, (1.0 - prior[k]) * fp
    return None if missed + alarms <= 0 else float(missed / (missed + alarms))


class CostComparison:
    """Expected cost of every technique of a :class:`ComparisonResult` at one :class:`CostSetting`.

    Args:
        result: the comparison (its runs, confidence and test labels): a :class:`StudyView`.
        setting: the costs and deployment prior.
        weights: ``(B, n)`` the comparison's bootstrap resampling counts (paired across techniques).
    """

    def __init__(self, result: StudyView, setting: CostSetting, weights: np.ndarray) -> None:
        if list(setting.labels) != list(result.labels):
            raise ValueError(f"costs for labels {list(setting.labels)}, the study has {result.labels}")
        self.result = result
        self.setting = setting
        self.weights = weights

    # ------------------------------------------------------------------------------------------ per run

    @cached_property
    def runs(self) -> dict[tuple[str, int], RunCosts]:
        """Each run's decisions and costs (per text)."""
        return {
            (o.technique, int(o.seed)): run_costs(self.setting, o.y_true, o.proba_corrected, o.pred, o.val_y,
                                                  o.val_proba_corrected)
            for o in self.result.outcomes
        }

    @property
    def has_validation(self) -> bool:
        """Whether every run stored its validation predictions (else the tuned rule is unavailable)."""
        return all(o.has_validation for o in self.result.outcomes)

    @cached_property
    def per_run(self) -> pd.DataFrame:
        """One row per run: costs per 1,000 texts of each decision, the ECE of the prior-corrected probabilities,
        and the tuned rule (its threshold or offsets and its costs on validation)."""
        rows = []
        for technique in self.result.techniques:
            for o in self.result.runs(technique):
                c = self.runs[(technique, int(o.seed))]
                rule = c.rule
                rows.append({
                    "technique": technique, "seed": int(o.seed),
                    "bayes_per_1000": PER * c.bayes, "tuned_per_1000": PER * c.tuned, "own_per_1000": PER * c.own,
                    "ece_corrected": expected_calibration_error(o.y_true, o.proba_corrected),
                    "tuned_threshold": math.nan if rule is None or rule.threshold is None else rule.threshold,
                    "tuned_log_offsets": "" if rule is None or rule.log_offsets is None
                    else " ".join(f"{x:.6g}" for x in rule.log_offsets),
                    "validation_tuned_per_1000": math.nan if rule is None else PER * rule.validation_cost,
                    "validation_bayes_per_1000": math.nan if rule is None else PER * rule.bayes_validation_cost,
                    "n_validation": 0 if rule is None else rule.n_validation,
                })
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------------------------------ statistics

    def summary(self, technique: str, decision: str = "bayes") -> SeedSummary:
        """Mean, std and Student-t interval over seeds of ``decision``'s cost per 1,000 texts."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
        rows = self.per_run[self.per_run["technique"] == technique]
        s = seed_interval(rows[f"{decision}_per_1000"].to_numpy(), self.result.confidence)
        # A t-interval can go below 0; a cost cannot.
        return SeedSummary(s.n, s.mean, s.std, max(s.low, 0.0) if np.isfinite(s.low) else s.low, s.high)

    def ece(self, technique: str) -> float:
        """Mean over seeds of the test ECE of the prior-corrected probabilities."""
        return float(self.per_run.loc[self.per_run["technique"] == technique, "ece_corrected"].mean())

    @cached_property
    def replicates(self) -> dict[str, dict[str, np.ndarray]]:
        """decision → technique → ``(B,)`` cost per 1,000 texts in each bootstrap replicate, averaged over seeds
        (the tuned decision only where every run has validation predictions)."""
        out: dict[str, dict[str, np.ndarray]] = {d: {} for d in DECISIONS}
        y = self.result.y_true
        for technique in self.result.techniques:
            seeds = [self.runs[(technique, int(o.seed))] for o in self.result.runs(technique)]
            preds = {"bayes": [c.bayes_pred for c in seeds], "tuned": [c.tuned_pred for c in seeds],
                     "own": [o.pred for o in self.result.runs(technique)]}
            for decision, per_seed in preds.items():
                if any(p is None for p in per_seed):
                    continue
                values = [expected_cost(y, p, self.setting.costs, self.setting.deploy_prior, weights=self.weights)
                          for p in per_seed]
                out[decision][technique] = PER * np.mean(values, axis=0)
        return out

    def point(self, technique: str, decision: str = "bayes") -> float:
        """Seed-averaged cost per 1,000 texts on the full test split."""
        return float(np.mean([PER * getattr(self.runs[(technique, int(o.seed))], decision)
                              for o in self.result.runs(technique)]))

    def difference(self, technique: str, other: str, decision: str = "bayes",
                   other_decision: str | None = None) -> BootstrapDifference | None:
        """Paired bootstrap of ``technique``'s ``decision`` cost − ``other``'s (``other_decision``, default the
        same) per 1,000 texts; None where a decision is unavailable."""
        other_decision = other_decision or decision
        a = self.replicates[decision].get(technique)
        b = self.replicates[other_decision].get(other)
        if a is None or b is None:
            return None
        return difference_interval(METRIC, a, b, self.point(technique, decision), self.point(other, other_decision),
                                   self.result.confidence)

    def tuned_minus_bayes(self, technique: str) -> BootstrapDifference | None:
        """The tuned rule's cost − the Bayes decision's, per 1,000 texts (negative: the tuned rule is cheaper)."""
        return self.difference(technique, technique, "tuned", "bayes")

    @cached_property
    def ranking(self) -> list[str]:
        """The techniques from cheapest to dearest (mean Bayes cost over seeds)."""
        means = {t: self.summary(t).mean for t in self.result.techniques}
        return sorted(self.result.techniques, key=lambda t: (np.nan_to_num(means[t], nan=np.inf),
                                                             self.result.techniques.index(t)))

    # ------------------------------------------------------------------------------------------ cost curves

    @cached_property
    def curves(self) -> CostCurves | None:
        """The Bayes cost curves of every technique; None when the test split lacks the positive label."""
        k = self.setting.positive_index
        y = self.result.y_true
        n_pos = int(np.sum(y == k))
        if n_pos == 0 or n_pos == len(y):
            return None
        curves: dict[str, np.ndarray] = {}
        pc: np.ndarray | None = None
        for technique in self.result.techniques:
            per_seed = [cost_curve(y, o.proba_corrected, positive=k, prior=self.setting.training_prior)
                        for o in self.result.runs(technique)]
            pc = per_seed[0].pc
            curves[technique] = np.mean([c.bayes for c in per_seed], axis=0)
        assert pc is not None
        found = cheapest(pc, curves, tol=one_error_tolerance(pc, n_pos, len(y) - n_pos))
        label = self.setting.labels[k]
        prior_positive = float(self.setting.deploy_prior[k])
        return CostCurves(pc=pc, curves=curves, cheapest=found, positive=label,
                          prior_positive=prior_positive, operating_pc=operating_point(self.setting),
                          exact=self.setting.costs.positive is not None)
