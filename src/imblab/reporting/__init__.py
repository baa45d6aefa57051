"""Reporting: terminal tables, Markdown, plots and the self-contained HTML report.

Importing this package is cheap: matplotlib and Jinja2 load only when a report is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["write_report"]


def write_report(result: ComparisonResult, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``summary.md`` and ``report.html`` (and, with costs, ``cost_curves.svg``, which summary.md shows)
    for ``result`` into ``directory``, each atomically.

    Returns:
        ``{"summary": path, "report": path}`` (and ``"cost_curves": path``).
    """
    from .._io import atomic_write_text
    from .html import render_html
    from .markdown import render_markdown
    from .plots import cost_curve_chart

    directory = Path(directory)
    paths = {}
    chart = cost_curve_chart(result)
    if chart is not None:
        svg = chart.svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1) if "xmlns=" not in chart.svg else chart.svg
        paths["cost_curves"] = atomic_write_text(directory / "cost_curves.svg", svg + "\n")
    paths["summary"] = atomic_write_text(directory / "summary.md", render_markdown(result))
    paths["report"] = atomic_write_text(directory / "report.html", render_html(result, cost_chart=chart))
    return paths
