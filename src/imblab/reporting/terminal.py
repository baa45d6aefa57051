"""Rich terminal tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ._reading import cost_reading, reading
from ._sections import sections

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["print_profile", "print_techniques", "print_run", "print_predictions", "StudyProgress"]


def print_profile(prof: dict[str, Any], console: Console | None = None) -> None:
    """The data profile of :func:`imblab.data.profile` as readable tables."""
    console = console or Console()
    console.print(
        f"[bold]{escape(prof['dataset'])}[/]  {prof['n_rows']:,} rows · {prof['dropped_rows']:,} dropped · "
        f"{prof['duplicate_texts']:,} duplicate texts · imbalance ratio [bold]{prof['imbalance_ratio']:g}[/] "
        f"(minority: {escape(prof['minority_label'])})"
    )
    chars = prof["length"]["characters"]["per_class"]
    table = Table(title="Classes", title_justify="left")
    for column in ("label", "count", "fraction", "inverse-freq. weight", "chars p50", "chars p95"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for c in prof["classes"]:
        length = chars[c["label"]]
        table.add_row(
            escape(c["label"]), f"{c['count']:,}", f"{c['fraction']:.1%}", f"{c['inverse_frequency_weight']:.4f}",
            f"{length['p50']:.0f}", f"{length['p95']:.0f}",
        )
    console.print(table)
    if "split" in prof:
        split = prof["split"]
        table = Table(title=f"Split (seed {split['seed']}, duplicates kept together)", title_justify="left")
        table.add_column("part")
        labels = [c["label"] for c in prof["classes"]]
        for label in labels:
            table.add_column(escape(label), justify="right")
        table.add_column("total", justify="right")
        for part, counts in split["counts"].items():
            table.add_row(part, *(f"{counts[label]:,}" for label in labels), f"{sum(counts.values()):,}")
        console.print(table)
    if prof.get("citation"):
        console.print(f"[dim]Cite: {prof['citation']} License: {prof['license']}[/]")


def print_techniques(presets: list[dict[str, Any]], console: Console | None = None) -> None:
    """``imblab techniques``: one row per preset."""
    console = console or Console()
    table = Table(title="Imbalance techniques (use as --technique NAME or NAME:key=value,...)", show_lines=True,
                  caption="* searched by imblab tune (ranges: imblab techniques --json)")
    from ..techniques import format_value

    for column in ("name", "what it does", "parameters (default)", "example", "source"):
        table.add_column(column, overflow="fold")
    for preset in presets:
        # Parameters that only apply with another setting (e.g. recall= with posthoc=threshold) are noise here.
        params = ", ".join(
            f"{p['name']}={format_value(p['default'])}{'*' if p.get('tune') else ''}"
            for p in preset.get("parameters", []) if p.get("when") is None
        )
        table.add_row(
            f"[bold]{preset['name']}[/]", preset.get("description", ""), params or "—",
            preset.get("example", ""), preset.get("citation") or "—",
        )
    console.print(table)


def print_run(payload: dict[str, Any], labels: list[str], arrays: dict[str, np.ndarray], console: Console | None = None) -> None:
    """``imblab train``: the test classification report in scikit-learn's layout, then the other metrics."""
    from ..evaluation import classification_report, classification_report_text, confusion_matrices

    console = console or Console()
    test = payload["test"]
    console.print(
        f"[bold]{escape(payload['technique'])}[/] · backend {payload['backend']} · seed {payload['seed']} · "
        f"trained in {payload['timings']['train_seconds']:.1f} s"
    )
    console.print("Test split — classification report:")
    cm = confusion_matrices(np.asarray(arrays["y_true"]), np.asarray(arrays["pred"]), len(labels))
    console.print(classification_report_text(classification_report(cm, labels), digits=4), markup=False,
                  highlight=False)
    names = [("PR-AUC", "pr_auc"), ("ROC-AUC", "roc_auc"), ("MCC", "mcc"), ("balanced accuracy", "balanced_accuracy"),
             ("G-mean", "g_mean"), ("ECE", "ece"), ("Brier", "brier"), ("log-loss", "nll")]
    console.print("  ".join(f"{title} {test[key]:.4f}" for title, key in names if key in test), highlight=False)
    for probe in payload.get("probes", []):
        raw = ", ".join(f"{k} {v:.3f}" for k, v in probe["raw"].items())
        corrected = ", ".join(f"{k} {v:.3f}" for k, v in probe["corrected"].items())
        console.print(f"Probe {probe['text']!r}: {raw} (prior-corrected: {corrected})", markup=False, highlight=False)
    costs = payload.get("costs")
    if costs:
        per = costs["per_1000_texts"]
        console.print(
            f"Expected cost per 1,000 test texts ({costs['described']}): Bayes decision {_num(per['bayes'], 2)}, "
            f"rule tuned on validation {_num(per['tuned_on_validation'], 2)}, the technique's own decisions "
            f"{_num(per['own_decisions'], 2)}. predict and serve decide by these costs unless told otherwise.",
            markup=False, highlight=False)
    console.print(f"Saved to {payload['run_dir']}", markup=False, highlight=False)


def print_predictions(rows: list[dict[str, Any]], labels: list[str], console: Console | None = None) -> None:
    """``imblab predict``: text, label, one column per class probability (and, with costs, the label of least
    expected cost and its expected cost)."""
    console = console or Console()
    by_cost = bool(rows) and "cost_label" in rows[0]
    table = Table()
    table.add_column("text", overflow="fold", max_width=60)
    table.add_column("label")
    if by_cost:
        table.add_column("cost label")
        table.add_column("exp. cost", justify="right")
    for label in labels:
        table.add_column(escape(f"P({label})"), justify="right")
    for row in rows:
        cost = [f"[bold]{escape(row['cost_label'])}[/]", f"{row['expected_cost']:.3g}"] if by_cost else []
        table.add_row(escape(row["text"]), f"[bold]{escape(row['label'])}[/]" if not by_cost else escape(row["label"]),
                      *cost, *(f"{row['probabilities'][k]:.3f}" for k in labels))
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
        name = escape(name)  # a technique's display name is the user's text, not rich markup
        if event == "tune":  # compare --tune: trials of one technique's tuning before the runs
            self._progress.update(self._task, completed=done, total=total, description=f"tuning {name} (trials)")
            return
        description = {"start": f"training {name}", "skipped": f"kept {name}", "done": f"finished {name}",
                       "waiting": f"waiting for {name} (another process trains it)"}[event]
        self._progress.update(self._task, completed=done, total=total, description=description)


def _num(x: float, digits: int = 3) -> str:
    return "—" if x is None or x != x else f"{x:.{digits}f}"


def _summary_table(result: ComparisonResult, stacked: bool) -> Table:
    """The summary table, one line per technique (``stacked=False``) or narrow, numbers on two lines.

    Numbers are never cut: their columns do not wrap and the stacked form fits 80 columns (a
    terminal's default, and what rich assumes when the output is piped); only technique names wrap.
    """
    m, minority = result.metric, result.minority_label
    wanted = [m, result.quality_metric, f"{minority}_recall", f"{minority}_precision"]
    columns = [c for c in dict.fromkeys(wanted) if c in result.metrics]
    several = any(result.stat(t, m)["n"] > 1 for t in result.techniques)
    title = f"{len(result.techniques)} techniques × {len(result.seeds)} seed(s)" + (
        (" · mean ± std over seeds" + (", 95 % CI under the first metric" if stacked else "")) if several else ""
    )
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD if stacked else box.HEAVY_HEAD,
                  collapse_padding=stacked, pad_edge=not stacked)
    table.add_column("technique", overflow="fold")
    for i, c in enumerate(columns):
        table.add_column(escape(result.title(c)), justify="right", no_wrap=not stacked, overflow="fold")
        if i == 0 and not stacked:
            table.add_column("95 % CI", justify="right", style="dim", no_wrap=True)
    table.add_column(f"Δ vs {escape(result.baseline)}" + ("" if stacked else " [95 % CI]"), justify="right",
                     no_wrap=not stacked, overflow="fold")
    table.add_column("s/run", justify="right", no_wrap=True)
    reference = result.reference_name
    for t in [*result.techniques, *([reference] if reference is not None else [])]:
        cells = []
        for i, c in enumerate(columns):
            s = result.stat(t, c)
            mean, std = _num(s["mean"]), _num(s["std"])
            text = (f"{mean}\n± {std}" if stacked and i > 0 else f"{mean} ± {std}") if s["n"] > 1 else mean
            cells.append(f"[bold]{text}[/]" if s["best"] and len(result.techniques) > 1 else text)
            if i == 0 and s["n"] > 1:
                ci = f"[{_num(s['ci_low'])}, {_num(s['ci_high'])}]"
                cells[-1] += f"\n[dim]{escape(ci)}[/]" if stacked else ""
                if not stacked:
                    cells.append(escape(ci))
            elif i == 0 and not stacked:
                cells.append("—")
        cells.append(_delta_cell(result, t, m, stacked) if t != reference else "[dim]yardstick[/]")
        cells.append(_num(result.stat(t, "seconds")["mean"], 1))
        table.add_row(escape(t), *cells, style="dim italic" if t == reference else None,
                      end_section=t == result.techniques[-1] and reference is not None)
    return table


def _delta_cell(result: ComparisonResult, technique: str, metric: str, stacked: bool) -> str:
    from ..evaluation import is_proportion

    d = result.difference(technique, metric)
    if d is None:
        return "[dim]baseline[/]" if technique == result.baseline else ""
    scale, unit = (100.0, " pts") if is_proportion(metric) else (1.0, "")
    style = {"better": "green", "worse": "red"}.get(d["verdict"], "dim")
    mark = {"better": " ▲", "worse": " ▼"}.get(d["verdict"], "")
    interval = escape(f"[{d['ci_low'] * scale:.1f}, {d['ci_high'] * scale:.1f}]")
    point = f"{d['difference'] * scale:+.1f}{unit}"
    return f"[{style}]{point}{mark}\n{interval}[/]" if stacked else f"[{style}]{point} {interval}{mark}[/]"


def print_summary(result: ComparisonResult, console: Console | None = None) -> None:
    """The study's final table: the chosen metric and the minority label's recall and precision per
    technique (mean ± std, 95 % CI over seeds), the paired-bootstrap difference to the baseline, and time.

    One line per technique where the console is wide enough for it; otherwise (80 columns, or output
    piped to a file) each number is stacked over its spread, so that no number is ever cut.
    """
    console = console or Console()
    if result.cost is not None:  # the header, as summary.md's: what the ranking is by
        _say(console, f"Ranked by expected cost per 1,000 texts: {result.cost.setting.describe()}.")
    for section in sections(result, "terminal"):
        _TERMINAL[section.id](result, console)


def _say(console: Console, sentence: str) -> None:
    console.print(sentence, markup=False, highlight=False)


def _terminal_reading(result: ComparisonResult, console: Console) -> None:
    """The best technique, and the best technique against the scikit-learn reference."""
    sentences = reading(result)
    for sentence in sentences[:1] + [s for s in sentences[1:] if "vs the scikit-learn reference" in s]:
        _say(console, sentence)


def _terminal_costs(result: ComparisonResult, console: Console) -> None:
    """The cost table, then agreement with the metric, Bayes against tuned and the cost curves."""
    console.print(_cost_table(result))
    for sentence in cost_reading(result):
        _say(console, sentence)


def _terminal_results(result: ComparisonResult, console: Console) -> None:
    table = _summary_table(result, stacked=False)
    if Measurement.get(console, console.options.update_width(10_000), table).maximum > console.width:
        table = _summary_table(result, stacked=True)
    console.print(table)


_TERMINAL = {"reading": _terminal_reading, "costs": _terminal_costs, "results": _terminal_results}


def _cost_table(result: ComparisonResult) -> Table:
    """Cheapest first: the Bayes decision against the rule tuned on validation, per 1,000 texts."""
    cost = result.cost
    assert cost is not None
    table = Table(title="Expected cost per 1,000 texts (mean ± std over seeds): Bayes decision vs the rule "
                  "tuned on validation, paired-bootstrap 95 % CI", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("technique", overflow="fold", min_width=12)
    for title in ("Bayes", "tuned", "tuned − Bayes"):
        table.add_column(title, justify="right", no_wrap=True)
    for t in cost.ranking:
        cells = []
        for decision in ("bayes", "tuned"):
            s = cost.summary(t, decision)
            cells.append(f"{_num(s.mean, 2)} ± {_num(s.std, 2)}" if s.n > 1 else _num(s.mean, 2))
        d = cost.tuned_minus_bayes(t)
        cells.append("—" if d is None else escape(f"{d.difference:+.2f} [{d.low:.2f}, {d.high:.2f}]"))
        table.add_row(escape(t), *cells)
    return table


def print_tuning(summary: dict[str, Any], console: Console | None = None) -> None:
    """``imblab tune``: the trials (best first), the best spec and the importances."""
    console = console or Console()
    best = summary["best"]
    metric = summary["metric"].replace("_", "-")
    table = Table(title=escape(f"{summary['study']}: {summary['complete']} trials, validation {metric}"),
                  title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("trial", metric, "spec"):
        table.add_column(column, justify="right" if column != "spec" else "left", overflow="fold")
    done = [t for t in summary["trials"] if t["state"] == "complete" and t["value"] is not None]
    done.sort(key=lambda t: -t["value"] if summary["direction"] == "maximize" else t["value"])
    for t in done[:10]:
        training = "".join(f" {k}={v:g}" for k, v in (t.get("training") or {}).items())
        style = "bold" if t["number"] == best["number"] else None
        table.add_row(str(t["number"]), _num(t["value"], 4), escape(str(t["spec"]) + training), style=style)
    console.print(table)
    if len(done) > 10:
        console.print(f"({len(done) - 10} more trials: --json lists every one)")
    if summary.get("importances"):
        console.print("Importances (fANOVA): " + ", ".join(f"{k} {v:.2f}" for k, v in summary["importances"].items()))
