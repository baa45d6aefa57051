"""The plain-language reading of a comparison: sentences computed from its numbers, never written by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._format import number, signed
from ..comparison import COST_METRIC
from ..evaluation import cheapest_sentences, higher_is_better, is_proportion

if TYPE_CHECKING:
    from ..comparison import BootstrapDifference, ComparisonResult
    from ..comparison._costs import CostCurves

__all__ = ["format_difference", "reading", "cost_reading", "curve_sentences", "study_reading"]


def curve_sentences(curves: CostCurves) -> dict[str, str]:
    """Technique → where on the cost curves it is cheapest, in the user's units at the deployment prior."""
    return cheapest_sentences(curves.cheapest, positive_label=curves.positive, prior_positive=curves.prior_positive)


def study_reading(result: ComparisonResult) -> list[str]:
    """The reading of a study: :func:`reading`'s sentences, with the cost sentences (:func:`cost_reading`) after
    the first when costs are given."""
    sentences = reading(result)
    if result.cost is not None:
        sentences[1:1] = cost_reading(result)
    return sentences


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
    sentences += [s for s in (_reading_backends(result), _reading_reference(result), _reading_samplers(result)) if s]
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


def _reading_backends(result: ComparisonResult) -> str | None:
    """With several backends: the (backend, technique) chosen on validation, its test result, and its paired
    differences to the yardstick and to each other backend's own choice on validation."""
    chosen = result.chosen
    if len(result.backends) < 2 or chosen is None:
        return None
    m = chosen.metric
    sentence = (f"Chosen on validation ({result.title(m)} {number(chosen.value, 3)}): {chosen.technique}, the "
                f"{chosen.backend} backend; on test {_value(result, chosen.technique, m)}")
    quality = result.metric if result.cost_setting is None else result.quality_metric
    comparisons = []
    if result.reference_name is not None and quality in result.bootstrap_metrics:
        d = result.compare(chosen.technique, result.reference_name, quality)
        comparisons.append(f"vs the scikit-learn reference {_difference(result, d, ci_prefix=False)}"
                           f" ({'significant' if d.significant else 'not significant'})")
    if m in result.bootstrap_metrics:
        for backend, other in chosen.per_backend.items():
            if backend == chosen.backend:
                continue
            d = result.compare(chosen.technique, other, m)
            comparisons.append(f"vs {backend}'s own choice {other} {_difference(result, d, ci_prefix=False)}"
                               f" ({'significant' if d.significant else 'not significant'})")
    if comparisons:
        sentence += "; " + "; ".join(comparisons)
    return sentence + ". It is the model this study ships (the test split only measured it)."


def _reading_samplers(result: ComparisonResult) -> str | None:
    """Each feature-space sampler (SMOTE, Tomek links, …) against ``upsample`` on the same backend — the same kind
    of prior shift without synthesis — so "does synthesis add anything?" has its own paired-bootstrap answer."""
    from ..techniques import PRESETS

    m = result.metric if result.cost_setting is None else result.quality_metric
    if m not in result.bootstrap_metrics:
        return None
    parts = []
    for technique in result.techniques:
        preset = PRESETS.get(result.runs(technique)[0].spec.split(":")[0])
        if preset is None or not preset.feature_space:
            continue
        prefix = technique[: technique.index("/") + 1] if "/" in technique else ""
        upsample = next((t for t in result.techniques if t == f"{prefix}upsample"), None)
        if upsample is None:
            continue
        d = result.compare(technique, upsample, m)
        parts.append(f"{technique} {_difference(result, d, ci_prefix=False)} "
                     f"({'significant' if d.significant else 'not significant'})")
    if not parts:
        return None
    return (f"Does synthesis add anything? {result.title(m)} of each sampler minus upsample (the same shift of the "
            f"prior, no synthetic rows): " + "; ".join(parts) + ".")


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


# ---------------------------------------------------------------------------------------------- costs
def _cost_difference(result: ComparisonResult, d: BootstrapDifference) -> str:
    return format_difference(COST_METRIC, d.difference, d.low, d.high, result.confidence)


def cost_reading(result: ComparisonResult) -> list[str]:
    """Sentences on cost: ranking against the chosen metric, Bayes against tuned, and the cost curves (the
    costs themselves are stated by the report's header)."""
    out = [s for s in (_cost_agreement(result), _bayes_vs_tuned(result), _cost_blind(result)) if s]
    out += _cost_curves(result)
    return out


def _cost_agreement(result: ComparisonResult) -> str | None:
    cost, metric = result.cost, result.quality_metric
    assert cost is not None
    if len(result.techniques) < 2 or metric not in result.metrics:
        return None
    means = {t: result.stat(t, metric)["mean"] for t in result.techniques}
    sign = -1.0 if higher_is_better(metric) else 1.0
    best = min(result.techniques, key=lambda t: (np.nan_to_num(sign * means[t], nan=np.inf),
                                                 result.techniques.index(t)))
    cheapest_one = cost.ranking[0]
    title = result.title(metric)
    cheapest_cost = number(cost.summary(cheapest_one).mean, 2)
    if best == cheapest_one:
        return (f"Cost and {title} agree: {best} is both the cheapest ({cheapest_cost} per 1,000 texts) and the best "
                f"on {title}.")
    return (f"Cost and {title} disagree: {cheapest_one} is the cheapest ({cheapest_cost} per 1,000 texts against "
            f"{number(cost.summary(best).mean, 2)} for {best}), while {best} is best on {title} "
            f"({number(means[best], 3)} against {number(means[cheapest_one], 3)}). {title} counts the errors "
            f"of the test split's class mix, the cost prices each kind of error and weighs the labels by the "
            f"deployment prior, so they need not agree.")


def _bayes_vs_tuned(result: ComparisonResult) -> str:
    cost = result.cost
    assert cost is not None
    if not cost.has_validation:
        return ("The threshold tuned on validation is unavailable: these runs were stored before imblab kept "
                "their validation predictions (validation.csv); retrain them to compare it with the Bayes decision.")
    tuned_wins, bayes_wins, ties = [], [], []
    for t in result.techniques:
        d = cost.tuned_minus_bayes(t)
        if d is None:
            continue
        entry = f"{t} {_cost_difference(result, d)}"
        (tuned_wins if d.high < 0 else bayes_wins if d.low > 0 else ties).append((t, entry))
    n_val = int(cost.per_run["n_validation"].max())
    k = cost.setting.positive_index
    positives = int(np.sum(result.outcomes[0].val_y == k)) if result.outcomes[0].val_y is not None else 0
    parts = []
    if bayes_wins:
        parts.append(f"the Bayes decision is cheaper for {_join([e for _, e in bayes_wins])}")
    if tuned_wins:
        parts.append(f"the rule tuned on validation is cheaper for {_join([e for _, e in tuned_wins])}")
    if ties:
        parts.append(f"there is no clear difference for {_join([e for _, e in ties])}")
    sentence = ("Bayes decision against the rule tuned on validation (tuned − Bayes per 1,000 texts): "
                + "; ".join(parts) + ".")
    eces = {t: cost.ece(t) for t in result.techniques}
    if tuned_wins:
        winners = [t for t, _ in tuned_wins]
        listed = ", ".join(f"{t} {number(eces[t], 3)}" for t in winners)
        rest = [t for t in result.techniques if t not in winners]
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
                     f"{n_val:,} validation texts ({positives:,} {cost.setting.labels[k]}) and carries their noise "
                     f"to new data.")
    return sentence


def _cost_blind(result: ComparisonResult) -> str | None:
    """Techniques whose own, cost-blind decisions are significantly cheaper than their Bayes decision."""
    cost = result.cost
    assert cost is not None
    cheaper = []
    for t in result.techniques:
        d = cost.difference(t, t, "own", "bayes")
        if d is not None and d.high < 0:
            cheaper.append(f"{t} {_cost_difference(result, d)}")
    if not cheaper:
        return None
    return (f"Cost-blind decisions (the technique's own argmax or thresholds) beat the Bayes decision for "
            f"{_join(cheaper)} (own − Bayes per 1,000 texts): another sign that these probabilities, once "
            f"corrected to the deployment prior, are off where the decision is made.")


def _cost_curves(result: ComparisonResult) -> list[str]:
    cost = result.cost
    assert cost is not None
    curves = cost.curves
    if curves is None:
        return []
    winners = [t for t in curves.cheapest.names if curves.cheapest.ranges[t]]
    never = [t for t in curves.cheapest.names if not curves.cheapest.ranges[t]]
    sentences = curve_sentences(curves)
    out = [sentences[t] + "." for t in winners]
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
