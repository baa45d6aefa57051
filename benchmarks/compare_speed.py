"""Time `imblab compare` (the `seed` group × 3 seeds on SMS spam) per backend.

Targets (issue 5): tfidf ≤ 30 s; frozen ≤ 60 s cold and ≤ 10 s with embeddings cached.
"cold" starts from an empty embedding cache; "warm" is a fresh output folder (everything
retrained) with the cache kept. Run:

    IMBLAB_DATA_DIR=../shared/data python benchmarks/compare_speed.py --out benchmarks/compare_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path


def timed_compare(out: Path, **kwargs) -> tuple[float, object]:
    import imblab

    started = time.perf_counter()
    result = imblab.compare("sms_spam", techniques="seed", seeds=3, out=out, **kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the timings as JSON here")
    parser.add_argument("--backends", default="tfidf,frozen", help="comma-separated: tfidf,frozen,finetune")
    parser.add_argument("--finetune-limit", type=int, default=600, help="rows for the finetune timing")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imblab-bench-"))
    os.environ["IMBLAB_CACHE_DIR"] = str(work / "cache")  # cold: an empty embedding cache
    rows = []
    for backend in args.backends.split(","):
        if backend == "tfidf":
            seconds, result = timed_compare(work / "tfidf", backend="tfidf")
            rows.append({"backend": "tfidf", "case": "seed × 3 seeds, full SMS", "seconds": seconds,
                         "runs": len(result.outcomes)})
        elif backend == "frozen":
            seconds, result = timed_compare(work / "frozen-cold", backend="frozen")
            rows.append({"backend": "frozen", "case": "cold (empty embedding cache)", "seconds": seconds,
                         "runs": len(result.outcomes)})
            seconds, result = timed_compare(work / "frozen-warm", backend="frozen")
            rows.append({"backend": "frozen", "case": "warm (embeddings cached, all runs retrained)",
                         "seconds": seconds, "runs": len(result.outcomes)})
        elif backend == "finetune":
            seconds, result = timed_compare(work / "finetune", backend="finetune", limit=args.finetune_limit, epochs=1)
            rows.append({"backend": "finetune", "case": f"--limit {args.finetune_limit} --epochs 1",
                         "seconds": seconds, "runs": len(result.outcomes)})
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
              "rows": rows}
    print("| backend | case | runs | seconds |\n| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['backend']} | {row['case']} | {row['runs']} | {row['seconds']:.1f} |")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
