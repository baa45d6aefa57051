"""The report's tables as formatted cells, shared by the Markdown and HTML renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._format import DASH, number, signed
from ..comparison import PRIOR_DRAWS
from ..evaluation import (
    DEFAULT_BINS,
    classification_report,
    classification_report_text,
    confusion_matrices,
    higher_is_better,
    is_proportion,
    per_label_metrics,
)

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["Cell", "Table", "results_table", "probability_table", "per_label_table", "differences_table",
           "probes_tables", "regularisation_table", "timings_table", "tuning_table", "classification_reports", "headline", "cost_table",
           "PROBES_NOTE"]

_DECISIONS = ("macro_f1", "accuracy", "weighted_f1", "balanced_accuracy", "mcc", "g_mean")
_PROBABILITIES = ("pr_auc", "roc_auc", "ece", "brier", "nll")
_DIFFERENCES = ("macro_f1", "balanced_accuracy", "pr_auc", "ece", "nll")


@dataclass
class Cell:
    """One table cell: the main text, an optional interval line, and how to mark it."""

    text: str
    ci: str = ""
    best: bool = False
    verdict: str = ""  # "better", "worse" or "" (differences)

    @property
    def marker(self) -> str:
        return {"better": "▲", "worse": "▼"}.get(self.verdict, "")


@dataclass
class Table:
    """Column titles, rows of (row title, cells) and a note for the reader."""

    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    note: str = ""
    metrics: list[str] = field(default_factory=list)
    reference: str | None = None  # the row title of the scikit-learn reference, shown apart and never ranked


def _stat_cell(result: ComparisonResult, technique: str, metric: str, digits: int = 3) -> Cell:
    s = result.stat(technique, metric)
    text = number(s["mean"], digits) + (f" ± {number(s['std'], digits)}" if s["n"] > 1 else "")
    ci = f"[{number(s['ci_low'], digits)}, {number(s['ci_high'], digits)}]" if np.isfinite(s["ci_low"]) else DASH
    return Cell(text, ci, bool(s["best"]) and len(result.techniques) > 1)


def _stat_table(result: ComparisonResult, metrics: list[str], note: str) -> Table:
    table = Table([result.title(m) for m in metrics], note=note, metrics=metrics, reference=result.reference_name)
    for t in result.techniques:
        table.rows.append((t, [_stat_cell(result, t, m) for m in metrics]))
    if result.reference_name is not None:
        table.rows.append((result.reference_name, [_stat_cell(result, result.reference_name, m) for m in metrics]))
        table.note += (" Last row: the scikit-learn reference — TF-IDF + LogisticRegression(class_weight=\"balanced\"), "
                       "C chosen on validation, one fit on the same split; a yardstick, never ranked.")
    return table


def results_table(result: ComparisonResult) -> Table:
    """Decision metrics, the chosen one first: mean ± std over seeds and the 95 % CI."""
    first = [result.metric] if result.metric not in _PROBABILITIES else []
    metrics = list(dict.fromkeys(m for m in (*first, *_DECISIONS) if m in result.metrics))
    return _stat_table(
        result, metrics,
        f"Mean ± standard deviation over {len(result.seeds)} seed(s); below: Student-t 95 % CI over seeds "
        f"(— with one seed). Highlighted: the best mean of each column.",
    )


def probability_table(result: ComparisonResult) -> Table:
    """Ranking and calibration metrics (plus the chosen metric if it is one of them)."""
    metrics = [m for m in _PROBABILITIES if m in result.metrics]
    lower = ", ".join(result.title(m) for m in metrics if not higher_is_better(m))
    return _stat_table(
        result, metrics,
        f"PR-AUC and ROC-AUC of the minority label (binary) or macro one-vs-rest; ECE top-label, {DEFAULT_BINS} bins. "
        f"Highlighted: the best mean (lower is better for {lower}).",
    )


def per_label_table(result: ComparisonResult) -> Table:
    """Precision, recall and F1 of every label."""
    metrics = [m for m in per_label_metrics(result.labels) if m in result.metrics]
    return _stat_table(result, metrics, "Per-label precision, recall and F1: mean ± std over seeds; below: 95 % CI.")


def difference_metrics(result: ComparisonResult) -> list[str]:
    minority = result.minority_label
    wanted = (result.metric, f"{minority}_recall", f"{minority}_precision", f"{minority}_f1", *_DIFFERENCES)
    return [m for m in dict.fromkeys(wanted) if m in result.bootstrap_metrics]


def differences_table(result: ComparisonResult) -> Table:
    """technique − baseline with its paired-bootstrap 95 % CI; significant cells carry a verdict."""
    metrics = difference_metrics(result)
    units = [f"{result.title(m)}{' (pts)' if is_proportion(m) else ''}" for m in metrics]
    table = Table(
        units,
        note=(
            f"Difference to {result.baseline} (technique − {result.baseline}); percentage points for proportions. "
            f"Below: 95 % percentile interval of {result.n_boot} paired bootstrap replicates over the test examples, "
            f"pooled over seeds. ▲ significantly better, ▼ significantly worse (the interval excludes 0; direction "
            f"by metric). All metrics: differences.csv."
        ),
        metrics=metrics,
    )
    for t in result.techniques:
        if t == result.baseline:
            continue
        cells = []
        for m in metrics:
            d = result.difference(t, m)
            scale, digits = (100.0, 1) if is_proportion(m) else (1.0, 3)
            verdict = d["verdict"] if d["significant"] else ""
            cells.append(Cell(
                signed(d["difference"] * scale, digits),
                f"[{number(d['ci_low'] * scale, digits)}, {number(d['ci_high'] * scale, digits)}]",
                verdict=verdict,
            ))
        table.rows.append((t, cells))
    return table


def probes_tables(result: ComparisonResult) -> list[tuple[str, Table]]:
    """One table per probe text: each technique's label probabilities (mean ± std over seeds), as trained
    and corrected to the true prior."""
    probes = result.probes
    if probes.empty:
        return []
    labels = [result.probe_label] if len(result.labels) == 2 else result.labels
    columns = [f"P({label}) {kind}" for kind in ("as trained", "corrected") for label in labels]
    out = []
    for text, group in probes.groupby("probe", sort=False):
        table = Table(columns, reference=result.reference_name)
        for _, row in group.iterrows():
            cells = []
            for kind in ("raw", "corrected"):
                for label in labels:
                    m, s = row[f"{label}_{kind}_mean"], row[f"{label}_{kind}_std"]
                    cells.append(Cell(number(m) + (f" ± {number(s)}" if np.isfinite(s) else "")))
            table.rows.append((str(row["technique"]), cells))
        out.append((str(text), table))
    return out


PROBES_NOTE = (
    "Mean ± standard deviation over seeds. As trained: the technique's own probabilities; corrected: re-weighted "
    "to the training class prior (Saerens, Latinne & Decaestecker 2002). All labels: probes.csv."
)


def timings_table(result: ComparisonResult) -> Table:
    """Seconds per run (train + evaluate), mean ± std and total per technique."""
    table = Table(["runs", "seconds per run", "total seconds"], reference=result.reference_name)
    for t in [*result.techniques, *([result.reference_name] if result.reference_name is not None else [])]:
        s = result.stat(t, "seconds")
        total = result.results.loc[result.results["technique"] == t, "seconds"].sum()
        text = number(s["mean"], 1) + (f" ± {number(s['std'], 1)}" if s["n"] > 1 else "")
        table.rows.append((t, [Cell(str(int(s["n"]))), Cell(text), Cell(number(total, 1))]))
    return table


def prior_table(result: ComparisonResult) -> Table | None:
    """EM's error in estimating the minority share of unlabelled texts from each technique's outputs
    (:attr:`ComparisonResult.prior_support`); None when there is nothing to show."""
    frame = result.prior_support
    if frame.empty:
        return None
    shares = sorted(frame["share"].unique())
    minority = result.minority_label
    table = Table([f"{minority} at {100 * s:.3g} %" for s in shares], note=(
        f"How well each technique's model lets imblab estimate the share of {minority} in unlabelled texts (imblab "
        "prior, predict --deploy-prior estimate, the server's /prior): its test split resampled to each share, EM "
        "(Saerens et al. 2002) on its probabilities recalibrated on validation (vector scaling), mean absolute error "
        f"in points over seeds and {PRIOR_DRAWS} draws. Large errors: the model's probabilities cannot be trusted to correct "
        "to a new prior."))
    for t in result.techniques:
        rows = frame[frame["technique"] == t].set_index("share")
        table.rows.append((t, [Cell(f"{rows.loc[s, 'mae_points']:.1f} pts") for s in shares]))
    return table


def regularisation_table(result: ComparisonResult) -> Table | None:
    """The inverse L2 strength C each technique's linear head was fitted with, chosen on validation per run
    (the median over seeds, and the range); None when no run has a linear head (fine-tuning)."""
    frame = result.regularisation
    if frame.empty:
        return None
    metric = frame["metric"].dropna()
    table = Table(["C (median over seeds)", "C per seed", "path"], reference=result.reference_name, note=(
        "Linear heads are fitted to convergence (L-BFGS) with L2 regularisation; C (scikit-learn's inverse "
        f"strength) is chosen per run on the validation split by {result.title(metric.iloc[0]) if len(metric) else 'the metric'} "
        "along the path of C values (ties: the lower validation log-loss). The test split is never read. A fit "
        "depends on the seed only through the sampling plan: the seeds of a technique that samples nothing share "
        "one fit, made once (their later runs take less time)."))
    for t in [*result.techniques, *([result.reference_name] if result.reference_name is not None else [])]:
        rows = frame[frame["technique"] == t].sort_values("seed")
        if rows.empty:
            continue
        per_seed = ", ".join(f"{c:g}" for c in rows["C"])
        table.rows.append((t, [Cell(f"{float(np.median(rows['C'])):g}"), Cell(per_seed),
                               Cell(f"{int(rows['path'].iloc[0])} values")]))
    return table


def _importances_text(importances: dict[str, float] | None) -> str:
    if not importances:
        return DASH
    return " · ".join(f"{name} {value:.2f}" for name, value in importances.items())


def tuning_table(result: ComparisonResult) -> Table | None:
    """``compare --tune``: per tuned technique the chosen spec, its validation score and trials, the tuned −
    default difference on test (paired bootstrap) and Optuna's parameter importances; None without tuning."""
    tuning = result.tuning
    if not tuning or not tuning.get("techniques"):
        return None
    metric = result.metric
    scale, digits = (100.0, 1) if is_proportion(metric) else (1.0, 3)
    title = result.title(metric)
    table = Table(
        ["chosen parameters", f"validation {title}", "trials", f"tuned − default on test{' (pts)' if scale == 100 else ''}",
         "importances"],
        note=(
            f"Each technique tuned with {tuning.get('trials')} trials (Optuna TPE, seeded) on the validation split "
            f"by {title}, with seed {', '.join(map(str, tuning.get('seeds', [])))}; the test split is never read "
            f"while tuning. The chosen spec then ran over every seed like any technique. Difference: the tuned "
            f"technique − the same technique at its defaults, on test, with its 95 % paired-bootstrap interval "
            f"({result.n_boot} replicates). Importances: fANOVA, for techniques with two or more tuned parameters."
        ),
    )
    for entry in tuning["techniques"]:
        summary = entry["summary"]
        best = summary.get("best", {})
        d = result.compare(entry["tuned"], entry["default"], metric)
        verdict = {True: "better", False: "worse", None: ""}[d.better]
        trials = f"{summary.get('complete', 0)}" + (f" (+{summary['pruned']} pruned)" if summary.get("pruned") else "")
        training = best.get("training") or {}
        spec = entry["spec"] + "".join(f" {k}={v:g}" for k, v in training.items())
        table.rows.append((entry["tuned"], [
            Cell(spec),
            Cell(number(best.get("value"), 3), f"trial {best.get('number')}"),
            Cell(trials),
            Cell(signed(d.difference * scale, digits),
                 f"[{number(d.low * scale, digits)}, {number(d.high * scale, digits)}]", verdict=verdict),
            Cell(_importances_text(summary.get("importances"))),
        ]))
    return table


def classification_reports(result: ComparisonResult) -> list[tuple[str, int, str]]:
    """``(technique, seed, text)``: the classification report (scikit-learn's layout) of each technique's median
    seed."""
    out = []
    for t in result.techniques:
        run = result.median_run(t)
        cm = confusion_matrices(np.asarray(run.y_true), np.asarray(run.pred), len(result.labels))
        text = classification_report_text(classification_report(cm, result.labels), digits=3)
        out.append((t, int(run.seed), text))
    return out


def _seed_cell(s: Any, digits: int = 2, best: bool = False) -> Cell:
    text = number(s.mean, digits) + (f" ± {number(s.std, digits)}" if s.n > 1 else "")
    ci = f"[{number(s.low, digits)}, {number(s.high, digits)}]" if np.isfinite(s.low) else DASH
    return Cell(text, ci, best)


def _difference_cell(d: Any, digits: int = 2) -> Cell:
    if d is None:
        return Cell(DASH)
    # Lower cost is better: a significant negative difference is "better".
    verdict = "" if not d.significant else ("better" if d.difference < 0 else "worse")
    return Cell(signed(d.difference, digits), f"[{number(d.low, digits)}, {number(d.high, digits)}]", verdict=verdict)


def cost_table(result: ComparisonResult) -> Table | None:
    """Expected cost per 1,000 texts of each technique, cheapest first: the Bayes decision (which ranks), its
    difference to the baseline, the rule tuned on validation and its difference to Bayes, the technique's own
    decisions and the calibration that explains the gap. None without costs."""
    cost = result.cost
    if cost is None:
        return None
    tuned_note = (
        "tuned on validation: the threshold (binary) or class offsets (multiclass) of least expected cost on each "
        "run's validation split, applied to test"
        if cost.has_validation else
        "tuned on validation: unavailable (runs stored before imblab kept validation predictions, validation.csv)"
    )
    table = Table(
        ["Bayes decision", f"Δ vs {result.baseline}", "tuned on validation", "tuned − Bayes", "own decisions",
         "ECE (prior-corrected)"],
        note=(
            f"Expected cost per 1,000 texts at the deployment prior ({cost.setting.describe()}), cheapest first. "
            f"Bayes decision: probabilities corrected to the deployment prior (Saerens et al. 2002), then the label "
            f"of least expected cost (Elkan 2001). {tuned_note}. Own decisions: the technique's argmax or post-hoc "
            f"thresholds, blind to costs. Mean ± std over seeds, below: Student-t 95 % CI; differences: 95 % "
            f"interval of {result.n_boot} paired bootstrap replicates (▲ significantly cheaper, ▼ dearer). "
            f"ECE: calibration of the prior-corrected probabilities, on which the Bayes decision relies. "
            f"Per run: costs.csv."
        ),
        metrics=["expected_cost"],
    )
    best = {d: min((cost.summary(t, d).mean for t in result.techniques if np.isfinite(cost.summary(t, d).mean)),
                   default=np.nan) for d in ("bayes", "tuned", "own")}
    several = len(result.techniques) > 1
    for t in cost.ranking:
        cells = []
        for decision in ("bayes", "tuned", "own"):
            s = cost.summary(t, decision)
            cell = _seed_cell(s, best=several and bool(np.isclose(s.mean, best[decision], rtol=0, atol=1e-12)))
            cells.append(cell)
        cells.insert(1, Cell("baseline") if t == result.baseline else _difference_cell(cost.difference(t, result.baseline)))
        cells.insert(3, _difference_cell(cost.tuned_minus_bayes(t)))
        cells.append(Cell(number(cost.ece(t), 3)))
        table.rows.append((t, cells))
    return table


def headline(result: ComparisonResult) -> dict[str, Any]:
    """The numbers of the report's summary cards."""
    m = result.metric
    ranked = sorted(
        result.techniques,
        key=lambda t: -result.stat(t, m)["mean"] if higher_is_better(m) else result.stat(t, m)["mean"],
    )
    best = ranked[0]
    cell = _stat_cell(result, best, m)
    d = result.difference(best, m)
    delta = None
    if d is not None:
        scale, digits = (100.0, 1) if is_proportion(m) else (1.0, 3)
        delta = {
            "text": signed(d["difference"] * scale, digits) + (" pts" if scale == 100.0 else ""),
            "ci": f"[{number(d['ci_low'] * scale, digits)}, {number(d['ci_high'] * scale, digits)}]",
            "verdict": d["verdict"] if d["significant"] else "",
        }
    counts = np.bincount(result.y_true, minlength=len(result.labels))
    return {
        "metric": result.title(m),
        "best": best,
        "best_value": cell.text,
        "best_ci": cell.ci,
        "delta": delta,
        "n_test": int(len(result.y_true)),
        "minority": result.minority_label,
        "minority_count": int(counts[result.minority]),
        "minority_share": f"{counts[result.minority] / counts.sum():.1%}",
        "runs": len(result.outcomes),
        "techniques": len(result.techniques),
        "seeds": len(result.seeds),
        "seconds": number(float(result.results["seconds"].sum()), 0),
        "costs": None if result.cost is None else result.cost.setting.describe(),
    }
