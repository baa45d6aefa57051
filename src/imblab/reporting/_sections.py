"""The report's sections, listed once: their order, titles, when each is shown, and which formats render it.

``summary.md`` (:mod:`.markdown`), ``report.html`` (:mod:`.html`) and the terminal's summary
(:func:`.terminal.print_summary`) walk :func:`sections`; each format renders the blocks of the sections it lists. A new section is one entry here and one renderer per format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._tables import differences_table, prior_table, probes_tables, regularisation_table, tuning_table

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["SECTIONS", "Section", "sections"]

MARKDOWN, HTML, TERMINAL = "markdown", "html", "terminal"


def _always(result: ComparisonResult) -> bool:
    return True


@dataclass(frozen=True)
class Section:
    """One section: ``id`` (the HTML anchor), ``title``, ``shown`` (whether a study has it), ``formats``."""

    id: str
    title: str
    shown: Callable[[ComparisonResult], bool] = _always
    formats: frozenset[str] = frozenset({MARKDOWN, HTML})


SECTIONS: tuple[Section, ...] = (
    Section("reading", "Reading", formats=frozenset({MARKDOWN, HTML, TERMINAL})),
    Section("costs", "Costs", lambda r: r.cost is not None, frozenset({MARKDOWN, HTML, TERMINAL})),
    Section("data", "Data", formats=frozenset({HTML})),
    Section("results", "Results", formats=frozenset({MARKDOWN, HTML, TERMINAL})),
    Section("differences", "Differences", lambda r: bool(differences_table(r).rows)),
    Section("tuning", "Tuning", lambda r: tuning_table(r) is not None),
    Section("figures", "Figures", formats=frozenset({HTML})),
    Section("probes", "Probes", lambda r: bool(probes_tables(r))),
    Section("prior", "Estimating the production prior", lambda r: prior_table(r) is not None),
    Section("reports", "Class reports", formats=frozenset({HTML})),
    Section("setup", "Setup", formats=frozenset({HTML})),
    Section("timings", "Timings", formats=frozenset({MARKDOWN})),
    # In report.html the regularisation table is part of Setup.
    Section("regularisation", "Regularisation of the linear heads", lambda r: regularisation_table(r) is not None,
            frozenset({MARKDOWN})),
)


def sections(result: ComparisonResult, fmt: str) -> list[Section]:
    """The sections ``fmt`` renders for ``result``, in order."""
    return [s for s in SECTIONS if fmt in s.formats and s.shown(result)]
