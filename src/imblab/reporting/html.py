"""``report.html``: one self-contained file (inline CSS and SVG, no scripts, no external URL) that opens offline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ._reading import curve_sentences, study_reading
from ._sections import sections as html_sections
from .plots import Plot, all_plots, cost_curve_chart, technique_colors
from ._tables import (
    PROBES_NOTE,
    classification_reports,
    cost_table,
    differences_table,
    headline,
    per_label_table,
    probability_table,
    probes_tables,
    prior_table,
    regularisation_table,
    results_table,
    timings_table,
    tuning_table,
)

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["render_html"]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("imblab.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as ``(dotted key, value)`` rows."""
    rows: list[tuple[str, str]] = []
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{name}.")
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(str(v) for v in value) if all(not isinstance(v, (dict, list)) for v in value)
                         else json.dumps(value, default=str)))
        else:
            rows.append((name, "—" if value is None else str(value)))
    return rows


def _profile(profile: dict[str, Any]) -> dict[str, Any] | None:
    if not profile.get("classes"):
        return None
    labels = [c["label"] for c in profile["classes"]]
    split = profile.get("split")
    parts = []
    if split:
        for part, counts in split["counts"].items():
            parts.append((part, [counts.get(label, 0) for label in labels], sum(counts.values())))
    chars = profile.get("length", {}).get("characters", {}).get("per_class", {})
    return {
        "dataset": profile.get("dataset", ""),
        "n_rows": profile.get("n_rows"),
        "dropped_rows": profile.get("dropped_rows", 0),
        "duplicate_texts": profile.get("duplicate_texts", 0),
        "imbalance_ratio": profile.get("imbalance_ratio"),
        "minority_label": profile.get("minority_label"),
        "classes": [
            {**c, "chars_p50": chars.get(c["label"], {}).get("p50"), "chars_p95": chars.get(c["label"], {}).get("p95")}
            for c in profile["classes"]
        ],
        "labels": labels,
        "split": parts,
        "split_seed": split.get("seed") if split else None,
        "citation": profile.get("citation"),
        "license": profile.get("license"),
    }


def render_html(result: ComparisonResult, cost_chart: Plot | None = None) -> str:
    """The whole report as one HTML string (``cost_chart``: the cost curves if already drawn)."""
    plots = all_plots(result)
    costs = cost_table(result)
    if costs is not None and cost_chart is None:
        cost_chart = cost_curve_chart(result)
    colors = technique_colors(result.techniques, result.baseline)
    dataset = result.profile.get("dataset") or result.config.get("dataset") or "data"
    sections = [(s.id, s.title) for s in html_sections(result, "html")]
    probes = probes_tables(result)
    diffs = differences_table(result)
    tuning = tuning_table(result)
    context = {
        "dataset": dataset,
        "h": headline(result),
        "baseline": result.baseline,
        "n_boot": result.n_boot,
        "reading": study_reading(result),
        "costs": costs,
        "cost_chart": None if cost_chart is None else {
            "id": cost_chart.id, "title": cost_chart.title, "caption": cost_chart.caption, "svg": Markup(cost_chart.svg)},
        "cost_sentences": [] if result.cost is None or result.cost.curves is None
        else [curve_sentences(result.cost.curves)[t] for t in result.cost.curves.cheapest.names],
        "profile": _profile(result.profile),
        "results": results_table(result),
        "per_label": per_label_table(result),
        "probabilities": probability_table(result),
        "probes_note": PROBES_NOTE,
        "differences": diffs,
        "probes": probes,
        "timings": timings_table(result),
        "regularisation": regularisation_table(result),
        "prior": prior_table(result),
        "tuning": tuning,
        "plots": [{"id": p.id, "title": p.title, "caption": p.caption, "svg": Markup(p.svg)} for p in plots],
        "reports": classification_reports(result),
        "colors": colors,
        "config": _flatten(result.config),
        "environment": _flatten(result.environment),
        "sections": sections,
        "labels": result.labels,
    }
    return _environment().get_template("report.html.j2").render(**context)
