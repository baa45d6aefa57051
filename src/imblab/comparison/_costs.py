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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._format import number
from ..evaluation import (
    Cheapest,
    CostSetting,
    RunCosts,
    cheapest,
    cheapest_sentences,
    cost_curve,
    expected_calibration_error,
    expected_cost,
    one_error_tolerance,
    run_costs,
)
from ._bootstrap import BootstrapDifference, difference_interval
from ._reading import _join, format_difference
from ._seeds import SeedSummary, seed_interval

if TYPE_CHECKING:
    from ._result import ComparisonResult

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
        sentences: technique → where it is cheapest, in the user's units at the deployment prior.
        positive: the label against the rest (binary: the costs' positive label; else the minority).
        prior_positive: its deployment prior.
        operating_pc: the user's costs and prior as a point on the axis (multiclass: approximate, see
            :func:`operating_point`); None when undefined.
        exact: whether ``operating_pc`` is exact (binary costs) or a one-vs-rest approximation.
    """

    pc: np.ndarray
    curves: dict[str, np.ndarray]
    cheapest: Cheapest
    sentences: dict[str, str]
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
        result: the comparison (its runs, baseline, confidence and test labels).
        setting: the costs and deployment prior.
        weights: ``(B, n)`` the comparison's bootstrap resampling counts (paired across techniques).
    """

    def __init__(self, result: ComparisonResult, setting: CostSetting, weights: np.ndarray) -> None:
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
        sentences = cheapest_sentences(found, positive_label=label, prior_positive=prior_positive)
        return CostCurves(pc=pc, curves=curves, cheapest=found, sentences=sentences, positive=label,
                          prior_positive=prior_positive, operating_pc=operating_point(self.setting),
                          exact=self.setting.costs.positive is not None)

    # ------------------------------------------------------------------------------------------ reading

    def _diff_text(self, d: BootstrapDifference) -> str:
        return format_difference(METRIC, d.difference, d.low, d.high, self.result.confidence)

    def reading(self) -> list[str]:
        """Sentences on cost: ranking against the chosen metric, Bayes against tuned, and the cost curves (the
        costs themselves are stated by the report's header)."""
        out = [s for s in (self._reading_agreement(), self._reading_bayes_vs_tuned(), self._reading_own()) if s]
        out += self._reading_curves()
        return out

    def _reading_agreement(self) -> str | None:
        result, metric = self.result, self.result.quality_metric
        if len(result.techniques) < 2 or metric not in result.metrics:
            return None
        from ..evaluation import higher_is_better

        means = {t: result.stat(t, metric)["mean"] for t in result.techniques}
        sign = -1.0 if higher_is_better(metric) else 1.0
        best = min(result.techniques, key=lambda t: (np.nan_to_num(sign * means[t], nan=np.inf),
                                                     result.techniques.index(t)))
        cheapest_one = self.ranking[0]
        title = result.title(metric)
        cost = number(self.summary(cheapest_one).mean, 2)
        if best == cheapest_one:
            return f"Cost and {title} agree: {best} is both the cheapest ({cost} per 1,000 texts) and the best on {title}."
        return (f"Cost and {title} disagree: {cheapest_one} is the cheapest ({cost} per 1,000 texts against "
                f"{number(self.summary(best).mean, 2)} for {best}), while {best} is best on {title} "
                f"({number(means[best], 3)} against {number(means[cheapest_one], 3)}). {title} counts the errors "
                f"of the test split's class mix, the cost prices each kind of error and weighs the labels by the "
                f"deployment prior, so they need not agree.")

    def _reading_bayes_vs_tuned(self) -> str:
        if not self.has_validation:
            return ("The threshold tuned on validation is unavailable: these runs were stored before imblab kept "
                    "their validation predictions (validation.csv); retrain them to compare it with the Bayes decision.")
        tuned_wins, bayes_wins, ties = [], [], []
        for t in self.result.techniques:
            d = self.tuned_minus_bayes(t)
            if d is None:
                continue
            entry = f"{t} {self._diff_text(d)}"
            (tuned_wins if d.high < 0 else bayes_wins if d.low > 0 else ties).append((t, entry))
        n_val = int(self.per_run["n_validation"].max())
        k = self.setting.positive_index
        positives = int(np.sum(self.result.outcomes[0].val_y == k)) if self.result.outcomes[0].val_y is not None else 0
        parts = []
        if bayes_wins:
            parts.append(f"the Bayes decision is cheaper for {_join([e for _, e in bayes_wins])}")
        if tuned_wins:
            parts.append(f"the rule tuned on validation is cheaper for {_join([e for _, e in tuned_wins])}")
        if ties:
            parts.append(f"there is no clear difference for {_join([e for _, e in ties])}")
        sentence = ("Bayes decision against the rule tuned on validation (tuned − Bayes per 1,000 texts): "
                    + "; ".join(parts) + ".")
        eces = {t: self.ece(t) for t in self.result.techniques}
        if tuned_wins:
            winners = [t for t, _ in tuned_wins]
            listed = ", ".join(f"{t} {number(eces[t], 3)}" for t in winners)
            rest = [t for t in self.result.techniques if t not in winners]
            sentence += (f" A tuned rule that beats the Bayes decision on test is evidence that the probabilities "
                         f"are miscalibrated where the decision is made: it reads the costs off labelled data "
                         f"instead of trusting them (ECE after the prior correction: {listed}")
            if rest and min(eces[t] for t in winners) >= max(eces[t] for t in rest):
                sentence += f"; {_join([f'{t} {number(eces[t], 3)}' for t in rest])} for the others)."
            else:
                against = ""
                if rest:
                    best_rest = min(rest, key=lambda t: eces[t])
                    against = f", against {number(eces[best_rest], 3)} for {best_rest}"
                sentence += (f"{against}; the top-label ECE averages over every confidence, while the decision "
                             f"depends only on the probabilities near its threshold).")
        else:
            sentence += (f" The tuned rule never beats the Bayes decision here. The Bayes decision is exact when the "
                         f"prior-corrected probabilities are calibrated (ECE here {number(min(eces.values()), 3)}–"
                         f"{number(max(eces.values()), 3)}), needs no labels and cannot overfit; the tuned rule fits "
                         f"{n_val:,} validation texts ({positives:,} {self.setting.labels[k]}) and carries their noise "
                         f"to new data.")
        return sentence

    def _reading_own(self) -> str | None:
        """Techniques whose own, cost-blind decisions are significantly cheaper than their Bayes decision."""
        cheaper = []
        for t in self.result.techniques:
            d = self.difference(t, t, "own", "bayes")
            if d is not None and d.high < 0:
                cheaper.append(f"{t} {self._diff_text(d)}")
        if not cheaper:
            return None
        return (f"Cost-blind decisions (the technique's own argmax or thresholds) beat the Bayes decision for "
                f"{_join(cheaper)} (own − Bayes per 1,000 texts): another sign that these probabilities, once "
                f"corrected to the deployment prior, are off where the decision is made.")

    def _reading_curves(self) -> list[str]:
        curves = self.curves
        if curves is None:
            return []
        winners = [t for t in curves.cheapest.names if curves.cheapest.ranges[t]]
        never = [t for t in curves.cheapest.names if not curves.cheapest.ranges[t]]
        out = [curves.sentences[t] + "." for t in winners]
        if never:
            out.append(f"{_join(never)} {'is' if len(never) == 1 else 'are'} never clearly the cheapest "
                       f"(within one test error of another technique wherever {'it is' if len(never) == 1 else 'they are'} lowest).")
        if curves.operating_pc is not None:
            i = int(np.argmin(np.abs(curves.pc - curves.operating_pc)))
            at = curves.cheapest.winner[i]
            who = f"{curves.cheapest.names[at]} is cheapest" if at >= 0 else "no technique is clearly cheapest"
            approx = "" if curves.exact else f" (approximately, {curves.positive} against the rest)"
            out.append(f"At your costs and prior{approx} the operating point is PC = {curves.operating_pc:.3f} on the "
                       f"cost curves, where {who}.")
        return out

