"""The study's claims (../shared/seed/) checked against an `imblab compare` run of the same techniques.

    python benchmarks/study_claims.py ../imblab-study-cpu > benchmarks/study_cpu/claims.md

Metric claims use the study's paired bootstrap (test examples pooled over seeds, 95 % percentile
interval; ``ComparisonResult.compare``). Probe claims use the probability each seed's model gives the
probe as trained (no prior correction, as in the study), with a Welch 95 % interval over seeds for the
difference of means; "most/least confident" compares the technique with the runner-up (or with the
technique that outranks it). Verdicts: "agrees" (the interval is on the claimed side of 0),
"contradicts" (on the other side), "no clear difference" (it contains 0).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy import stats

import imblab

PROBE = "Call to claim your prize!"


def verdict(low: float, high: float, sign: int) -> str:
    if low > 0 or high < 0:
        return "agrees" if (low > 0) == (sign > 0) else "contradicts"
    return "no clear difference"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", help="an imblab compare output folder (with runs/)")
    args = parser.parse_args()
    result = imblab.load_study(args.study, write=False)
    minority = result.probe_label
    names = set(result.techniques)
    rows: list[tuple[str, str, str, str]] = []

    def metric_claim(claim: str, technique: str, other: str, metric: str, sign: int) -> None:
        if technique not in names or other not in names:
            rows.append((claim, f"{technique} − {other}, {result.title(metric)}", "not in this study", "—"))
            return
        d = result.compare(technique, other, metric)
        scale = 100.0 if metric != "ece" else 1.0
        unit = " pts" if scale == 100.0 else ""
        measured = f"{d.difference * scale:+.1f}{unit} [{d.low * scale:+.1f}, {d.high * scale:+.1f}]"
        rows.append((claim, f"{technique} − {other}, {result.title(metric)}", measured, verdict(d.low, d.high, sign)))

    def probe_values(technique: str) -> np.ndarray:
        return np.array([p["raw"][minority] for o in result.runs(technique) for p in o.probes if p["text"] == PROBE])

    def probe_claim(claim: str, technique: str, other: str, sign: int) -> None:
        if technique not in names or other not in names:
            rows.append((claim, f"probe P({minority}): {technique} − {other}", "not in this study", "—"))
            return
        a, b = probe_values(technique), probe_values(other)
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        measured = f"{a.mean() - b.mean():+.3f} [{ci.low:+.3f}, {ci.high:+.3f}]"
        rows.append((claim, f"probe P({minority}): {technique} − {other}", measured, verdict(ci.low, ci.high, sign)))

    base = result.baseline
    spam = minority
    for metric in ("macro_f1", f"{spam}_f1", f"{spam}_precision", f"{spam}_recall", "pr_auc"):
        metric_claim("bias init improves all metrics", "bias-init", base, metric, +1)
    for technique in ("downsample-upweight", "upsample-downweight"):
        metric_claim(f"{technique} lowers {spam} recall", technique, base, f"{spam}_recall", -1)
    for metric in ("macro_f1", f"{spam}_f1"):
        metric_claim("focal loss beats the baseline", "focal", base, metric, +1)
    for metric in ("macro_f1", f"{spam}_f1"):
        metric_claim("inverse-frequency weighting beats the baseline", "weighted", base, metric, +1)
    heavy = next((t for t in result.techniques if t.startswith("weighted (")), "weighted (spam=10)")
    metric_claim(f"{spam}=10 raises {spam} recall", heavy, "weighted", f"{spam}_recall", +1)
    metric_claim(f"{spam}=10 lowers {spam} precision", heavy, "weighted", f"{spam}_precision", -1)
    metric_claim(f"{spam}=10 has a worse F1 than inverse frequency", heavy, "weighted", f"{spam}_f1", -1)
    def rank_claim(claim: str, technique: str, sign: int) -> None:
        """``technique`` has the highest (sign +1) or lowest (−1) mean probe P(minority) of all."""
        if technique not in names:
            rows.append((claim, f"probe P({minority}): {technique} vs all", "not in this study", "—"))
            return
        means = {t: probe_values(t).mean() for t in result.techniques}
        order = sorted(means, key=lambda t: -sign * means[t])
        rank = order.index(technique) + 1
        rival = order[1] if rank == 1 else order[0]  # the runner-up, or the technique that beats it
        a, b = probe_values(technique), probe_values(rival)
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        measured = (f"rank {rank} of {len(order)} ({means[technique]:.3f}); {technique} − {rival}: "
                    f"{a.mean() - b.mean():+.3f} [{ci.low:+.3f}, {ci.high:+.3f}]")
        rows.append((claim, f"probe P({minority}), {'highest' if sign > 0 else 'lowest'} of all", measured,
                     verdict(ci.low, ci.high, sign)))

    rank_claim("on the probe, weighted is the most confident", "weighted", +1)
    rank_claim("on the probe, downsample-upweight is the least confident", "downsample-upweight", -1)
    probe_claim("on the probe, bias init raises confidence", "bias-init", base, +1)
    probe_claim("on the probe, focal loss lowers confidence", "focal", base, -1)

    seeds = len(result.seeds)
    print(f"Study folder `{args.study}`: {len(result.techniques)} techniques × {seeds} seeds.\n")
    columns = ["macro_f1", f"{spam}_precision", f"{spam}_recall", f"{spam}_f1", "pr_auc", "ece"]
    print("| technique | " + " | ".join(result.title(m) for m in columns) + f" | probe P({spam}) as trained |"
          f" probe P({spam}) corrected |")
    print("|---|" + "---:|" * (len(columns) + 2))
    for technique in result.techniques:
        cells = []
        for m in columns:
            st = result.stat(technique, m)
            cells.append(f"{st['mean']:.3f} ± {st['std']:.3f}")
        raw = probe_values(technique)
        corrected = np.array([p["corrected"][minority] for o in result.runs(technique) for p in o.probes
                              if p["text"] == PROBE])
        cells += [f"{raw.mean():.3f} ± {raw.std(ddof=1):.3f}", f"{corrected.mean():.3f} ± {corrected.std(ddof=1):.3f}"]
        print(f"| {technique} | " + " | ".join(cells) + " |")
    print("\nMean ± standard deviation over seeds (test split). The study's claims, with 95 % intervals:\n")
    print("| study's claim | what we compare | measured | verdict |")
    print("|---|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
