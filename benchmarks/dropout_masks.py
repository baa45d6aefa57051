"""CPU dropout: torch's ``F.dropout`` (``bernoulli_`` masks) against imblab's ``MaskSource`` (numpy SFC64), per element.

    python benchmarks/dropout_masks.py [--out benchmarks/dropout_masks.json]

For the two tensor shapes a MiniLM training step drops most (attention probabilities 32 × 12 × 59 × 59 and hidden
states 32 × 59 × 384, batch 32 at 59 tokens) in fp32 and bf16: nanoseconds an element to draw a mask alone, and to
apply dropout forward and backward; the best of 5 rounds of 20 calls each, torch on all its threads.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import torch

from imblab.training._dropout import MaskSource

SHAPES = {"attention probabilities": (32, 12, 59, 59), "hidden states": (32, 59, 384)}


def per_element(fn: Callable[[], object], n: int, calls: int = 20, rounds: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - started) / calls)
    return best / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--out")
    args = parser.parse_args()
    source, rng = MaskSource(0), np.random.Generator(np.random.SFC64(0))
    rows = []
    for name, shape in SHAPES.items():
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(shape).to(dtype).requires_grad_()
            grad = torch.randn(shape).to(dtype)
            n = x.numel()
            row = {
                "tensor": name, "dtype": str(dtype).removeprefix("torch."), "elements": n,
                "torch_mask_ns": per_element(lambda: torch.empty_like(x).bernoulli_(1 - args.p), n),
                "sfc64_mask_ns": per_element(lambda: rng.integers(-32768, 32768, size=n, dtype=np.int16), n),
                "torch_dropout_ns": per_element(
                    lambda: torch.nn.functional.dropout(x, args.p, training=True).backward(grad), n),
                "imblab_dropout_ns": per_element(lambda: source.dropout(x, args.p).backward(grad), n),
            }
            row = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
            row["speedup"] = round(row["torch_dropout_ns"] / row["imblab_dropout_ns"], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        from imblab._io import atomic_write_json

        atomic_write_json(args.out, {"threads": torch.get_num_threads(), "p": args.p, "rows": rows})


if __name__ == "__main__":
    main()
