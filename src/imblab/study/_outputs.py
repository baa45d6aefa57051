"""A study's output files: the comparison's tables as CSV, and the reports (``imblab.reporting``)."""

from __future__ import annotations

import os
from pathlib import Path

from .._io import atomic_write_csv
from ..comparison import ComparisonResult
from ..reporting import write_report

__all__ = ["write_outputs", "write_tables"]


def write_tables(result: ComparisonResult, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``results.csv``, ``probes.csv``, ``differences.csv`` (and ``costs.csv`` with costs) atomically."""
    directory = Path(directory)
    tables = [("results", result.results), ("probes", result.probes), ("differences", result.differences)]
    if result.cost is not None:
        tables.append(("costs", result.cost.per_run))
    return {name: atomic_write_csv(directory / f"{name}.csv", table) for name, table in tables}


def write_outputs(result: ComparisonResult, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the tables, ``summary.md`` and the self-contained ``report.html`` into ``directory``.

    Returns:
        Output name → path.
    """
    paths = write_tables(result, directory)
    paths.update(write_report(result, directory))
    return paths
