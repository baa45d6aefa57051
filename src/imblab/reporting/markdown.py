"""``summary.md``: the study's tables and reading as GitHub-flavoured Markdown."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from ._reading import curve_sentences, study_reading
from ._sections import sections
from ._tables import (
    PROBES_NOTE,
    Cell,
    Table,
    cost_table,
    differences_table,
    headline,
    per_label_table,
    probability_table,
    prior_table,
    probes_tables,
    regularisation_table,
    results_table,
    timings_table,
    tuning_table,
)

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["render_markdown"]


def _text(text: object) -> str:
    """User text (labels, technique names, probes) as literal Markdown text on one line.

    GitHub renders raw HTML in Markdown: a label or probe such as ``<script>`` or ``<img src=x>``
    must show as written, so ``&``, ``<`` and ``>`` become entities.
    """
    escaped = html.escape(str(text), quote=False).replace("\r", " ").replace("\n", " ")
    # Markdown's inline markup (emphasis, code, strike-through, GitHub's $math$) and links (a "](" ends a link's
    # text: a bracket alone, as in "[95 % CI 1.2, 5.0]", is no markup) show as written.
    return _MARKUP.sub(r"\\\g<0>", escaped).replace("](", "\\](")


# An underscore inside a word (hate_speech) is never emphasis in GitHub's Markdown: only one at a word's edge is.
_MARKUP = re.compile(r"[\\`*$~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _escape(text: str) -> str:
    """:func:`_text` inside a table cell, where ``|`` would end the cell."""
    return _text(text).replace("|", "\\|")


def _cell(cell: Cell, with_ci: bool) -> str:
    text = _escape(cell.text)
    if cell.best:
        text = f"**{text}**"
    if cell.marker:
        text = f"{text} {cell.marker}"
    if with_ci and cell.ci:
        text = f"{text} <sub>{_escape(cell.ci)}</sub>"
    return text


def _table(table: Table, first: str = "technique", with_ci: bool = True) -> str:
    numeric = [True] * len(table.columns)
    lines = [
        "| " + " | ".join([first, *(_escape(c) for c in table.columns)]) + " |",
        "|" + "|".join([":---", *(("---:" if n else ":---") for n in numeric)]) + "|",
    ]
    for name, cells in table.rows:
        title = f"*{_escape(name)}* (reference)" if name == table.reference else _escape(name)
        lines.append("| " + " | ".join([title, *(_cell(c, with_ci) for c in cells)]) + " |")
    out = "\n".join(lines)
    if table.note:
        out += f"\n\n<sub>{_text(table.note)}</sub>"
    return out


def _costs_section(result: ComparisonResult) -> list[str]:
    """The cost table, where each technique is cheapest, and the cost-curve figure (cost_curves.svg)."""
    table = cost_table(result)
    if table is None or result.cost is None:
        return []
    parts = ["## Costs", "", _table(table), ""]
    curves = result.cost.curves
    if curves is not None:
        parts += ["### Cost curves", "", "![Cost curves: normalised expected cost against the probability-cost "
                  "function, one line per technique](cost_curves.svg)", ""]
        sentences = curve_sentences(curves)
        parts += [f"- {_text(sentences[t])}." for t in curves.cheapest.names]
        parts += ["", "<sub>Drummond & Holte (2006) cost curves of each technique's Bayes decisions, mean over seeds on "
                  "the test split; ties within one test error are no win. The figure is also in report.html.</sub>", ""]
    return parts


def render_markdown(result: ComparisonResult) -> str:
    """The whole ``summary.md`` text."""
    h = headline(result)
    dataset = result.profile.get("dataset") or result.config.get("dataset") or "data"
    parts = [
        f"# imblab comparison: {_text(dataset)}",
        "",
        f"{h['techniques']} techniques × {h['seeds']} seed(s) = {h['runs']} runs on one test split of "
        f"{h['n_test']:,} examples (minority **{_text(h['minority'])}**: {h['minority_count']:,}, "
        f"{h['minority_share']}). Ranking metric: **{_text(h['metric'])}**; baseline: **{_text(result.baseline)}**.",
        "",
        *([f"Ranked by expected cost per 1,000 texts: {_text(h['costs'])}.", ""] if h["costs"] else []),
    ]
    for section in sections(result, "markdown"):
        parts += _RENDER[section.id](result)
    return "\n".join(parts)


def _reading(result: ComparisonResult) -> list[str]:
    return ["## Reading", "", *(f"- {_text(sentence)}" for sentence in study_reading(result)), ""]


def _results(result: ComparisonResult) -> list[str]:
    return ["## Results", "", _table(results_table(result)), "", "### Ranking and calibration", "",
            _table(probability_table(result)), "", "### Per label", "", _table(per_label_table(result)), ""]


def _differences(result: ComparisonResult) -> list[str]:
    return [f"## Differences to {_text(result.baseline)}", "", _table(differences_table(result)), ""]


def _probes(result: ComparisonResult) -> list[str]:
    parts = ["## Probes", ""]
    for text, table in probes_tables(result):
        parts += [f"**“{_escape(text)}”**", "", _table(table, with_ci=False), ""]
    return parts + [f"<sub>{_text(PROBES_NOTE)}</sub>", ""]


def _timings(result: ComparisonResult) -> list[str]:
    return ["## Timings", "", _table(timings_table(result), with_ci=False), "",
            f"<sub>Total: {headline(result)['seconds']} s of training and evaluation. Full per-run numbers: results.csv; "
            f"probabilities of the probes: probes.csv; the report with figures: report.html.</sub>", ""]


def _tuning(result: ComparisonResult) -> list[str]:
    table = tuning_table(result)
    return [] if table is None else ["## Tuning", "", _table(table), ""]


def _prior(result: ComparisonResult) -> list[str]:
    table = prior_table(result)
    return [] if table is None else ["## Estimating the production prior", "", _table(table, with_ci=False), ""]


def _regularisation(result: ComparisonResult) -> list[str]:
    table = regularisation_table(result)
    return [] if table is None else ["## Regularisation of the linear heads", "", _table(table, with_ci=False), ""]


_RENDER = {"reading": _reading, "costs": lambda result: _costs_section(result), "results": _results,
           "differences": _differences, "tuning": _tuning, "probes": _probes, "timings": _timings,
           "regularisation": _regularisation, "prior": _prior}
