"""How a transformer's inference batch is cut into forward passes, and in what precision its weights are (issue 24).

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/inference_passes.py \
        --out benchmarks/inference_passes.json

What a server's gathered batch looks like: 64 SMS texts drawn at random from 200 distinct ones, ten such batches,
through the bundled all-MiniLM-L6-v2 with a classification layer (speed does not depend on the weights). Each batch
is sorted by length and cut into passes by ``imblab.backends._encoders.length_chunks``: one pass of all 64 (what
imblab did before: padded to the longest text), or passes of at most B padded tokens per thread. In bf16, the model
runs under autocast with its fp32 weights (cast in every pass), or with its linear layers' weights already in bf16
(``cast_linears_to_bf16``: the same numbers). Reported: texts/s, median of ``--repeat`` timings, per torch thread
count.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

BUDGETS = (384, 768, 1536, None)  # padded tokens per thread; None: one pass of the whole batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/inference_passes.json"))
    args = parser.parse_args()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from imblab.backends import resolve_model_name
    from imblab.backends._encoders import length_chunks, quiet_loading, token_lengths
    from imblab.data import load_dataset
    from imblab.training import autocast, cast_linears_to_bf16

    name = resolve_model_name(None)
    tokenizer = AutoTokenizer.from_pretrained(name)
    with quiet_loading():
        fp32 = AutoModelForSequenceClassification.from_pretrained(name, num_labels=2, dtype=torch.float32).eval()
    bf16_weights = cast_linears_to_bf16(copy.deepcopy(fp32))
    texts = list(dict.fromkeys(load_dataset("sms_spam").texts))[:200]
    rng = random.Random(0)
    batches = [[texts[rng.randrange(len(texts))] for _ in range(64)] for _ in range(10)]
    lengths = token_lengths(tokenizer, texts, 128)
    models = {("no", "fp32 weights"): fp32, ("bf16", "fp32 weights, autocast"): fp32,
              ("bf16", "bf16 linear weights"): bf16_weights}

    def run(model: Any, precision: str, budget: int | None, threads: int) -> None:
        for batch in batches:
            chunks = length_chunks(token_lengths(tokenizer, batch, 128), max_texts=64,
                                   device_type="cpu" if budget else "cuda", threads=threads,
                                   tokens_per_thread=budget or 1)
            with torch.inference_mode(), autocast(precision, "cpu"):
                for rows in chunks:
                    encoded = tokenizer([batch[i] for i in rows], padding=True, truncation=True, max_length=128,
                                        return_tensors="pt")
                    model(**encoded).logits.float()

    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for (precision, weights), model in models.items():
            for budget in BUDGETS:
                run(model, precision, budget, threads)  # warm-up: oneDNN compiles its kernels per shape
                rates = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    run(model, precision, budget, threads)
                    rates.append(64 * len(batches) / (time.perf_counter() - started))
                rows.append({"threads": threads, "precision": precision, "weights": weights,
                             "tokens_per_thread": budget, "texts_per_second": round(float(np.median(rates)), 1),
                             "all": [round(r, 1) for r in rates]})
                print(json.dumps(rows[-1]), flush=True)
    print("\n| threads | precision | weights | passes | texts/s (median) |\n|---:|---|---|---|---:|")
    for r in rows:
        passes = "one of all 64" if r["tokens_per_thread"] is None else f"≤ {r['tokens_per_thread']} tokens/thread"
        print(f"| {r['threads']} | {r['precision']} | {r['weights']} | {passes} | {r['texts_per_second']:,.0f} |")
    from imblab.run import environment

    args.out.write_text(json.dumps({"settings": {"repeat": args.repeat, "batches": len(batches), "batch": 64,
                                                 "mean_tokens": float(lengths.mean()), "max_tokens": int(lengths.max())},
                                    "rows": rows, "environment": environment()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
