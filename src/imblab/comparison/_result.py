"""The result of a techniques × seeds study: tables, paired differences and a plain-language reading."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write_csv
from ..errors import ImblabError, SpecError
from ._names import is_proportion, metric_order, metric_title, normalise_metric
from ._outcome import RunOutcome
from ._statistics import (
    BootstrapDifference,
    all_metrics,
    bootstrap_replicates,
    bootstrap_weights,
    difference_interval,
    higher_is_better,
    median_index,
    seed_interval,
)

__all__ = ["ComparisonResult"]

log = logging.getLogger(__name__)

MINUS = "\u2212"


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
        metric: The metric that ranks techniques (``"macro_f1"``; dashes are accepted: ``"macro-f1"``).
        n_boot: Bootstrap replicates of the paired differences.
        bootstrap_seed: Seed of the bootstrap resampling.
        confidence: Coverage of every interval.

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
    ) -> None:
        if not outcomes:
            raise ImblabError("no runs to compare")
        self.outcomes = list(outcomes)
        self.labels = [str(label) for label in labels]
        self.profile = profile or {}
        self.config = config or {}
        self.environment = environment or {}
        self.n_boot = int(n_boot)
        self.bootstrap_seed = int(bootstrap_seed)
        self.confidence = float(confidence)
        self._check_outcomes()
        self.techniques: list[str] = list(dict.fromkeys(o.technique for o in self.outcomes))
        self.y_true = self.outcomes[0].y_true
        counts = np.bincount(self.y_true, minlength=len(self.labels))
        self.minority = int(np.argmin(counts))
        self.minority_label = self.labels[self.minority]
        if baseline not in self.techniques:
            log.warning("baseline %r is not among the techniques; comparing with %r", baseline, self.techniques[0])
            baseline = self.techniques[0]
        self.baseline = baseline
        self.metric = normalise_metric(metric)
        if self.metric not in self.metrics:
            raise SpecError(f"unknown metric {metric!r}; choose one of: {', '.join(self.metrics)}")

    def _check_outcomes(self) -> None:
        first = self.outcomes[0]
        seen: set[tuple[str, int]] = set()
        for o in self.outcomes:
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
        return {
            (o.technique, int(o.seed)): {
                k: float(v)
                for k, v in all_metrics(o.y_true, o.pred, o.proba, self.labels, positive=self.minority).items()
            }
            for o in self.outcomes
        }

    @cached_property
    def metrics(self) -> list[str]:
        """The metric columns of :attr:`results`, in table order (without timings)."""
        present: set[str] = set()
        for o in self.outcomes:
            present.update(o.metrics)
        return metric_order(self.labels, present)

    @cached_property
    def results(self) -> pd.DataFrame:
        """One row per run: ``technique``, ``seed``, every test metric, ``seconds`` last.

        Values come from each run's own ``metrics``; a metric a run lacks is computed from its predictions.
        """
        rows = []
        for technique in self.techniques:
            for o in self.runs(technique):
                own = self._own_metrics[(o.technique, int(o.seed))]
                row: dict[str, Any] = {"technique": technique, "seed": int(o.seed)}
                for m in self.metrics:
                    row[m] = float(o.metrics[m]) if m in o.metrics else own.get(m, math.nan)
                row["seconds"] = float(o.seconds)
                rows.append(row)
        return pd.DataFrame(rows, columns=["technique", "seed", *self.metrics, "seconds"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per technique and metric: ``n`` seeds, ``mean``, ``std`` (ddof=1), Student-t ``ci_low``/``ci_high``
        (clipped to [0, 1] for proportions; NaN with one seed) and ``best`` (the best mean of that metric, by
        the metric's direction)."""
        rows = []
        for technique in self.techniques:
            runs = self.results[self.results["technique"] == technique]
            for m in [*self.metrics, "seconds"]:
                s = seed_interval(runs[m].to_numpy(), self.confidence)
                low, high = s.low, s.high
                if is_proportion(m) and m != "mcc":  # a t-interval can leave [0, 1]; the metric cannot
                    low, high = max(low, 0.0), min(high, 1.0)
                rows.append(
                    {"technique": technique, "metric": m, "n": s.n, "mean": s.mean, "std": s.std,
                     "ci_low": low, "ci_high": high}
                )
        table = pd.DataFrame(rows)
        table["best"] = False
        for m, group in table.groupby("metric", sort=False):
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
        weights = bootstrap_weights(len(self.y_true), self.n_boot, self.bootstrap_seed)
        runs = {t: [(o.pred, o.proba) for o in self.runs(t)] for t in self.techniques}
        replicates = bootstrap_replicates(self.y_true, runs, self.labels, weights, self.minority)
        point = {
            t: {m: float(np.mean([self._own_metrics[(t, int(o.seed))][m] for o in self.runs(t)]))
                for m in replicates[t]}
            for t in self.techniques
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
        if metric not in replicates[technique]:
            raise SpecError(f"the bootstrap does not cover {metric!r}; it covers: {', '.join(self.bootstrap_metrics)}")
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
        texts = list(dict.fromkeys(p["text"] for o in self.outcomes for p in o.probes))
        columns = ["technique", "probe", "n"] + [
            f"{label}_{kind}_{stat}" for label in self.labels for kind in ("raw", "corrected") for stat in ("mean", "std")
        ]
        rows = []
        for technique in self.techniques:
            for text in texts:
                hits = [p for o in self.runs(technique) for p in o.probes if p["text"] == text]
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

    # ------------------------------------------------------------------------------------------ reading

    def format_difference(self, metric: str, value: float, low: float, high: float, ci_prefix: bool = True) -> str:
        """``"+3.1 points [95 % CI 1.2, 5.0]"`` (or raw values for calibration metrics)."""
        pct = f"{round(self.confidence * 100):d} % CI "
        scale, digits = (100.0, 1) if is_proportion(metric) else (1.0, 3)
        # A bound that is not 0 must not print as 0: add digits until it does not.
        while digits < 4 and any(b != 0 and round(b * scale, digits) == 0 for b in (low, high) if np.isfinite(b)):
            digits += 1
        body = _signed(value * scale, digits) + (" points" if scale == 100.0 else "")
        interval = f"{_num(low * scale, digits)}, {_num(high * scale, digits)}"
        return f"{body} [{pct if ci_prefix else ''}{interval}]"

    def reading(self) -> list[str]:
        """Plain-language sentences computed from the numbers: the best technique and whether its lead is
        real, what each technique did to the minority label's recall and precision, seed noise, calibration
        and the probes."""
        sentences = [self._reading_best()]
        sentences += self._reading_minority()
        sentences += [s for s in (self._reading_noise(), self._reading_calibration()) if s]
        sentences += self._reading_probes()
        return sentences

    def _ranked(self, metric: str) -> list[str]:
        means = {t: self.stat(t, metric)["mean"] for t in self.techniques}
        sign = -1.0 if higher_is_better(metric) else 1.0
        return sorted(self.techniques, key=lambda t: (np.nan_to_num(sign * means[t], nan=np.inf), self.techniques.index(t)))

    def _value(self, technique: str, metric: str) -> str:
        s = self.stat(technique, metric)
        digits = 3
        text = f"{_num(s['mean'], digits)}"
        if s["n"] > 1:
            text += f" ± {_num(s['std'], digits)} over {int(s['n'])} seeds"
        return text

    def _reading_best(self) -> str:
        m, title = self.metric, self.title(self.metric)
        ranked = self._ranked(m)
        best = ranked[0]
        sentence = f"On {title}, {best} is best ({self._value(best, m)})"
        if len(ranked) == 1:
            return sentence + "."
        covered = m in self.bootstrap_metrics
        runner = ranked[1]
        if covered:
            d = self.compare(best, runner, m)
            verdict = (
                "a real lead: the interval excludes 0" if d.significant
                else "within test-set noise, so the two are not distinguishable here"
            )
            sentence += (
                f"; its lead over the runner-up {runner} is {self.format_difference(m, d.difference, d.low, d.high)}, "
                f"{verdict}"
            )
            if best != self.baseline and runner != self.baseline:
                b = self.compare(best, self.baseline, m)
                sentence += (
                    f"; versus {self.baseline} it is {self.format_difference(m, b.difference, b.low, b.high, False)}"
                    f" ({'significant' if b.significant else 'not significant'})"
                )
        sentence += "."
        if best == self.baseline and covered:
            worse = [t for t in self.techniques if t != self.baseline and self.compare(t, self.baseline, m).better is False]
            sentence += f" No technique beat {self.baseline} on {title}"
            sentence += f"; {_join(worse)} {'was' if len(worse) == 1 else 'were'} significantly worse." if worse else "."
        return sentence

    def _reading_minority(self) -> list[str]:
        label = self.minority_label
        out = []
        for technique in self.techniques:
            if technique == self.baseline:
                continue
            parts = []
            for part in ("recall", "precision"):
                metric = f"{label}_{part}"
                if metric not in self.bootstrap_metrics:
                    continue
                d = self.compare(technique, self.baseline, metric)
                what = f"{label} {part}"
                if d.significant:
                    verb = "raised" if d.difference > 0 else "lowered"
                    parts.append(f"{verb} {what} by {self.format_difference(metric, d.difference, d.low, d.high)}")
                else:
                    parts.append(
                        f"did not clearly change {what} ({self.format_difference(metric, d.difference, d.low, d.high)})"
                    )
            if parts:
                out.append(f"{technique} {' and '.join(parts)} versus {self.baseline}.")
        return out

    def _reading_noise(self) -> str | None:
        m = self.metric
        stds = [self.stat(t, m)["std"] for t in self.techniques]
        means = [self.stat(t, m)["mean"] for t in self.techniques]
        finite = [s for s in stds if np.isfinite(s)]
        if not finite or len(self.techniques) < 2:
            return None
        scale, unit = (100.0, " points") if is_proportion(m) else (1.0, "")
        digits = 1 if is_proportion(m) else 3
        spread = (np.nanmax(means) - np.nanmin(means)) * scale
        return (
            f"Seed-to-seed standard deviation of {self.title(m)} is {_num(min(finite) * scale, digits)}–"
            f"{_num(max(finite) * scale, digits)}{unit}, against a spread of {_num(spread, digits)}{unit} between "
            f"the technique means: differences smaller than the seed noise are not evidence."
        )

    def _reading_calibration(self) -> str | None:
        if "ece" not in self.metrics or len(self.techniques) < 2:
            return None
        ranked = self._ranked("ece")
        best, worst = ranked[0], ranked[-1]
        return (
            f"Best calibrated (lowest ECE): {best} ({_num(self.stat(best, 'ece')['mean'], 3)}); "
            f"least calibrated: {worst} ({_num(self.stat(worst, 'ece')['mean'], 3)})."
        )

    def _reading_probes(self) -> list[str]:
        table = self.probes
        if table.empty:
            return []
        label = self.probe_label
        out = []
        for text, group in table.groupby("probe", sort=False):
            raw = group.set_index("technique")[f"{label}_raw_mean"].dropna()
            corrected = group.set_index("technique")[f"{label}_corrected_mean"].dropna()
            if raw.empty:
                continue
            sentence = f'On "{text}", P({label}) ranges from {_range(raw)} as trained'
            if not corrected.empty:
                sentence += f", and from {_range(corrected)} after correcting to the true prior"
            if self.baseline in raw.index:
                sentence += f"; {self.baseline} gives {_num(raw[self.baseline], 2)}"
            out.append(sentence + ".")
        return out

    # ------------------------------------------------------------------------------------------ output

    def write_tables(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``results.csv``, ``probes.csv`` and ``differences.csv`` atomically (text cells made formula-safe)."""
        directory = Path(directory)
        return {
            name: atomic_write_csv(directory / f"{name}.csv", table)
            for name, table in (("results", self.results), ("probes", self.probes), ("differences", self.differences))
        }

    def write(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the tables, ``summary.md`` and the self-contained ``report.html`` into ``directory``.

        Returns:
            Output name → path.
        """
        # The report lives one layer up (imblab.reporting); import it only when asked to write one.
        from ..reporting import write_report

        paths = self.write_tables(directory)
        paths.update(write_report(self, directory))
        return paths


def _num(x: float, digits: int) -> str:
    if x is None or not np.isfinite(x):
        return "—"
    return f"{x:.{digits}f}".replace("-", MINUS)


def _signed(x: float, digits: int) -> str:
    if not np.isfinite(x):
        return "—"
    return ("+" if x >= 0 else MINUS) + f"{abs(x):.{digits}f}"


def _range(values: pd.Series) -> str:
    lo, hi = values.idxmin(), values.idxmax()
    return f"{_num(values[lo], 2)} ({lo}) to {_num(values[hi], 2)} ({hi})"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
