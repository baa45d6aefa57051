"""Report figures as inline SVG strings: metric intervals, differences, PR curves, reliability, confusion, probes,
and (with costs) the cost curves.

Figures are drawn on ``matplotlib.figure.Figure`` objects (no pyplot, no global backend or state) and
serialised to SVG with text kept as text, so they stay sharp, small and searchable inside one HTML file.
Colours come from the Okabe & Ito (2008) colour-blind-safe palette, extended with Paul Tol's "muted"
scheme; a technique has the same colour in every figure, and the baseline is always dark grey.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..data import cache_dir

# Matplotlib keeps its font cache and settings in ~/.cache and ~/.config unless told otherwise: imblab's own
# cache instead (a user's MPLCONFIGDIR wins).
os.environ.setdefault("MPLCONFIGDIR", str(cache_dir() / "matplotlib"))

import matplotlib  # noqa: E402 - after MPLCONFIGDIR
import numpy as np
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..evaluation import (  # noqa: E402
    DEFAULT_BINS,
    confusion_matrices,
    higher_is_better,
    is_proportion,
    precision_recall_curve,
    reliability_curve,
)

if TYPE_CHECKING:
    from ..comparison import ComparisonResult

__all__ = ["Plot", "technique_colors", "all_plots", "cost_curve_chart", "tuning_curves"]

#: Okabe & Ito (2008) without yellow (too light on white), then Paul Tol's muted scheme.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
    "#882255", "#44AA99", "#999933", "#AA4499", "#332288", "#117733", "#DDCC77",
)
BASELINE_COLOR = "#3A3A3A"
INK = "#1f2933"
MUTED = "#6b7280"

_STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Inter", "Helvetica Neue", "Helvetica", "Arial", "DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#b8bec7",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e8eaee",
    "grid.linewidth": 0.7,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "svg.fonttype": "none",  # text stays text: small files, the page's fonts
    "svg.hashsalt": "imblab",  # stable element ids: the same study renders the same file
    # Labels, technique names and probes are the user's text: "$5 prize" is text, not TeX (mathtext
    # would fail on an unbalanced "$" or render "$x_$" as maths).
    "text.parse_math": False,
}


@dataclass(frozen=True)
class Plot:
    """One figure of the report."""

    id: str
    title: str
    caption: str
    svg: str


def technique_colors(techniques: Sequence[str], baseline: str) -> dict[str, str]:
    """A fixed colour per technique (the baseline dark grey), in study order."""
    colors, i = {}, 0
    for t in techniques:
        if t == baseline:
            colors[t] = BASELINE_COLOR
        else:
            colors[t] = PALETTE[i % len(PALETTE)]
            i += 1
    return colors


def _balanced_columns(n: int, most: int) -> int:
    """Columns for ``n`` panels, at most ``most``, with rows as evenly filled as possible (9 → 5 + 4)."""
    rows = -(-n // most)
    return -(-n // rows)


@contextmanager
def _drawing() -> Iterator[None]:
    """The report's style, and no warning for a glyph the layout font lacks (an emoji in a label).

    With ``svg.fonttype`` "none" text stays text, so the browser draws the emoji with its own fonts:
    matplotlib's missing-glyph warning (one per character and figure) says nothing about the report.
    """
    with matplotlib.rc_context(_STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


@contextmanager
def _figure(width: float, height: float, layout: str | None = "constrained") -> Iterator[Figure]:
    with _drawing():
        yield Figure(figsize=(width, height), layout=layout)


def _panels(fig: Figure, n: int, ncols: int, margins: tuple[float, float, float, float],
            space: tuple[float, float] = (0.25, 0.45), share: bool = False) -> list[Any]:
    """``n`` axes on a grid with fixed margins in inches (left, right, top, bottom).

    Small multiples skip the constrained-layout engine: with many panels it dominates the drawing time.
    """
    nrows = -(-n // ncols)
    width, height = fig.get_size_inches()
    left, right, top, bottom = margins
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                        wspace=space[0], hspace=space[1])
    axes: list[Any] = []
    for i in range(n):
        first = axes[0] if (share and axes) else None
        axes.append(fig.add_subplot(nrows, ncols, i + 1, sharex=first, sharey=first))
    return axes


def _svg(fig: Figure, label: str) -> str:
    """The figure as an inline ``<svg>`` element that scales with its container."""
    with _drawing():
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)

    def _root(match: re.Match[str]) -> str:
        attrs = match.group(1)
        width = re.search(r'width="([\d.]+)pt"', attrs)
        attrs = re.sub(r'\s(width|height)="[\d.]+pt"', "", attrs)
        style = f' style="max-width:{float(width.group(1)) * 4 / 3:.0f}px"' if width else ""
        return f'<svg{attrs} class="plot" role="img" aria-label="{label}"{style}>'

    return re.sub(r"<svg([^>]*)>", _root, text, count=1)


# ------------------------------------------------------------------------------------------ metric charts


def _chart_metrics(result: ComparisonResult) -> list[str]:
    """The chosen metric, then the minority label's recall and precision (no repeats)."""
    wanted = [result.metric, f"{result.minority_label}_recall", f"{result.minority_label}_precision"]
    if result.metric in wanted[1:]:
        wanted.append("macro_f1")
    return list(dict.fromkeys(m for m in wanted if m in result.metrics))


def metric_chart(result: ComparisonResult) -> Plot:
    """Mean, 95 % CI over seeds and each seed's value, per technique, for the headline metrics."""
    metrics = _chart_metrics(result)
    techniques = result.techniques
    colors = technique_colors(techniques, result.baseline)
    y = np.arange(len(techniques))[::-1]
    with _figure(3.3 * len(metrics) + 1.2, 0.34 * len(techniques) + 1.1) as fig:
        axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
        for ax, metric in zip(axes, metrics):
            for yi, t in zip(y, techniques):
                s = result.stat(t, metric)
                values = result.results.loc[result.results["technique"] == t, metric].to_numpy()
                c = colors[t]
                if np.isfinite(s["ci_low"]):
                    ax.plot([s["ci_low"], s["ci_high"]], [yi, yi], color=c, lw=3.2, alpha=0.35, solid_capstyle="round")
                ax.scatter(values, np.full(len(values), yi), s=10, color=c, alpha=0.55, lw=0, zorder=3)
                ax.scatter([s["mean"]], [yi], s=42, color=c, edgecolor="white", lw=0.8, zorder=4)
            base = result.stat(result.baseline, metric)["mean"]
            if np.isfinite(base):
                ax.axvline(base, color=BASELINE_COLOR, lw=0.8, ls=(0, (3, 3)), zorder=1)
            arrow = "→ better" if metric not in ("ece", "brier", "nll") else "← better"
            ax.set_title(result.title(metric))
            ax.set_xlabel(f"mean · 95 % CI over seeds · seeds as dots   ({arrow})", color=MUTED, fontsize=8)
            ax.grid(axis="y", visible=False)
            ax.margins(x=0.12)
        axes[0].set_yticks(y, techniques)
        for tick, t in zip(axes[0].get_yticklabels(), techniques):
            tick.set_color(colors[t])
            tick.set_fontweight("bold")
        svg = _svg(fig, "metric means with confidence intervals")
    return Plot(
        "plot-metrics",
        "Metrics with 95 % CI over seeds",
        f"Large dot: mean over seeds; bar: Student-t 95 % CI; small dots: individual seeds; dashed line: "
        f"{result.baseline}. With one seed there is no interval.",
        svg,
    )


def difference_chart(result: ComparisonResult) -> Plot | None:
    """Each technique − baseline with its paired-bootstrap 95 % CI; filled markers are significant."""
    metrics = [m for m in _chart_metrics(result) if m in result.bootstrap_metrics]
    others = [t for t in result.techniques if t != result.baseline]
    if not metrics or not others:
        return None
    colors = technique_colors(result.techniques, result.baseline)
    y = np.arange(len(others))[::-1]
    with _figure(3.3 * len(metrics) + 1.2, 0.34 * len(others) + 1.1) as fig:
        axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
        for ax, metric in zip(axes, metrics):
            scale = 100.0 if is_proportion(metric) else 1.0
            for yi, t in zip(y, others):
                d = result.difference(t, metric)
                c = colors[t]
                ax.plot([d["ci_low"] * scale, d["ci_high"] * scale], [yi, yi], color=c, lw=1.6, solid_capstyle="round")
                face = c if d["significant"] else "white"
                ax.scatter([d["difference"] * scale], [yi], s=40, facecolor=face, edgecolor=c, lw=1.4, zorder=4)
            ax.axvline(0, color=BASELINE_COLOR, lw=0.9)
            unit = "points" if scale == 100.0 else "value"
            ax.set_title(f"Δ {result.title(metric)}")
            better = "→ better" if higher_is_better(metric) else "← better"
            ax.set_xlabel(f"{unit} vs {result.baseline}  ({better})", color=MUTED, fontsize=8)
            ax.grid(axis="y", visible=False)
            ax.margins(x=0.15)
        axes[0].set_yticks(y, others)
        for tick, t in zip(axes[0].get_yticklabels(), others):
            tick.set_color(colors[t])
            tick.set_fontweight("bold")
        svg = _svg(fig, "differences to the baseline")
    return Plot(
        "plot-differences",
        f"Differences to {result.baseline} (paired bootstrap)",
        f"Point: difference of seed-averaged metrics on the test split; line: 95 % percentile interval of "
        f"{result.n_boot} paired bootstrap replicates over test examples pooled over seeds. Filled markers: the "
        f"interval excludes 0.",
        svg,
    )


# ------------------------------------------------------------------------------------------ curves


def _pooled(result: ComparisonResult, technique: str, attr: str = "proba") -> tuple[np.ndarray, np.ndarray]:
    runs = result.runs(technique)
    return np.concatenate([o.y_true for o in runs]), np.concatenate([getattr(o, attr) for o in runs])


def _legend_handles(techniques: Sequence[str], colors: dict[str, str], baseline: str) -> list[Line2D]:
    return [Line2D([], [], color=colors[t], lw=2.4 if t == baseline else 1.6, label=t) for t in techniques]


def pr_curves(result: ComparisonResult) -> Plot:
    """Precision-recall curves of every technique: the minority label (binary) or one-vs-rest per class."""
    classes = [result.minority] if len(result.labels) == 2 else list(range(len(result.labels)))
    colors = technique_colors(result.techniques, result.baseline)
    ncols = min(len(classes), 3)
    nrows = -(-len(classes) // ncols)
    width = 6.4 if ncols == 1 else 3.6 * ncols
    with _figure(width + (2.0 if ncols == 1 else 0), 3.4 * nrows + (0.5 if ncols > 1 else 0)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        prevalence = np.bincount(result.y_true, minlength=len(result.labels)) / len(result.y_true)
        for ax, c in zip(axes, classes):
            for t in result.techniques:
                y, proba = _pooled(result, t)
                precision, recall, _ = precision_recall_curve(y == c, proba[:, c])
                ap = float(-np.sum(np.diff(recall) * precision[:-1]))
                ax.step(recall, precision, where="post", color=colors[t], lw=2.2 if t == result.baseline else 1.3,
                        alpha=0.95, label=f"{t}  (AP {ap:.3f})", zorder=3 if t == result.baseline else 2)
            ax.axhline(prevalence[c], color=MUTED, lw=0.8, ls=":", label="no skill")
            ax.set_xlim(0, 1.0)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(f"recall ({result.labels[c]})")
            ax.set_ylabel("precision")
            ax.set_title(f"{result.labels[c]}" + (" vs rest" if len(classes) > 1 else ""))
            if ncols == 1:
                ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
        for ax in axes[len(classes):]:
            ax.set_visible(False)
        if ncols > 1:
            fig.legend(handles=_legend_handles(result.techniques, colors, result.baseline), loc="outside lower center",
                       ncol=min(len(result.techniques), 5))
        svg = _svg(fig, "precision-recall curves")
    what = f"the minority label {result.minority_label}" if len(classes) == 1 else "each class against the rest"
    return Plot(
        "plot-pr",
        "Precision-recall curves",
        f"PR curves for {what}, test examples pooled over all seeds of each technique (AP of the pooled "
        f"predictions); dotted: the prevalence (a no-skill classifier).",
        svg,
    )


def _reliability_points(
    y: np.ndarray, proba: np.ndarray, positive: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean score, observed share and count of the filled bins: the ECE's bins (one binning everywhere)."""
    curve = reliability_curve(y, proba, DEFAULT_BINS, positive=positive)
    count = np.asarray(curve["count"])
    keep = count > 0
    return np.asarray(curve["confidence"])[keep], np.asarray(curve["accuracy"])[keep], count[keep]


def reliability_diagrams(result: ComparisonResult) -> Plot:
    """Small multiples of reliability per technique, as trained (solid) and prior-corrected (dashed)."""
    binary = len(result.labels) == 2
    positive = result.minority if binary else None
    colors = technique_colors(result.techniques, result.baseline)
    n = len(result.techniques)
    ncols = _balanced_columns(n, 5)
    nrows = -(-n // ncols)
    base_y, base_p = _pooled(result, result.baseline)
    base_curve = _reliability_points(base_y, base_p, positive)
    with _figure(2.3 * ncols + 0.9, 2.45 * nrows + 1.1, layout=None) as fig:
        axes = _panels(fig, n, ncols, margins=(0.75, 0.15, 0.75, 0.6), share=True)
        for ax, t in zip(axes, result.techniques):
            ax.plot([0, 1], [0, 1], color="#c4c8cf", lw=0.9, ls=(0, (2, 2)))
            if t != result.baseline:
                ax.plot(base_curve[0], base_curve[1], color="#b3b3b3", lw=1.0, marker="o", ms=2.2)
            y, proba = _pooled(result, t)
            x, f, count = _reliability_points(y, proba, positive)
            ax.plot(x, f, color=colors[t], lw=1.8, marker="o", ms=3.2, zorder=3)
            _, corrected = _pooled(result, t, "proba_corrected")
            xc, fc, _ = _reliability_points(y, corrected, positive)
            ax.plot(xc, fc, color=colors[t], lw=1.1, ls=(0, (3, 2)), alpha=0.8, zorder=2)
            ece = result.stat(t, "ece")["mean"] if "ece" in result.metrics else float("nan")
            ax.set_title(f"{t}", color=colors[t], fontsize=9.5)
            ax.text(0.96, 0.05, f"ECE {ece:.3f}" if np.isfinite(ece) else "", transform=ax.transAxes, fontsize=7.5,
                    color=MUTED, va="bottom", ha="right")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.set_xticks([0, 0.5, 1])
            ax.set_yticks([0, 0.5, 1])
        xlabel = f"predicted P({result.minority_label})" if binary else "confidence (top label)"
        ylabel = f"observed share {result.minority_label}" if binary else "accuracy"
        fig.supxlabel(xlabel, fontsize=9, y=0.12 / fig.get_size_inches()[1])
        fig.supylabel(ylabel, fontsize=9, x=0.12 / fig.get_size_inches()[0])
        fig.legend(
            handles=[
                Line2D([], [], color=INK, lw=1.8, marker="o", ms=3, label="as trained"),
                Line2D([], [], color=INK, lw=1.1, ls=(0, (3, 2)), label="corrected to the true prior"),
                Line2D([], [], color="#b3b3b3", lw=1.0, marker="o", ms=2.2, label=result.baseline),
                Line2D([], [], color="#c4c8cf", lw=0.9, ls=(0, (2, 2)), label="perfect calibration"),
            ],
            loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=4,
        )
        svg = _svg(fig, "reliability diagrams")
    what = (
        f"the predicted probability of {result.minority_label} against how often it is the true label"
        if binary else "top-label confidence against accuracy"
    )
    return Plot(
        "plot-reliability",
        "Reliability diagrams",
        f"Each panel plots {what}, in {DEFAULT_BINS} equal-width bins (those of the ECE), test examples pooled "
        f"over seeds. On the diagonal a model is calibrated; above it, under-confident; below it, over-confident. "
        f"ECE: mean over seeds, top-label.",
        svg,
    )


def confusion_grid(result: ComparisonResult) -> Plot:
    """Row-normalised confusion matrices of each technique's median seed, with counts."""
    n = len(result.techniques)
    k = len(result.labels)
    ncols = _balanced_columns(n, 5 if k <= 2 else 4 if k == 3 else 3)
    nrows = -(-n // ncols)
    size = 1.0 + 0.62 * k
    short = [label if len(label) <= 12 else label[:11] + "…" for label in result.labels]
    left = 0.45 + 0.065 * max(len(label) for label in short)
    bottom = 0.55 if k <= 3 else 0.35 + 0.06 * max(len(label) for label in short)
    with _figure((size + 0.35) * ncols + left, (size + 0.5) * nrows + bottom + 0.1, layout=None) as fig:
        axes = _panels(fig, n, ncols, margins=(left, 0.1, 0.35, bottom), space=(0.35, 0.5))
        for ax, t in zip(axes, result.techniques):
            run = result.median_run(t)
            cm = confusion_matrices(run.y_true, run.pred, k)
            rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
            for i in range(k):
                for j in range(k):
                    dark = rows[i, j] > 0.55
                    ax.text(j, i, f"{rows[i, j]:.0%}\n{int(cm[i, j]):,}", ha="center", va="center",
                            fontsize=7.5 if k <= 3 else 6.5, color="white" if dark else INK, linespacing=1.15)
            ax.set_xticks(range(k), short, rotation=0 if k <= 3 else 45, ha="center" if k <= 3 else "right")
            ax.set_yticks(range(k), short)
            ax.grid(False)
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title(f"{t} · seed {run.seed}", fontsize=9)
        fig.supxlabel("predicted", fontsize=9, y=0.08 / fig.get_size_inches()[1])
        fig.supylabel("true", fontsize=9, x=0.08 / fig.get_size_inches()[0])
        svg = _svg(fig, "confusion matrices")
    return Plot(
        "plot-confusion",
        "Confusion matrices",
        f"Each technique's median seed by {result.title(result.metric)}. Colour and percentage: share of the "
        f"true class (rows sum to 100 %); below it the count of test examples.",
        svg,
    )


def probe_chart(result: ComparisonResult) -> Plot | None:
    """Each probe's probability of the probe label per technique: as trained and prior-corrected."""
    table = result.probes
    if table.empty:
        return None
    label = result.probe_label
    texts = list(dict.fromkeys(table["probe"]))[:4]
    techniques = [t for t in result.techniques if t in set(table["technique"])]
    colors = technique_colors(result.techniques, result.baseline)
    y = np.arange(len(techniques))[::-1]
    with _figure(min(3.6 * len(texts), 10.8) + 1.4, 0.34 * len(techniques) + 1.3) as fig:
        axes = fig.subplots(1, len(texts), sharey=True, squeeze=False)[0]
        for ax, text in zip(axes, texts):
            rows = table[table["probe"] == text].set_index("technique")
            for yi, t in zip(y, techniques):
                if t not in rows.index:
                    continue
                c = colors[t]
                for kind, marker, face, dy in (("raw", "o", c, 0.12), ("corrected", "D", "white", -0.12)):
                    m, s = rows.loc[t, f"{label}_{kind}_mean"], rows.loc[t, f"{label}_{kind}_std"]
                    if not np.isfinite(m):
                        continue
                    if np.isfinite(s) and s > 0:
                        ax.plot([max(m - s, 0), min(m + s, 1)], [yi + dy] * 2, color=c, lw=1.4, alpha=0.6)
                    ax.scatter([m], [yi + dy], marker=marker, s=34, facecolor=face, edgecolor=c, lw=1.3, zorder=4)
            ax.set_xlim(-0.02, 1.02)
            ax.axvline(0.5, color="#c4c8cf", lw=0.8, ls=":")
            shown = text if len(text) <= 48 else text[:47] + "…"
            ax.set_title(f"“{shown}”", fontsize=9)
            ax.set_xlabel(f"P({label})")
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(y, techniques)
        for tick, t in zip(axes[0].get_yticklabels(), techniques):
            tick.set_color(colors[t])
            tick.set_fontweight("bold")
        fig.legend(
            handles=[
                Line2D([], [], color=INK, marker="o", lw=0, ms=5, label="as trained"),
                Line2D([], [], color=INK, marker="D", mfc="white", lw=0, ms=5, label="corrected to the true prior"),
                Line2D([], [], color=INK, lw=1.4, alpha=0.6, label="± 1 std over seeds"),
            ],
            loc="outside lower center", ncol=3,
        )
        svg = _svg(fig, "probe probabilities")
    return Plot(
        "plot-probes",
        "Probe probabilities",
        f"Mean probability of {label} over seeds for each probe text, as the technique trained it (dot) and "
        f"corrected to the training prior (diamond); lines: ± one standard deviation over seeds.",
        svg,
    )


def cost_curve_chart(result: ComparisonResult) -> Plot | None:
    """Cost curves (Drummond & Holte 2006): normalised expected cost of each technique's Bayes decisions against
    the probability-cost PC(+), averaged over seeds; the lower envelope and the user's operating point marked."""
    cost = result.cost
    curves = None if cost is None else cost.curves
    if cost is None or curves is None:
        return None
    colors = technique_colors(result.techniques, result.baseline)
    pc = curves.pc
    with _figure(7.6, 4.6) as fig:
        ax = fig.subplots()
        # The trivial classifiers: always the other label (NE = PC) and always the positive one (NE = 1 − PC).
        ax.plot([0, 1], [0, 1], color="#c4c8cf", lw=0.9, ls=(0, (2, 2)))
        ax.plot([0, 1], [1, 0], color="#c4c8cf", lw=0.9, ls=(0, (2, 2)))
        for t in result.techniques:
            ax.plot(pc, curves.curves[t], color=colors[t], lw=2.0 if t == result.baseline else 1.4, alpha=0.95,
                    label=t, zorder=3 if t == result.baseline else 2)
        ax.fill_between(pc, 0, curves.cheapest.envelope, color=INK, alpha=0.06, lw=0, zorder=0)
        ax.plot(pc, curves.cheapest.envelope, color=INK, lw=7, alpha=0.16, solid_capstyle="round",
                label="lower envelope (cheapest technique)", zorder=1)
        top = float(np.nanmax([np.nanmax(c) for c in curves.curves.values()]))
        if curves.operating_pc is not None:
            x = curves.operating_pc
            ax.axvline(x, color=INK, lw=1.0, ls=(0, (4, 2)), zorder=4)
            i = int(np.argmin(np.abs(pc - x)))
            ax.scatter([x], [curves.cheapest.envelope[i]], s=36, color=INK, zorder=5)
            ax.annotate(("your costs" if curves.exact else "≈ your costs") + f"\nPC = {x:.3f}", (x, min(top, 0.5) * 0.98),
                        xytext=(5, 0), textcoords="offset points", fontsize=8, color=INK, va="top")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, min(0.5, top * 1.1) if top > 0 else 0.5)
        ax.set_xlabel(f"probability-cost PC({curves.positive}) = p·fn / (p·fn + (1 − p)·fp)")
        ax.set_ylabel("normalised expected cost")
        # The same axis in the user's units: the fn/fp ratio at the deployment prior.
        p = curves.prior_positive
        ratios = [r for r in (0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000) if 0.02 < float(p * r / (p * r + 1 - p)) < 0.98]
        secondary = ax.secondary_xaxis("top")
        secondary.set_xticks([p * r / (p * r + 1 - p) for r in ratios], [f"{r:g}" for r in ratios])
        secondary.set_xlabel(f"fn / fp at {100 * p:.3g} % {curves.positive}", color=MUTED, fontsize=8)
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
        svg = _svg(fig, "cost curves")
    what = ("" if curves.exact else
            f" A cost matrix has no one-dimensional cost space: the curves are {curves.positive} against the rest "
            f"(a missed {curves.positive} costs fn, predicting it for another label fp), and your point approximates "
            f"the matrix by its prior-weighted mean miss and false-alarm costs.")
    return Plot(
        "plot-costs",
        "Cost curves",
        f"Normalised expected cost of each technique's Bayes decisions (probabilities corrected to each operating "
        f"point, then the label of least expected cost) against the probability-cost function, which folds the "
        f"prior of {curves.positive} and the two error costs into one number (Drummond & Holte 2006); mean over "
        f"seeds on the test split. Grey band and shade: the lower envelope, the cheapest technique at each point; dotted: "
        f"always predicting one label; dashed: your costs and deployment prior. Top axis: the same points as "
        f"fn/fp ratios at the deployment prior.{what}",
        svg,
    )


def tuning_curves(result: ComparisonResult) -> Plot | None:
    """``compare --tune``: the best validation score so far against the trial number, one line per technique."""
    entries = (result.tuning or {}).get("techniques") or []
    entries = [e for e in entries if e.get("summary", {}).get("curve")]
    if not entries:
        return None
    colors = technique_colors(result.techniques, result.baseline)
    metric = entries[0]["summary"].get("metric", result.metric)
    with _figure(6.4 + 2.2, 3.4) as fig:
        ax = fig.subplots()
        for entry in entries:
            curve = entry["summary"]["curve"]
            x = [p["trial"] for p in curve]
            c = colors.get(entry["tuned"], INK)
            ax.step(x, [p["best"] for p in curve], where="post", color=c, lw=1.6, label=entry["tuned"])
            ax.scatter(x, [p["value"] for p in curve], s=8, color=c, alpha=0.35, lw=0)
        ax.set_xlabel("trial")
        better = "↑ better" if higher_is_better(metric) else "↓ better"
        ax.set_ylabel(f"validation {result.title(metric)}  ({better})")
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
        svg = _svg(fig, "tuning curves")
    return Plot(
        "plot-tuning",
        "Tuning curves",
        f"Best validation {result.title(metric)} so far against the trial number (line) and each trial's score (dots), "
        f"per technique; the test split is never read while tuning.",
        svg,
    )


def all_plots(result: ComparisonResult) -> list[Plot]:
    """Every figure of the report, in reading order (figures that do not apply are left out)."""
    plots = [
        metric_chart(result),
        difference_chart(result),
        pr_curves(result),
        reliability_diagrams(result),
        confusion_grid(result),
        probe_chart(result),
        tuning_curves(result),
    ]
    return [p for p in plots if p is not None]
