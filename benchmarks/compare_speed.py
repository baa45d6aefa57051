"""Time `imblab compare` (the `seed` group × 3 seeds on SMS spam), as a user runs it.

Each case is one `imblab compare` process, start-up, evaluation and report included. "cold" starts from an
empty embedding cache; "warm" is a fresh output folder (every run retrained) with the cache kept; "re-run"
is the same command again (nothing to train).

Several configurations are timed side by side, on the same machine in the same run: they alternate case by
case (A, B, A, B, ...; each case ``--repeat`` times, the median kept), so a change in the machine's load hits
all alike. ``--against REV`` adds another commit (checked out into a temporary git worktree, run with its own
``src`` first on ``PYTHONPATH``, removed at the end); ``--variant "NAME=ARGS"`` adds the working tree with more
`compare` arguments (e.g. ``--variant "2 workers=--workers 2"``). Run::

    IMBLAB_DATA_DIR=../shared/data python benchmarks/compare_speed.py --against 5db7406 --out benchmarks/compare_speed.json
    IMBLAB_DATA_DIR=../shared/data python benchmarks/compare_speed.py --variant "2 workers=--workers 2"
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "imblab", "compare", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"imblab compare {' '.join(args)} failed:\n{result.stderr}")
    return seconds


def parallel_share(out: Path, seconds: float, case: str, one_process: bool) -> dict[str, float]:
    """How much of a study's time its runs take: the sum of results.csv's per-run ``seconds`` (training and
    evaluation of each run, the scikit-learn reference included), and Amdahl's bound on the speed-up of N
    workers for a one-process study (only runs go in parallel; start-up, imports, the vectoriser fit, the
    comparison and the report do not): ``total / (total - runs + runs / N)`` with N = 2, at no cost of its own."""
    results = out / "results.csv"
    if "re-run" in case or not results.is_file():
        return {}
    with results.open(newline="") as handle:
        runs = sum(float(r["seconds"]) for r in csv.DictReader(handle) if r.get("seconds"))
    if not one_process:  # runs overlap: their sum is not a share of the wall time
        return {"run_seconds": round(runs, 1)}
    return {"run_seconds": round(runs, 1), "bound_2_workers": round(seconds / (seconds - runs + runs / 2), 2)}


def commit_of(rev: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def cases(backends: list[str], work: Path, finetune_limit: int, extra: list[str]) -> list[tuple[str, str, list[str], str]]:
    """(backend, case, compare arguments, cache key): the cache key names the embedding cache a case uses."""
    common = ["sms_spam", "--techniques", "seed", "--seeds", "3", *extra]
    out: list[tuple[str, str, list[str], str]] = []
    for backend in backends:
        if backend == "tfidf":
            folder = str(work / "tfidf")
            out.append(("tfidf", "24 runs, full SMS", [*common, "--backend", "tfidf", "--out", folder], "tfidf"))
            out.append(("tfidf", "re-run of the same command (nothing to train)",
                        [*common, "--backend", "tfidf", "--out", folder], "tfidf"))
        elif backend == "frozen":
            out.append(("frozen", "24 runs, cold (empty embedding cache)",
                        [*common, "--backend", "frozen", "--out", str(work / "frozen-cold")], "frozen-cold"))
            out.append(("frozen", "24 runs, warm (embeddings cached, all retrained)",
                        [*common, "--backend", "frozen", "--out", str(work / "frozen-warm")], "frozen-cold"))
        elif backend == "finetune":
            out.append(("finetune", f"24 runs, --limit {finetune_limit} --epochs 1",
                        [*common, "--backend", "finetune", "--limit", str(finetune_limit), "--epochs", "1",
                         "--out", str(work / "finetune")], "finetune"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the timings as JSON here")
    parser.add_argument("--backends", default="tfidf,frozen", help="comma-separated: tfidf,frozen,finetune")
    parser.add_argument("--finetune-limit", type=int, default=600, help="rows for the finetune timing")
    parser.add_argument("--against", metavar="REV", help="also time this commit, alternating with the working tree")
    parser.add_argument("--repeat", type=int, default=1, help="times each case runs per commit (the median is kept)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                        help="also time the working tree with these extra compare arguments (repeatable)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imblab-bench-"))
    configs: dict[str, tuple[Path, list[str]]] = {"HEAD": (ROOT, [])}
    for variant in args.variant:
        name, _, extra = variant.partition("=")
        configs[f"HEAD, {name}"] = (ROOT, extra.split())
    if args.against:
        other = work / "against"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True,
                       capture_output=True)
        configs[commit_of(args.against)] = (other, [])
    rows = []
    try:
        plans = {name: cases(args.backends.split(","), work / f"t{i}", args.finetune_limit, extra)
                 for i, (name, (_, extra)) in enumerate(configs.items())}
        for k in range(len(plans["HEAD"])):
            for i, (name, (tree, _)) in enumerate(configs.items()):
                backend, case, compare_args, cache = plans[name][k]
                env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree / "src"),
                       # each configuration has its own caches; "cold" cases start from an empty one
                       "IMBLAB_CACHE_DIR": str(work / f"cache-{i}-{cache}")}
                seconds = []
                for _ in range(args.repeat):
                    if "cold" in case:
                        shutil.rmtree(env["IMBLAB_CACHE_DIR"], ignore_errors=True)
                    if "re-run" not in case:
                        shutil.rmtree(compare_args[compare_args.index("--out") + 1], ignore_errors=True)
                    seconds.append(timed(compare_args, env))
                row = {"configuration": name, "backend": backend, "case": case, "seconds": round(statistics.median(seconds), 1),
                       "all_seconds": [round(s, 1) for s in seconds], "load_average": os.getloadavg()[0]}
                row.update(parallel_share(Path(compare_args[compare_args.index("--out") + 1]), seconds[-1], case,
                                          one_process="--workers" not in compare_args and "--ray" not in compare_args))
                rows.append(row)
                bound = (f"  runs {row['run_seconds']:.1f} s" if "run_seconds" in row else "") + (
                    f", 2-worker bound {row['bound_2_workers']:.2f}x" if "bound_2_workers" in row else "")
                print(f"{name:24s} {backend:9s} {case:50s} {row['seconds']:6.1f} s  (load {row['load_average']:.1f}){bound}",
                      flush=True)
    finally:
        if args.against:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "against")], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
              "configurations": {name: {"tree": str(tree), "extra": extra} for name, (tree, extra) in configs.items()},
              "rows": rows}
    print("\n| configuration | backend | case | seconds |\n| --- | --- | --- | ---: |")
    for row in rows:
        print(f"| {row['configuration']} | {row['backend']} | {row['case']} | {row['seconds']:.1f} |")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
