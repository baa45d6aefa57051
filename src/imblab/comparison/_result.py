"""The result of a techniques × seeds study: per-run and per-technique tables, paired differences to the baseline."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..data import minority_index
from ..errors import ImblabError, SpecError
from ..evaluation import (
    CostSetting,
    all_metrics,
    higher_is_better,
    is_proportion,
    metric_order,
    metric_title,
    normalise_metric,
)
from ._chosen import ValidationChoice, validation_choice
from ._bootstrap import BootstrapDifference, bootstrap_replicates, bootstrap_weights, difference_interval
from ._costs import METRIC as COST_METRIC
from ._costs import CostComparison
from ._outcome import RunOutcome
from ._seeds import median_index, seed_interval

__all__ = ["ComparisonResult"]

log = logging.getLogger(__name__)


class ComparisonResult:
    """Every run of a study on one shared test split, with its statistics.

    Args:
        outcomes: One :class:`RunOutcome` per (technique, seed); all share the same test labels.
        labels: Class names, in the models' label order.
        profile: The data profile (:func:`imblab.data.profile`, with the split).
        config: The resolved study configuration (shown in the report).
        environment: Package versions, machine, timings (shown in the report).
        baseline: Display name of the technique the others are compared with; if absent, the first
            technique is used.
        metric: The metric that ranks techniques (``"macro_f1"``; dashes are accepted: ``"macro-f1"``) —
            unless ``costs`` are given: then the expected cost ranks them and this one is shown beside it.
        n_boot: Bootstrap replicates of the paired differences.
        bootstrap_seed: Seed of the bootstrap resampling.
        confidence: Coverage of every interval.
        reference: The study's scikit-learn reference, tested on the same split: shown beside the techniques
            (tables, ``results``, ``summary``, the paired bootstrap) but never ranked as one.
        costs: The user's costs and deployment prior (:func:`imblab.evaluation.resolve_costs`): adds the
            ``expected_cost`` metric (per 1,000 texts, Bayes decisions; :attr:`cost` has the rest) and ranks by it.
        tuning: What ``compare --tune`` chose (the study's ``tuning.json``: per technique its default and tuned
            display names, the chosen spec and the tuning summary), shown by the report; None without tuning.

    Raises:
        ImblabError: No outcomes, runs on different test splits, or a duplicated (technique, seed).
        SpecError: An unknown ``metric``.
    """

    def __init__(
        self,
        outcomes: Sequence[RunOutcome],
        labels: Sequence[str],
        profile: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        baseline: str = "baseline",
        metric: str = "macro_f1",
        *,
        n_boot: int = 1000,
        bootstrap_seed: int = 0,
        confidence: float = 0.95,
        reference: RunOutcome | None = None,
        costs: CostSetting | None = None,
        tuning: dict[str, Any] | None = None,
    ) -> None:
        if not outcomes:
            raise ImblabError("no runs to compare")
        self.outcomes = list(outcomes)
        self.reference = reference
        self.tuning = tuning
        self.labels = [str(label) for label in labels]
        self.profile = profile or {}
        self.config = config or {}
        self.environment = environment or {}
        self.n_boot = int(n_boot)
        self.bootstrap_seed = int(bootstrap_seed)
        self.confidence = float(confidence)
        self._check_outcomes()
        self.techniques: list[str] = list(dict.fromkeys(o.technique for o in self.outcomes))
        if self.reference is not None and self.reference.technique in self.techniques:
            raise ImblabError(f"a technique is called like the reference ({self.reference.technique!r})")
        self.y_true = self.outcomes[0].y_true
        counts = np.bincount(self.y_true, minlength=len(self.labels))
        self.minority = minority_index(counts)
        self.minority_label = self.labels[self.minority]
        if baseline not in self.techniques:
            log.warning("baseline %r is not among the techniques; comparing with %r", baseline, self.techniques[0])
            baseline = self.techniques[0]
        self.baseline = baseline
        self.cost_setting = costs
        #: The metric given (``metric``); it ranks the techniques unless costs are given.
        self.quality_metric = normalise_metric(metric)
        #: The metric that ranks the techniques: the expected cost when costs are given.
        self.metric = COST_METRIC if costs is not None else self.quality_metric
        if self.quality_metric not in self.metrics:
            raise SpecError(f"unknown metric {metric!r}; choose one of: {', '.join(self.metrics)}")

    def _check_outcomes(self) -> None:
        first = self.outcomes[0]
        seen: set[tuple[str, int]] = set()
        for o in [*self.outcomes, *([self.reference] if self.reference is not None else [])]:
            key = (o.technique, int(o.seed))
            if key in seen:
                raise ImblabError(f"two runs of technique {o.technique!r} with seed {o.seed}")
            seen.add(key)
            if o.n_classes != len(self.labels):
                raise ImblabError(f"run {o.technique!r} seed {o.seed} has {o.n_classes} classes, expected {len(self.labels)}")
            if not np.array_equal(o.y_true, first.y_true):
                raise ImblabError(
                    f"run {o.technique!r} seed {o.seed} was tested on a different split; a comparison needs one"
                )

    # ------------------------------------------------------------------------------------------ lookups

    @property
    def backends(self) -> list[str]:
        """The backends of the runs, in study order (one for most studies; several: ``compare --backend a,b``)."""
        return list(dict.fromkeys(o.backend for o in self.outcomes if o.backend is not None))

    @cached_property
    def chosen(self) -> ValidationChoice | None:
        """The technique (with its backend) best on validation by the ranking metric, and each backend's own
        choice (:mod:`._chosen`); None when no run stored validation metrics."""
        return validation_choice(self)

    @property
    def seeds(self) -> list[int]:
        """Every seed, sorted."""
        return sorted({int(o.seed) for o in self.outcomes})

    def runs(self, technique: str) -> list[RunOutcome]:
        """The runs of ``technique``, by seed."""
        runs = sorted((o for o in self.outcomes if o.technique == technique), key=lambda o: o.seed)
        if not runs:
            raise ImblabError(f"no technique {technique!r}; techniques: {', '.join(self.techniques)}")
        return runs

    def median_run(self, technique: str, metric: str | None = None) -> RunOutcome:
        """The run whose ``metric`` (default: the chosen one) is the median over seeds (lower middle if even)."""
        runs = self.runs(technique)
        metric = metric or self.metric
        values = self.results.set_index(["technique", "seed"]).loc[technique, metric]
        return runs[median_index([values.loc[o.seed] for o in runs])]

    def title(self, metric: str) -> str:
        """The human title of a metric."""
        return metric_title(metric, self.labels)

    # ------------------------------------------------------------------------------------------ tables

    @cached_property
    def _own_metrics(self) -> dict[tuple[str, int], dict[str, float]]:
        """Each run's metrics computed here from its predictions (fills gaps in ``RunOutcome.metrics``)."""
        own = {
            (o.technique, int(o.seed)): {
                k: float(v)
                for k, v in all_metrics(o.y_true, o.pred, o.proba, self.labels, positive=self.minority).items()
            }
            for o in self._all_outcomes
        }
        if self.cost is not None:  # the techniques' runs (the reference has no cost-based decisions)
            for key, values in own.items():
                if key in self.cost.runs:
                    values[COST_METRIC] = 1000 * self.cost.runs[key].bayes
        return own

    @property
    def _all_outcomes(self) -> list[RunOutcome]:
        return [*self.outcomes, *([self.reference] if self.reference is not None else [])]

    @property
    def reference_name(self) -> str | None:
        """The reference's name in every table, or None without one."""
        return None if self.reference is None else self.reference.technique

    def _rows_of(self, name: str) -> list[RunOutcome]:
        """The runs of a technique, or the reference's single run."""
        return [self.reference] if self.reference is not None and name == self.reference.technique else self.runs(name)

    @cached_property
    def metrics(self) -> list[str]:
        """The metric columns of :attr:`results`, in table order (without timings)."""
        present: set[str] = set()
        for o in self.outcomes:
            present.update(o.metrics)
        if self.cost_setting is not None:
            present.add(COST_METRIC)
        return metric_order(self.labels, present)

    @cached_property
    def resampling_weights(self) -> np.ndarray:
        """``(n_boot, n)`` resampling counts of the test examples, shared by every paired difference."""
        return bootstrap_weights(len(self.y_true), self.n_boot, self.bootstrap_seed)

    @cached_property
    def cost(self) -> CostComparison | None:
        """Expected costs, the tuned rule and the cost curves at the given costs; None without costs."""
        if self.cost_setting is None:
            return None
        return CostComparison(self, self.cost_setting, self.resampling_weights)

    @cached_property
    def results(self) -> pd.DataFrame:
        """One row per run: ``technique``, ``backend`` (empty for the reference), ``seed``, ``reference`` (True
        only for the scikit-learn reference's row, last), every test metric, ``seconds`` last.

        Values come from each run's own ``metrics``; a metric a run lacks is computed from its predictions.
        """
        rows = []
        names = [*self.techniques, *([self.reference_name] if self.reference is not None else [])]
        for technique in names:
            for o in self._rows_of(technique):
                own = self._own_metrics[(o.technique, int(o.seed))]
                row: dict[str, Any] = {"technique": technique, "backend": o.backend, "seed": int(o.seed),
                                       "reference": technique == self.reference_name}
                for m in self.metrics:
                    row[m] = float(o.metrics[m]) if m in o.metrics else own.get(m, math.nan)
                row["seconds"] = float(o.seconds)
                rows.append(row)
        return pd.DataFrame(rows, columns=["technique", "backend", "seed", "reference", *self.metrics, "seconds"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per technique and metric: ``n`` seeds, ``mean``, ``std`` (ddof=1), Student-t ``ci_low``/``ci_high``
        (clipped to [0, 1] for proportions; NaN with one seed) and ``best`` (the best mean of that metric, by
        the metric's direction)."""
        rows = []
        for technique in self.results["technique"].unique():
            runs = self.results[self.results["technique"] == technique]
            for m in [*self.metrics, "seconds"]:
                s = seed_interval(runs[m].to_numpy(), self.confidence)
                low, high = s.low, s.high
                if is_proportion(m) and m != "mcc":  # a t-interval can leave [0, 1]; the metric cannot
                    low, high = max(low, 0.0), min(high, 1.0)
                elif m == COST_METRIC:  # nor can a cost go below 0
                    low = max(low, 0.0)
                rows.append(
                    {"technique": technique, "metric": m, "n": s.n, "mean": s.mean, "std": s.std,
                     "ci_low": low, "ci_high": high}
                )
        table = pd.DataFrame(rows)
        table["best"] = False
        ranked = table[table["technique"] != self.reference_name]  # the reference is never ranked
        for m, group in ranked.groupby("metric", sort=False):
            if group["mean"].notna().any():
                best = group["mean"].max() if higher_is_better(m) else group["mean"].min()
                table.loc[group.index, "best"] = np.isclose(group["mean"], best, rtol=0, atol=1e-12)
        return table

    @cached_property
    def _summary_index(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["technique"], r["metric"]): r for r in self.summary.to_dict("records")}

    def stat(self, technique: str, metric: str) -> dict[str, Any]:
        """One row of :attr:`summary` as a dict (``n``, ``mean``, ``std``, ``ci_low``, ``ci_high``, ``best``)."""
        try:
            return self._summary_index[(technique, metric)]
        except KeyError:
            raise ImblabError(f"no summary of {metric!r} for technique {technique!r}") from None

    @cached_property
    def _bootstrap(self) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, float]]]:
        """Replicates (technique → metric → (B,)) and seed-averaged point values on the full test split."""
        names = [*self.techniques, *([self.reference_name] if self.reference is not None else [])]
        runs = {t: [(o.pred, o.proba) for o in self._rows_of(t)] for t in names}
        replicates = bootstrap_replicates(self.y_true, runs, self.labels, self.resampling_weights, self.minority)
        if self.cost is not None:  # the same replicates: the cost differences are paired like every other
            for t in self.techniques:
                replicates[t][COST_METRIC] = self.cost.replicates["bayes"][t]
        point = {
            t: {m: float(np.mean([self._own_metrics[(t, int(o.seed))][m] for o in self._rows_of(t)]))
                for m in replicates[t]}
            for t in names
        }
        return replicates, point

    @cached_property
    def bootstrap_metrics(self) -> list[str]:
        """The metrics the paired bootstrap covers, in table order."""
        replicates, _ = self._bootstrap
        covered = replicates[self.techniques[0]]
        return [m for m in self.metrics if m in covered]

    def compare(self, technique: str, other: str, metric: str) -> BootstrapDifference:
        """Paired bootstrap of ``technique − other`` on ``metric`` (same replicates as :attr:`differences`)."""
        replicates, point = self._bootstrap
        for name in (technique, other):
            if name not in replicates:
                raise ImblabError(f"no technique {name!r}; techniques: {', '.join(self.techniques)}")
        if metric not in replicates[technique] or metric not in replicates[other]:
            raise SpecError(f"the bootstrap does not cover {metric!r} for both; it covers: "
                            f"{', '.join(m for m in self.bootstrap_metrics if m in replicates[other])}")
        return difference_interval(
            metric, replicates[technique][metric], replicates[other][metric],
            point[technique][metric], point[other][metric], self.confidence,
        )

    @cached_property
    def differences(self) -> pd.DataFrame:
        """Each technique − baseline on every bootstrapped metric: the difference, its paired-bootstrap
        interval over test examples pooled over seeds, ``significant`` (interval excludes 0) and ``verdict``
        (``better``/``worse`` using the metric's direction, or ``no clear difference``)."""
        rows = []
        for technique in self.techniques:
            if technique == self.baseline:
                continue
            for m in self.bootstrap_metrics:
                d = self.compare(technique, self.baseline, m)
                verdict = {True: "better", False: "worse", None: "no clear difference"}[d.better]
                rows.append(
                    {"technique": technique, "baseline": self.baseline, "metric": m,
                     "technique_value": d.technique_value, "baseline_value": d.baseline_value,
                     "difference": d.difference, "ci_low": d.low, "ci_high": d.high,
                     "significant": d.significant, "verdict": verdict, "n_boot": d.n_boot}
                )
        columns = ["technique", "baseline", "metric", "technique_value", "baseline_value", "difference",
                   "ci_low", "ci_high", "significant", "verdict", "n_boot"]
        return pd.DataFrame(rows, columns=columns)

    @cached_property
    def _differences_index(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["technique"], r["metric"]): r for r in self.differences.to_dict("records")}

    def difference(self, technique: str, metric: str) -> dict[str, Any] | None:
        """One row of :attr:`differences` as a dict (``None`` for the baseline or an uncovered metric)."""
        return self._differences_index.get((technique, metric))

    @cached_property
    def probes(self) -> pd.DataFrame:
        """Per technique and probe text: mean and std over seeds of each label's probability,
        as trained (``<label>_raw_mean``/``_std``) and corrected to the true prior (``<label>_corrected_…``)."""
        texts = list(dict.fromkeys(p["text"] for o in self._all_outcomes for p in o.probes))
        columns = ["technique", "probe", "n"] + [
            f"{label}_{kind}_{stat}" for label in self.labels for kind in ("raw", "corrected") for stat in ("mean", "std")
        ]
        rows = []
        for technique in [*self.techniques, *([self.reference_name] if self.reference is not None else [])]:
            for text in texts:
                hits = [p for o in self._rows_of(technique) for p in o.probes if p["text"] == text]
                if not hits:
                    continue
                row: dict[str, Any] = {"technique": technique, "probe": text, "n": len(hits)}
                for label in self.labels:
                    for kind in ("raw", "corrected"):
                        s = seed_interval([float(p.get(kind, {}).get(label, math.nan)) for p in hits])
                        row[f"{label}_{kind}_mean"] = s.mean
                        row[f"{label}_{kind}_std"] = s.std
                rows.append(row)
        return pd.DataFrame(rows, columns=columns)

    @property
    def probe_label(self) -> str:
        """The label whose probe probability the reading and the chart show: the minority label for two
        classes, otherwise the label with the highest mean raw probability over all probes."""
        if len(self.labels) == 2 or self.probes.empty:
            return self.minority_label
        means = {label: self.probes[f"{label}_raw_mean"].mean() for label in self.labels}
        return max(means, key=lambda k: (np.nan_to_num(means[k], nan=-1.0)))

    @cached_property
    def prior_support(self) -> pd.DataFrame:
        """How well each technique's model supports estimating a production prior without labels: EM's mean
        absolute error of the minority share, in points, on its test split resampled to 2 %, its own share and
        50 % (:mod:`._prior_support`): ``technique``, ``share``, ``mae_points``."""
        from ._prior_support import prior_support

        return prior_support({t: self.runs(t) for t in self.techniques}, self.minority)

    @cached_property
    def regularisation(self) -> pd.DataFrame:
        """The inverse L2 strength C each run's linear head was fitted with (chosen on validation): one row
        per run that has one (``technique``, ``seed``, ``C``, ``metric`` that chose it, ``path`` length)."""
        rows = [
            {"technique": o.technique, "seed": int(o.seed), "C": float(o.fit["C"]), "metric": o.fit.get("metric"),
             "path": len(o.fit.get("path") or [])}
            for o in self._all_outcomes if o.fit and o.fit.get("C") is not None
        ]
        return pd.DataFrame(rows, columns=["technique", "seed", "C", "metric", "path"])
