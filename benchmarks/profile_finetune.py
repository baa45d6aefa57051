"""Where a fine-tuning step's time goes, per precision: torch.profiler over one epoch of imblab's loop (issue 24).

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python -m benchmarks.profile_finetune [--n N] [--top K]
        [--precision no bf16] [--stock] [--shapes]

The bundled all-MiniLM-L6-v2, batch 32, max length 128, length-grouped batches, weighted cross-entropy, the SMS
texts of ``train_throughput.py``. Prints, per precision, each group of operators' share of the profiled CPU time
(self time): matrix products, element-wise and normalisation, the optimiser, casts, the rest. ``--stock`` turns
the loop's CPU dropout path off (torch's own dropout and attention, to measure what it saves); ``--shapes`` also
lists the top operators by input shape.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.train_throughput import _load, _model

GROUPS = {
    "matrix products": ("addmm", "mm", "bmm", "matmul", "linear", "_mkldnn", "baddbmm", "scaled_dot_product"),
    "casts (autocast)": ("_to_copy", "to", "copy_", "_autocast"),
    "optimiser (AdamW)": ("_fused_adamw", "adamw", "_foreach"),
    "normalisation, softmax, GELU": ("layer_norm", "native_layer_norm", "softmax", "_softmax", "gelu", "dropout",
                                     "native_dropout", "_log_softmax"),
}


def group_of(name: str) -> str:
    op = name.split("::")[-1]
    for group, ops in GROUPS.items():
        if op in ops or any(op.startswith(o) for o in ops if len(o) > 3):
            return group
    return "other (element-wise, backward glue, embedding, loss)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--precision", nargs="+", default=["no", "bf16"], choices=["no", "bf16"])
    parser.add_argument("--stock", action="store_true", help="torch's own dropout and attention on CPU")
    parser.add_argument("--shapes", action="store_true")
    args = parser.parse_args()
    import contextlib

    from imblab.training import _loop

    if args.stock:  # the loop's CPU dropout path replaced by a no-op: the stock computation, to compare with
        _loop.fast_dropout = lambda *a, **k: contextlib.nullcontext()
    args.model, args.tokenizer, args.seed, args.max_length, args.batch_size = None, None, 0, 128, 32
    from imblab.backends._encoders import token_lengths
    from imblab.techniques import parse_spec
    from imblab.training import Batches, LoopConfig, train

    texts, y, labels = _load(args.n, 0)
    out = {}
    for precision in args.precision:
        model, tokenizer = _model(labels, args)
        fitted = parse_spec("weighted", labels).fit(np.bincount(y, minlength=len(labels)), labels)

        def make(rows: np.ndarray, tokenizer=tokenizer) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
            return dict(tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=128,
                                  return_tensors="pt"))

        batches = Batches(make, y, token_lengths(tokenizer, texts, 128))
        config = LoopConfig(epochs=1, batch_size=32, lr=5e-5, mixed_precision=precision)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=args.shapes) as prof:
            train(model, batches, fitted, config, seed=0, progress=False)
        totals: dict[str, float] = defaultdict(float)
        ops = []
        for event in prof.key_averages():
            totals[group_of(event.key)] += event.self_cpu_time_total
            ops.append((event.self_cpu_time_total, event.key))
        whole = sum(totals.values())
        out[precision] = {
            "seconds_profiled": round(whole / 1e6, 2),
            "share": {g: round(t / whole, 3) for g, t in sorted(totals.items(), key=lambda kv: -kv[1])},
            "top_ops": [[name, round(t / whole, 3)] for t, name in sorted(ops, reverse=True)[: args.top]],
        }
        if args.shapes:
            shaped = sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)
            out[precision]["top_ops_by_shape"] = [
                [e.key, str(e.input_shapes)[:60], e.count, round(e.self_cpu_time_total / 1e6, 3)]
                for e in shaped[: args.top]]
        print(json.dumps({precision: out[precision]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
