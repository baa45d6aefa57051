"""Rich terminal tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["print_profile", "print_techniques", "print_run", "print_predictions", "StudyProgress"]


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


def print_techniques(presets: list[dict[str, Any]], console: Console | None = None) -> None:
    """``imblab techniques``: one row per preset."""
    console = console or Console()
    table = Table(title="Imbalance techniques (use as --technique NAME or NAME:key=value,...)", show_lines=True)
    from ..techniques import format_value

    for column in ("name", "what it does", "parameters (default)", "example", "source"):
        table.add_column(column, overflow="fold")
    for preset in presets:
        # Parameters that only apply with another setting (e.g. recall= with posthoc=threshold) are noise here.
        params = ", ".join(
            f"{p['name']}={format_value(p['default'])}" for p in preset.get("parameters", []) if p.get("when") is None
        )
        table.add_row(
            f"[bold]{preset['name']}[/]", preset.get("description", ""), params or "—",
            preset.get("example", ""), preset.get("citation") or "—",
        )
    console.print(table)


def print_run(payload: dict[str, Any], labels: list[str], arrays: dict[str, np.ndarray], console: Console | None = None) -> None:
    """``imblab train``: the test classification report in scikit-learn's layout, then the other metrics."""
    from sklearn.metrics import classification_report

    console = console or Console()
    test = payload["test"]
    console.print(
        f"[bold]{payload['technique']}[/] · backend {payload['backend']} · seed {payload['seed']} · "
        f"trained in {payload['timings']['train_seconds']:.1f} s"
    )
    console.print("Test split — classification report:")
    console.print(
        classification_report(arrays["y_true"], arrays["pred"], labels=list(range(len(labels))), target_names=labels,
                              digits=4, zero_division=0),
        markup=False, highlight=False,
    )
    names = [("PR-AUC", "pr_auc"), ("ROC-AUC", "roc_auc"), ("MCC", "mcc"), ("balanced accuracy", "balanced_accuracy"),
             ("G-mean", "g_mean"), ("ECE", "ece"), ("Brier", "brier"), ("log-loss", "nll")]
    console.print("  ".join(f"{title} {test[key]:.4f}" for title, key in names if key in test), highlight=False)
    for probe in payload.get("probes", []):
        raw = ", ".join(f"{k} {v:.3f}" for k, v in probe["raw"].items())
        corrected = ", ".join(f"{k} {v:.3f}" for k, v in probe["corrected"].items())
        console.print(f"Probe {probe['text']!r}: {raw} (prior-corrected: {corrected})", highlight=False)
    console.print(f"Saved to {payload['run_dir']}", highlight=False)


def print_predictions(rows: list[dict[str, Any]], labels: list[str], console: Console | None = None) -> None:
    """``imblab predict``: text, label, one column per class probability."""
    console = console or Console()
    table = Table()
    table.add_column("text", overflow="fold", max_width=60)
    table.add_column("label")
    for label in labels:
        table.add_column(f"P({label})", justify="right")
    for row in rows:
        table.add_row(row["text"], f"[bold]{row['label']}[/]", *(f"{row['probabilities'][k]:.3f}" for k in labels))
    console.print(table)


class StudyProgress:
    """Runs done / total, the current run, elapsed and ETA, for ``imblab compare``."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console or Console(stderr=True),
            disable=not enabled,
        )
        self._task: Any = None

    def __enter__(self) -> StudyProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def update(self, event: str, done: int, total: int, name: str) -> None:
        if self._task is None:
            self._task = self._progress.add_task("", total=total)
        description = {"start": f"training {name}", "skipped": f"kept {name}", "done": f"finished {name}"}[event]
        self._progress.update(self._task, completed=done, description=description)


def _num(x: float, digits: int = 3) -> str:
    return "—" if x is None or x != x else f"{x:.{digits}f}"


def print_summary(result: ComparisonResult, console: Console | None = None) -> None:
    """The study's final table: the chosen metric and the minority label's recall and precision per
    technique (mean ± std, 95 % CI over seeds), the paired-bootstrap difference to the baseline, and time."""
    from ..evaluation import is_proportion

    console = console or Console()
    m, minority = result.metric, result.minority_label
    columns = [m, f"{minority}_recall", f"{minority}_precision"]
    columns = [c for c in dict.fromkeys(columns) if c in result.metrics]
    table = Table(
        title=f"{len(result.techniques)} techniques × {len(result.seeds)} seed(s) · mean ± std over seeds",
        title_justify="left",
    )
    table.add_column("technique", no_wrap=True)
    for i, c in enumerate(columns):
        table.add_column(result.title(c), justify="right", no_wrap=True)
        if i == 0:
            table.add_column("95 % CI", justify="right", style="dim", no_wrap=True)
    table.add_column(f"Δ vs {result.baseline} [95 % CI]", justify="right", no_wrap=True)
    table.add_column("s/run", justify="right", no_wrap=True)
    for t in result.techniques:
        cells = []
        for i, c in enumerate(columns):
            s = result.stat(t, c)
            text = f"{_num(s['mean'])} ± {_num(s['std'])}" if s["n"] > 1 else _num(s["mean"])
            cells.append(f"[bold]{text}[/]" if s["best"] and len(result.techniques) > 1 else text)
            if i == 0:
                cells.append(f"[{_num(s['ci_low'])}, {_num(s['ci_high'])}]" if s["n"] > 1 else "—")
        d = result.difference(t, m)
        if d is None:
            delta = "[dim]baseline[/]" if t == result.baseline else ""
        else:
            scale, unit = (100.0, " pts") if is_proportion(m) else (1.0, "")
            style = {"better": "green", "worse": "red"}.get(d["verdict"], "dim")
            mark = {"better": " ▲", "worse": " ▼"}.get(d["verdict"], "")
            delta = (f"[{style}]{d['difference'] * scale:+.1f}{unit} "
                     f"[{d['ci_low'] * scale:.1f}, {d['ci_high'] * scale:.1f}]{mark}[/]")
        cells.append(delta)
        cells.append(_num(result.stat(t, "seconds")["mean"], 1))
        table.add_row(t, *cells)
    console.print(table)
    for sentence in result.reading()[:1]:
        console.print(sentence)
