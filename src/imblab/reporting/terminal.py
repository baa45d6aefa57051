"""Rich terminal tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_profile"]


def print_profile(prof: dict[str, Any], console: Console | None = None) -> None:
    """The data profile of :func:`imblab.data.profile` as readable tables."""
    console = console or Console()
    console.print(
        f"[bold]{prof['dataset']}[/]  {prof['n_rows']:,} rows · {prof['dropped_rows']:,} dropped · "
        f"{prof['duplicate_texts']:,} duplicate texts · imbalance ratio [bold]{prof['imbalance_ratio']:g}[/] "
        f"(minority: {prof['minority_label']})"
    )
    chars = prof["length"]["characters"]["per_class"]
    table = Table(title="Classes", title_justify="left")
    for column in ("label", "count", "fraction", "inverse-freq. weight", "chars p50", "chars p95"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for c in prof["classes"]:
        length = chars[c["label"]]
        table.add_row(
            c["label"], f"{c['count']:,}", f"{c['fraction']:.1%}", f"{c['inverse_frequency_weight']:.4f}",
            f"{length['p50']:.0f}", f"{length['p95']:.0f}",
        )
    console.print(table)
    if "split" in prof:
        split = prof["split"]
        table = Table(title=f"Split (seed {split['seed']}, duplicates kept together)", title_justify="left")
        table.add_column("part")
        labels = [c["label"] for c in prof["classes"]]
        for label in labels:
            table.add_column(label, justify="right")
        table.add_column("total", justify="right")
        for part, counts in split["counts"].items():
            table.add_row(part, *(f"{counts[label]:,}" for label in labels), f"{sum(counts.values()):,}")
        console.print(table)
    if prof.get("citation"):
        console.print(f"[dim]Cite: {prof['citation']} License: {prof['license']}[/]")
