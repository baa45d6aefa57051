"""``imblab serve`` under a real HTTP load generator: ``wrk`` on one core, the server pinned to the other (issue 24).

    apt-get install wrk   # Debian's package; a benchmark, not a test: CI does not need it
    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python -m benchmarks.serve_wrk --out benchmarks/serve_wrk.json

``benchmarks/serve_load.py`` drives the server from a Python ``httpx`` client in the same process group on the
same cores: the client, not the server, was the bottleneck. Here ``wrk`` (C, one thread, ``--connections``
keep-alive connections) runs under ``taskset`` on core 1 and ``imblab serve`` under ``taskset`` on core 0 with one
torch thread, so neither takes the other's core. Each request is one SMS text (a message filter's traffic), cycled
through 200 distinct texts by a Lua script. Models (trained here unless ``--runs`` holds them): TF-IDF, and a
MiniLM fine-tuned with ``--mixed-precision no`` and with ``bf16`` (the model predicts in the precision it was
trained in); each served with micro-batching (``--max-batch 64 --max-wait-ms 5``, the default) and without
(``--max-wait-ms 0``). Reported: wrk's requests/s, latency p50/p99, errors, and the server's mean batch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.serve_load import MODES, _Server

TRAIN = {
    "tfidf": ["--backend", "tfidf"],
    "MiniLM fp32": ["--backend", "finetune", "--limit", "300", "--epochs", "1", "--mixed-precision", "no"],
    "MiniLM bf16": ["--backend", "finetune", "--limit", "300", "--epochs", "1", "--mixed-precision", "bf16"],
}


def train(name: str, out: Path) -> Path:
    if (out / "model" / "imblab.json").is_file():
        return out
    print(f"training {name} → {out}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "imblab", "train", "sms_spam", "--technique", "weighted", "--out", str(out),
                    "--json", *TRAIN[name]], check=True, stdout=subprocess.DEVNULL)
    return out


def lua_script(texts: list[str], path: Path) -> Path:
    """A wrk script: POST /predict, one text per request, cycling through ``texts``."""
    bodies = ",\n".join(json.dumps(json.dumps({"texts": [t]})) for t in texts)
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{bodies}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, \"/predict\", nil, bodies[i])\nend\n"
    )
    return path


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, script: Path, *, core: int, connections: int, seconds: int) -> dict[str, Any]:
    """wrk's numbers, and the share of one core wrk itself used (the load generator must not be the limit)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    output = subprocess.run(
        ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         url], check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / (time.perf_counter() - started)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)}
    done = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: (.*)", output)
    return {"requests_per_s": rate, "requests": done, "p50_ms": latency.get("50"), "p99_ms": latency.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "socket_errors": sockets.group(1) if sockets else None,
            "wrk_core_share": round(wrk_cpu, 3)}


GROUPS = (  # py-spy frames, leaf upwards: the first group a frame's file belongs to takes the sample
    ("Prometheus monitor", ("prometheus_client", "serving/_monitor.py")),
    ("scikit-learn and SciPy (the vectoriser, the head)", ("sklearn/", "scipy/")),
    ("torch and transformers (the forward pass)", ("torch/", "transformers/", "tokenizers/")),
    ("FastAPI, Starlette, pydantic", ("fastapi/", "starlette/", "pydantic")),
    ("uvicorn and asyncio", ("uvicorn/", "httptools", "asyncio/", "uvloop")),
    ("imblab's own code", ("imblab/",)),
)


def profile_server(pid: int, seconds: int, out: Path) -> dict[str, float]:
    """py-spy samples of the server's threads (idle ones left out) → each group's share of the samples."""
    subprocess.run(["py-spy", "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(out),
                    "--nonblocking"], check=True, capture_output=True)
    counts: dict[str, int] = {}
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        group = "other"
        for frame in reversed(stack.split(";")):
            found = next((name for name, marks in GROUPS if any(mark in frame for mark in marks)), None)
            if found is not None:
                group = found
                break
        counts[group] = counts.get(group, 0) + int(n)
    total = sum(counts.values()) or 1
    return {group: round(n / total, 3) for group, n in sorted(counts.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=1,
                        help="measurements per server, one after another (the table gives their median and range)")
    parser.add_argument("--models", nargs="+", default=list(TRAIN), choices=list(TRAIN))
    parser.add_argument("--server-cores", default="0",
                        help="cores of the server (default 0: wrk has core 1 to itself; 0,1: they share core 1)")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="imblab serve --workers N: server processes sharing the port (give them --server-cores)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--runs", help="folder for the trained runs (default: a temporary folder)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy (pip install py-spy) samples the server during the first measured run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.profile and args.server_workers > 1:
        raise SystemExit("--profile samples the server's one process: use it without --server-workers")
    if args.profile and shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit("needs wrk and taskset (Debian: apt-get install wrk util-linux)")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs 2 cores: one for the server, one for wrk")
    from imblab import load_dataset

    texts = list(dict.fromkeys(load_dataset("sms_spam").texts))[:200]
    runs = Path(args.runs) if args.runs else Path(tempfile.mkdtemp(prefix="serve-wrk-"))
    script = lua_script(texts, runs / "predict.lua")
    rows = []
    for name in args.models:
        run_dir = train(name, runs / name.replace(" ", "-").lower())
        for mode in args.modes:
            server = _Server(run_dir, MODES[mode], runs / f"{run_dir.name}-{mode}.log", None, cores=args.server_cores,
                             workers=args.server_workers)
            try:
                run_wrk(server.url, script, core=1, connections=args.connections, seconds=3)  # warm-up
                for repeat in range(args.repeat):
                    before = httpx.get(f"{server.url}/info", timeout=30).json()["batching"]
                    with ThreadPoolExecutor(1) as pool:  # py-spy beside wrk, during the first measured run
                        profiler = pool.submit(profile_server, server.process.pid, max(1, args.seconds - 3),
                                               runs / f"{run_dir.name}-{mode}.pyspy.txt") \
                            if args.profile and repeat == 0 else None
                        result = run_wrk(server.url, script, core=1, connections=args.connections,
                                         seconds=args.seconds)
                        if profiler is not None:
                            result["profile"] = profiler.result()
                    after = httpx.get(f"{server.url}/info", timeout=30).json()["batching"]
                    # /info is one worker's: with several, its batch counts are not the server's
                    batches = after["batches"] - before["batches"] if args.server_workers == 1 else 0
                    rows.append({"model": name, "micro-batching": mode, "repeat": repeat, **result,
                                 "mean_batch": (after["texts"] - before["texts"]) / batches if batches else None,
                                 "load_average": os.getloadavg()[0]})
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            finally:
                server.stop()
    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s on core 1; imblab serve on cores {args.server_cores}"
          f"{f' in {args.server_workers} worker processes' if args.server_workers > 1 else ''}\n")
    print("| model | micro-batching | req/s (median) | range | p50 ms | p99 ms | mean batch | errors | wrk's share of a core |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for key in dict.fromkeys((r["model"], r["micro-batching"]) for r in rows):
        runs = sorted((r for r in rows if (r["model"], r["micro-batching"]) == key), key=lambda r: r["requests_per_s"])
        r, rates = runs[(len(runs) - 1) // 2], [x["requests_per_s"] for x in runs]
        print(f"| {r['model']} | {r['micro-batching']} | {r['requests_per_s']:,.0f} | {rates[0]:,.0f}–{rates[-1]:,.0f} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['mean_batch'] or 0:.1f} | {sum(x['non_2xx'] for x in runs)} | "
              f"{r['wrk_core_share']:.0%} |")
    for r in rows:
        if "profile" in r:
            print(f"\nwhere {r['model']} ({r['micro-batching']} micro-batching) spends its time, py-spy samples: "
                  + ", ".join(f"{group} {share:.0%}" for group, share in r["profile"].items()))
    if args.out:
        from imblab.run import environment

        args.out.write_text(json.dumps({"settings": {"connections": args.connections, "seconds": args.seconds,
                                                     "repeat": args.repeat,
                                                     "server_cores": args.server_cores,
                                                     "server_workers": args.server_workers,
                                                     "train": TRAIN, "modes": MODES}, "rows": rows,
                                        "environment": environment()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
