"""A bounded load test of ``imblab serve`` on loopback: requests/s and latency, with and without micro-batching.

For a TF-IDF model and a fine-tuned MiniLM (trained here unless ``--runs`` holds them), each served by
``imblab serve`` in its own process on 127.0.0.1:

* with micro-batching (the defaults, ``--max-batch 64 --max-wait-ms 5``) and without (``--max-wait-ms 0``);
* ``--server-threads`` sets the server's torch threads (on a machine whose cores are busy with other work,
  fewer threads than cores avoids OpenMP threads waiting for each other);
* ``--requests`` requests of one SMS text each (a message filter's traffic), ``--concurrency`` in flight at
  a time, sent by as many ``httpx.AsyncClient`` callers in this process (one connection each); no new
  request starts after ``--time-cap`` seconds, so a slow case ends in bounded time and says how many
  requests it completed;
* the answers for the first ``--check`` texts are compared with ``load_model(...).predict_proba`` /
  ``predict`` of the same text alone: the table gives the largest probability difference and the number
  of labels that differ.

Run: ``IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/serve_load.py --out serve_load.json``.
Prints a Markdown table; ``--out`` gets the numbers, the settings and the machine's load as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

MODES = {"with": ["--max-batch", "64", "--max-wait-ms", "5"], "without": ["--max-wait-ms", "0"]}
TRAIN = {
    "tfidf": ["--backend", "tfidf"],
    "finetuned MiniLM": ["--backend", "finetune", "--limit", "300", "--epochs", "1"],
}


def _train(name: str, out: Path) -> Path:
    if (out / "model" / "imblab.json").is_file():
        return out
    command = [sys.executable, "-m", "imblab", "train", "sms_spam", "--technique", "weighted", "--out", str(out),
               "--json", *TRAIN[name]]
    print(f"training {name} → {out}", file=sys.stderr)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """``imblab serve`` on 127.0.0.1 in its own process (``workers`` > 1: that many worker processes); with ``cores``
    ("0" or "0,1") pinned to them by ``taskset``, one torch thread per core and worker (``serve_wrk.py``)."""

    def __init__(self, run_dir: Path, args: list[str], log: Path, threads: int | None, cores: str | None = None,
                 workers: int = 1) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        if cores is not None:  # the cores shared out between the worker processes' torch threads
            threads = max(1, len(cores.split(",")) // workers)
        if workers > 1:
            args = [*args, "--workers", str(workers)]
        if threads is not None:  # torch reads OMP_NUM_THREADS at start-up for its intra-op thread pool
            env["OMP_NUM_THREADS"] = str(threads)
        pin = ["taskset", "-c", cores] if cores is not None else []
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*pin, sys.executable, "-m", "imblab", "serve", str(run_dir), "--port", str(self.port),
                 "--no-access-log", *args], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"imblab serve exited: {log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("imblab serve did not start in 300 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # the whole group: --workers' processes outlive a killed supervisor
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


async def _load(url: str, texts: list[str], *, requests: int, concurrency: int, time_cap: float) -> dict[str, Any]:
    """Send ``requests`` one-text requests, ``concurrency`` at a time; none starts after ``time_cap`` seconds.

    Each of the ``concurrency`` callers has its own client and connection, opened by one untimed request
    before the clock starts: callers sharing one ``httpx`` pool wait on each other for up to a second
    (measured here: p99 1.5 s from the pool against 0.1 s inside the server), which is the client's cost,
    not the server's.
    """
    latencies: list[float] = []
    answers: dict[int, dict[str, Any]] = {}
    failures = 0
    next_index = 0
    clients = [httpx.AsyncClient(base_url=url, timeout=600) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(client.get("/health") for client in clients))
        started = time.perf_counter()

        async def caller(client: httpx.AsyncClient) -> None:
            nonlocal next_index, failures
            while next_index < requests and time.perf_counter() - started < time_cap:
                i = next_index
                next_index += 1
                sent = time.perf_counter()
                response = await client.post("/predict", json={"texts": [texts[i % len(texts)]]})
                latencies.append(time.perf_counter() - sent)
                if response.status_code == 200:
                    answers[i] = response.json()["predictions"][0]
                else:
                    failures += 1

        await asyncio.gather(*(caller(client) for client in clients))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    ms = np.array(latencies) * 1000
    return {
        "completed": len(latencies), "failed": failures, "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
        "answers": answers,
    }


def _reference(model: Any, texts: list[str]) -> list[tuple[np.ndarray, str]]:
    """What ``load_model(...).predict_proba([text])`` and ``.predict([text])`` give, text by text.

    One forward pass per text, through the same two steps ``predict_proba`` and ``predict`` take
    (``predict_logits``, then ``proba_from_logits`` / ``decide``): a text alone is never padded.
    """
    out = []
    for text in texts:
        logits = model.predict_logits([text])
        out.append((model.proba_from_logits(logits)[0], model.labels[int(model.decide(logits)[0])]))
    return out


def _check(model: Any, reference: list[tuple[np.ndarray, str]], answers: dict[int, dict[str, Any]],
           n_texts: int) -> dict[str, Any]:
    """Largest |p − p_load_model| and label differences over the answers whose text has a reference."""
    worst, differ, checked = 0.0, 0, 0
    for i, answer in answers.items():
        if i % n_texts >= len(reference):
            continue
        proba, label = reference[i % n_texts]
        got = np.array([answer["probabilities"][name] for name in model.labels])
        worst = max(worst, float(np.abs(got - proba).max()))
        differ += answer["label"] != label
        checked += 1
    return {"max_abs_diff": worst, "labels_differ": differ, "checked": checked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per case (default: 300)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default: 16)")
    parser.add_argument("--time-cap", type=float, default=45.0, help="seconds per case (default: 45)")
    parser.add_argument("--check", type=int, default=100,
                        help="answers of the first N texts are compared with load_model, text by text (default: 100)")
    parser.add_argument("--server-threads", type=int, default=None,
                        help="torch threads of the server (OMP_NUM_THREADS; default: torch's choice, one per core)")
    parser.add_argument("--runs", help="folder for the trained runs (default: a temporary folder)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()

    from imblab import load_dataset, load_model

    if args.server_threads is not None:  # the reference predictions run as the server does
        import torch

        torch.set_num_threads(args.server_threads)

    dataset = load_dataset("sms_spam")
    texts = list(dict.fromkeys(dataset.texts))[:500]
    runs = Path(args.runs) if args.runs else Path(tempfile.mkdtemp(prefix="serve-load-"))
    load_before = os.getloadavg()
    rows = []
    for name in TRAIN:
        run_dir = _train(name, runs / name.split()[-1].lower())
        model = load_model(run_dir / "model")
        reference = _reference(model, texts[: args.check])
        for mode, flags in MODES.items():
            server = _Server(run_dir, flags, runs / f"{name.split()[-1].lower()}-{mode}.log", args.server_threads)
            try:
                asyncio.run(_load(server.url, texts, requests=args.concurrency * 2, concurrency=args.concurrency,
                                  time_cap=60))  # warm-up: first-call allocations, connection set-up
                before = httpx.get(f"{server.url}/info", timeout=30).json()["batching"]
                result = asyncio.run(_load(server.url, texts, requests=args.requests, concurrency=args.concurrency,
                                           time_cap=args.time_cap))
                after = httpx.get(f"{server.url}/info", timeout=30).json()["batching"]
            finally:
                server.stop()
            answers = result.pop("answers")
            batches = after["batches"] - before["batches"]
            checked = _check(model, reference, answers, len(texts))
            rows.append({"model": name, "micro-batching": mode, **result, **checked,
                         "mean_batch": (after["texts"] - before["texts"]) / batches if batches else None,
                         "load_average": os.getloadavg()[0]})
            print(f"{name}, {mode}: {rows[-1]['requests_per_s']:.1f} req/s", file=sys.stderr)

    header = ("| model | micro-batching | requests done | req/s | p50 ms | p99 ms | mean batch (texts) "
              "| max \\|Δp\\| vs load_model | labels differing |")
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        capped = "" if r["completed"] == args.requests else f" (time cap {args.time_cap:.0f} s)"
        print(f"| {r['model']} | {r['micro-batching']} | {r['completed']}/{args.requests}{capped} "
              f"| {r['requests_per_s']:.1f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['mean_batch']:.1f} "
              f"| {r['max_abs_diff']:.1e} | {r['labels_differ']} |")
    print(f"\nload average (1 min) before: {load_before[0]:.2f}; during: "
          + ", ".join(f"{r['load_average']:.2f}" for r in rows))
    if args.out:
        from imblab.run import environment

        payload = {"settings": {**vars(args), "modes": MODES, "train": TRAIN}, "rows": rows,
                   "load_average_before": load_before, "environment": environment()}
        Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
