"""The plain-language reading of a comparison: sentences computed from its numbers, never written by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._format import number, signed
from ..evaluation import higher_is_better, is_proportion

if TYPE_CHECKING:
    from ._bootstrap import BootstrapDifference
    from ._result import ComparisonResult

__all__ = ["format_difference", "reading"]


def format_difference(
    metric: str, value: float, low: float, high: float, confidence: float = 0.95, ci_prefix: bool = True
) -> str:
    """``"+3.1 points [95 % CI 1.2, 5.0]"`` (or raw values for calibration metrics)."""
    pct = f"{round(confidence * 100):d} % CI "
    scale, digits = (100.0, 1) if is_proportion(metric) else (1.0, 3)
    # A bound that is not 0 must not print as 0: add digits until it does not.
    while digits < 4 and any(b != 0 and round(b * scale, digits) == 0 for b in (low, high) if np.isfinite(b)):
        digits += 1
    body = signed(value * scale, digits) + (" points" if scale == 100.0 else "")
    interval = f"{number(low * scale, digits)}, {number(high * scale, digits)}"
    return f"{body} [{pct if ci_prefix else ''}{interval}]"


def _difference(result: ComparisonResult, d: BootstrapDifference, ci_prefix: bool = True) -> str:
    return format_difference(d.metric, d.difference, d.low, d.high, result.confidence, ci_prefix)


def reading(result: ComparisonResult) -> list[str]:
    """Plain-language sentences computed from the numbers: the best technique and whether its lead is
    real, what each technique did to the minority label's recall and precision, seed noise, calibration
    and the probes."""
    sentences = [_reading_best(result)]
    sentences += [s for s in (_reading_reference(result),) if s]
    sentences += _reading_minority(result)
    sentences += [s for s in (_reading_noise(result), _reading_calibration(result)) if s]
    sentences += _reading_probes(result)
    return sentences


def _ranked(result: ComparisonResult, metric: str) -> list[str]:
    means = {t: result.stat(t, metric)["mean"] for t in result.techniques}
    sign = -1.0 if higher_is_better(metric) else 1.0
    return sorted(result.techniques, key=lambda t: (np.nan_to_num(sign * means[t], nan=np.inf), result.techniques.index(t)))


def _value(result: ComparisonResult, technique: str, metric: str) -> str:
    s = result.stat(technique, metric)
    digits = 3
    text = f"{number(s['mean'], digits)}"
    if s["n"] > 1:
        text += f" ± {number(s['std'], digits)} over {int(s['n'])} seeds"
    return text


def _reading_best(result: ComparisonResult) -> str:
    m, title = result.metric, result.title(result.metric)
    ranked = _ranked(result, m)
    best = ranked[0]
    sentence = f"On {title}, {best} is best ({_value(result, best, m)})"
    if len(ranked) == 1:
        return sentence + "."
    covered = m in result.bootstrap_metrics
    runner = ranked[1]
    if covered:
        d = result.compare(best, runner, m)
        verdict = (
            "a real lead: the interval excludes 0" if d.significant
            else "within test-set noise, so the two are not distinguishable here"
        )
        sentence += (
            f"; its lead over the runner-up {runner} is {_difference(result, d)}, "
            f"{verdict}"
        )
        if best != result.baseline and runner != result.baseline:
            b = result.compare(best, result.baseline, m)
            sentence += (
                f"; versus {result.baseline} it is {_difference(result, b, ci_prefix=False)}"
                f" ({'significant' if b.significant else 'not significant'})"
            )
    sentence += "."
    if best == result.baseline and covered:
        worse = [t for t in result.techniques if t != result.baseline and result.compare(t, result.baseline, m).better is False]
        sentence += f" No technique beat {result.baseline} on {title}"
        sentence += f"; {_join(worse)} {'was' if len(worse) == 1 else 'were'} significantly worse." if worse else "."
    return sentence


def _reading_reference(result: ComparisonResult) -> str | None:
    """The best technique against the scikit-learn reference, with the paired-bootstrap interval."""
    reference = result.reference_name
    # The reference makes no cost-based decisions: with costs it is compared on the quality metric.
    m = result.metric if result.cost_setting is None else result.quality_metric
    if reference is None or m not in result.bootstrap_metrics:
        return None
    best = _ranked(result, result.metric)[0]
    d = result.compare(best, reference, m)
    verdict = ("within test-set noise: a tie" if not d.significant
               else "a real lead over the yardstick" if d.better else "significantly behind the yardstick")
    fit = result.reference.fit if result.reference is not None else None
    chosen = f", C = {fit['C']:g} chosen on validation" if fit and fit.get("C") is not None else ""
    return (f"{best} vs the scikit-learn reference (TF-IDF + LogisticRegression(class_weight=\"balanced\"){chosen}: "
            f"{result.title(m)} {number(result.stat(reference, m)['mean'], 3)}): {_difference(result, d)}, {verdict}.")


def _reading_minority(result: ComparisonResult) -> list[str]:
    label = result.minority_label
    out = []
    for technique in result.techniques:
        if technique == result.baseline:
            continue
        parts = []
        for part in ("recall", "precision"):
            metric = f"{label}_{part}"
            if metric not in result.bootstrap_metrics:
                continue
            d = result.compare(technique, result.baseline, metric)
            what = f"{label} {part}"
            if d.significant:
                verb = "raised" if d.difference > 0 else "lowered"
                parts.append(f"{verb} {what} by {_difference(result, d)}")
            else:
                parts.append(
                    f"did not clearly change {what} ({_difference(result, d)})"
                )
        if parts:
            out.append(f"{technique} {' and '.join(parts)} versus {result.baseline}.")
    return out


def _reading_noise(result: ComparisonResult) -> str | None:
    m = result.metric
    stds = [result.stat(t, m)["std"] for t in result.techniques]
    means = [result.stat(t, m)["mean"] for t in result.techniques]
    finite = [s for s in stds if np.isfinite(s)]
    if not finite or len(result.techniques) < 2:
        return None
    scale, unit = (100.0, " points") if is_proportion(m) else (1.0, "")
    digits = 1 if is_proportion(m) else 3
    spread = (np.nanmax(means) - np.nanmin(means)) * scale
    return (
        f"Seed-to-seed standard deviation of {result.title(m)} is {number(min(finite) * scale, digits)}–"
        f"{number(max(finite) * scale, digits)}{unit}, against a spread of {number(spread, digits)}{unit} between "
        f"the technique means: differences smaller than the seed noise are not evidence."
    )


def _reading_calibration(result: ComparisonResult) -> str | None:
    if "ece" not in result.metrics or len(result.techniques) < 2:
        return None
    ranked = _ranked(result, "ece")
    best, worst = ranked[0], ranked[-1]
    return (
        f"Best calibrated (lowest ECE): {best} ({number(result.stat(best, 'ece')['mean'], 3)}); "
        f"least calibrated: {worst} ({number(result.stat(worst, 'ece')['mean'], 3)})."
    )


def _reading_probes(result: ComparisonResult) -> list[str]:
    table = result.probes
    if table.empty:
        return []
    label = result.probe_label
    out = []
    for text, group in table.groupby("probe", sort=False):
        raw = group.set_index("technique")[f"{label}_raw_mean"].dropna()
        corrected = group.set_index("technique")[f"{label}_corrected_mean"].dropna()
        if raw.empty:
            continue
        sentence = f'On "{text}", P({label}) ranges from {_range(raw)} as trained'
        if not corrected.empty:
            sentence += f", and from {_range(corrected)} after correcting to the true prior"
        if result.baseline in raw.index:
            sentence += f"; {result.baseline} gives {number(raw[result.baseline], 2)}"
        out.append(sentence + ".")
    return out


def _range(values: pd.Series) -> str:
    lo, hi = values.idxmin(), values.idxmax()
    return f"{number(values[lo], 2)} ({lo}) to {number(values[hi], 2)} ({hi})"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
