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
    """Write ``summary.md`` and ``report.html`` for ``result`` into ``directory``, each atomically.

    Returns:
        ``{"summary": path, "report": path}``.
    """
    from .._io import atomic_write_text
    from .html import render_html
    from .markdown import render_markdown

    directory = Path(directory)
    return {
        "summary": atomic_write_text(directory / "summary.md", render_markdown(result)),
        "report": atomic_write_text(directory / "report.html", render_html(result)),
    }
