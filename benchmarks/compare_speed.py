"""Time `imblab compare` (the `seed` group × 3 seeds on SMS spam), as a user runs it.

Targets (issue 5): tfidf ≤ 30 s and a re-run ≥ 10× faster; frozen ≤ 60 s cold and ≤ 10 s with
embeddings cached. "cold" starts from an empty embedding cache; "warm" is a fresh output folder
(every run retrained) with the cache kept; "re-run" is the same command again (nothing to train).
Each case is one `imblab compare` process, start-up included. Run:

    IMBLAB_DATA_DIR=../shared/data python benchmarks/compare_speed.py --out benchmarks/compare_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "imblab", "compare", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"imblab compare {' '.join(args)} failed:\n{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the timings as JSON here")
    parser.add_argument("--backends", default="tfidf,frozen", help="comma-separated: tfidf,frozen,finetune")
    parser.add_argument("--finetune-limit", type=int, default=600, help="rows for the finetune timing")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imblab-bench-"))
    env = {**os.environ, "IMBLAB_CACHE_DIR": str(work / "cache"), "HF_HUB_OFFLINE": "1"}  # cold: empty cache
    common = ["sms_spam", "--techniques", "seed", "--seeds", "3"]
    rows = []

    def add(backend: str, case: str, seconds: float) -> None:
        rows.append({"backend": backend, "case": case, "seconds": round(seconds, 1)})
        print(f"{backend:9s} {case:45s} {seconds:6.1f} s", flush=True)

    for backend in args.backends.split(","):
        if backend == "tfidf":
            out = str(work / "tfidf")
            add("tfidf", "24 runs, full SMS", timed([*common, "--backend", "tfidf", "--out", out], env))
            add("tfidf", "re-run of the same command (nothing to train)", timed([*common, "--backend", "tfidf", "--out", out], env))
        elif backend == "frozen":
            add("frozen", "24 runs, cold (empty embedding cache)",
                timed([*common, "--backend", "frozen", "--out", str(work / "frozen-cold")], env))
            add("frozen", "24 runs, warm (embeddings cached, all retrained)",
                timed([*common, "--backend", "frozen", "--out", str(work / "frozen-warm")], env))
        elif backend == "finetune":
            add("finetune", f"24 runs, --limit {args.finetune_limit} --epochs 1",
                timed([*common, "--backend", "finetune", "--limit", str(args.finetune_limit), "--epochs", "1",
                       "--out", str(work / "finetune")], env))
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
              "load_average": os.getloadavg(), "rows": rows}
    print("\n| backend | case | seconds |\n| --- | --- | --- |")
    for row in rows:
        print(f"| {row['backend']} | {row['case']} | {row['seconds']:.1f} |")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
