"""``--mixed-precision no`` against ``bf16`` side by side, in one run on one machine (issue 24).

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/precision.py --out benchmarks/precision.json

1. **The machine's peaks**: a 2048² matmul in fp32 and in bf16 (best of 5), GFLOP/s.
2. **Embedding** (the frozen and hybrid backends): the bundled all-MiniLM-L6-v2, mean-pooled, on ``--embed``
   SMS texts, uncached, in each precision: texts/s, and the cosine of each bf16 embedding to its fp32 one.
3. **Fine-tuning**: ``imblab compare sms_spam --backend finetune --techniques baseline --seeds 3 --limit 2000
   --epochs 1 --mixed-precision P`` for P = no, bf16 (one split: the same test texts), ``--repeat`` times
   interleaved: training samples/s (each run's ``train.log``; the mean over runs and repeats), test macro-F1,
   PR-AUC and ECE per precision with the paired-bootstrap difference bf16 − fp32 over test texts pooled over seeds (imblab's own comparison), and the achieved GFLOP/s
   (≈ 6 × non-embedding parameters × training tokens / seconds) against the peaks of step 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def embedding(texts: list[str]) -> dict[str, Any]:
    from imblab.backends import make_backend

    out: dict[str, Any] = {}
    vectors = {}
    for precision in ("no", "bf16"):
        backend = make_backend("frozen", mixed_precision=precision)
        backend._embed(texts[:64])  # loads the encoder; warms the kernels
        started = time.perf_counter()
        pooled = backend._embed(texts)
        seconds = time.perf_counter() - started
        vectors[precision] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        out[precision] = {"texts_per_second": round(len(texts) / seconds, 1), "seconds": round(seconds, 2)}
    cosine = np.sum(vectors["no"] * vectors["bf16"], axis=1)
    out["cosine_bf16_to_fp32"] = {"min": round(float(cosine.min()), 6), "mean": round(float(cosine.mean()), 6)}
    out["speedup"] = round(out["bf16"]["texts_per_second"] / out["no"]["texts_per_second"], 2)
    return out


def finetune_study(precision: str, root: Path, args: argparse.Namespace) -> Path:
    out = root / f"finetune-{precision}"
    subprocess.run([sys.executable, "-m", "imblab", "compare", "sms_spam", "--backend", "finetune", "--techniques",
                    "baseline", "--seeds", str(args.seeds), "--limit", str(args.limit), "--epochs", "1",
                    "--mixed-precision", precision, "--out", str(out), "--json", "--no-reference"],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def study_rates(folder: Path, precision: str) -> tuple[list[float], float]:
    """Each run's training samples/s (its ``train.log``) and the seconds of a run, on average."""
    rates, seconds = [], 0.0
    for run in sorted((folder / "runs").iterdir()):
        epochs = [json.loads(line) for line in (run / "train.log").read_text().splitlines() if line.strip()]
        rates += [e["samples"] / e["seconds"] for e in epochs if e.get("seconds")]
        seconds += sum(e["seconds"] for e in epochs)
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["precision"] == precision, (run, metrics["precision"])
    return rates, seconds / max(len(rates), 1)


def training_flops_per_token() -> tuple[float, int]:
    """≈ 6 × the non-embedding parameters (forward 2, backward 4 multiply-adds per parameter and token)."""
    from transformers import AutoModel

    from imblab.backends import resolve_model_name

    model = AutoModel.from_pretrained(resolve_model_name(None))
    embedding = sum(p.numel() for name, p in model.named_parameters() if "embeddings" in name)
    params = sum(p.numel() for p in model.parameters()) - embedding
    return 6.0 * params, params


def finetune(root: Path, args: argparse.Namespace, peaks: dict[str, float]) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from imblab.backends import resolve_model_name
    from imblab.comparison import ComparisonResult
    from imblab.study import load_study

    # The studies interleaved, --repeat times (no, bf16, no, bf16, ...): a slow minute of the box hits both.
    repeats: dict[str, list[Path]] = {"no": [], "bf16": []}
    for k in range(args.repeat):
        for p in repeats:
            repeats[p].append(finetune_study(p, root / f"repeat{k}", args))
    folders = {p: studies[0] for p, studies in repeats.items()}
    flops_per_token, params = training_flops_per_token()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(None))
    outcomes, rows = [], {}
    for precision, folder in folders.items():
        result = load_study(folder, write=False, reference=False)
        for again in repeats[precision][1:]:  # same seed, same numbers: every repeat's models score alike
            assert load_study(again, write=False, reference=False).stat("baseline", "macro_f1") == \
                result.stat("baseline", "macro_f1"), again
        measured = [study_rates(study, precision) for study in repeats[precision]]
        study_means = [float(np.mean(rates)) for rates, _ in measured]
        seconds, tokens = float(np.mean([s for _, s in measured])), 0
        split = json.loads((folder / "split.json").read_text())
        from imblab.data import load_dataset, stratified_subsample

        data = stratified_subsample(load_dataset("sms_spam"), args.limit, seed=split.get("seed", 42))
        train_rows = split["train"] if "train" in split else []
        texts = [data.texts[i] for i in train_rows] if train_rows else []
        if texts:
            tokens = sum(len(ids) for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"])
        achieved = flops_per_token * tokens / seconds / 1e9 if tokens else None
        rows[precision] = {
            "samples_per_second": round(float(np.mean(study_means)), 1),
            "samples_per_second_each_study": [round(r, 1) for r in study_means],
            "achieved_gflops": round(achieved, 1) if achieved else None,
            "share_of_peak": round(achieved / peaks[precision], 3) if achieved else None,
            **{m: round(float(result.stat("baseline", m)["mean"]), 4) for m in ("macro_f1", "pr_auc", "ece")},
        }
        for o in result.outcomes:
            o.technique = "bf16" if precision == "bf16" else "fp32"
            outcomes.append(o)
    both = ComparisonResult(outcomes, result.labels, baseline="fp32", metric="macro_f1")
    differences = {}
    for m in ("macro_f1", "pr_auc", "ece"):
        d = both.compare("bf16", "fp32", m)
        differences[m] = {"difference": round(d.difference, 4), "ci": [round(d.low, 4), round(d.high, 4)],
                          "significant": bool(d.significant)}
    return {"runs": rows, "bf16_minus_fp32": differences, "non_embedding_parameters": params,
            "speedup": round(rows["bf16"]["samples_per_second"] / rows["no"]["samples_per_second"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000, help="SMS rows of the fine-tuning studies")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2,
                        help="fine-tuning studies per precision, interleaved; samples/s is their mean")
    parser.add_argument("--embed", type=int, default=1000, help="SMS texts embedded per precision")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/precision.json"))
    args = parser.parse_args()
    from imblab.data import load_dataset
    from imblab.training import cpu_has_bf16

    peaks = {"no": round(matmul_peak(torch.float32), 1), "bf16": round(matmul_peak(torch.bfloat16), 1)}
    print(json.dumps({"matmul_gflops": peaks}), flush=True)
    texts = list(load_dataset("sms_spam").texts[: args.embed])
    embed = embedding(texts)
    print(json.dumps({"embedding": embed}), flush=True)
    with tempfile.TemporaryDirectory(prefix="imblab-precision-") as tmp:
        tuned = finetune(Path(tmp), args, peaks)
    print(json.dumps({"finetune": tuned}), flush=True)
    args.out.write_text(json.dumps({
        "machine": f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
                   f"native bf16: {cpu_has_bf16()}",
        "matmul_gflops": peaks, "embedding": embed, "finetune": tuned,
        "settings": {"limit": args.limit, "seeds": args.seeds, "embed": args.embed, "repeat": args.repeat},
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
