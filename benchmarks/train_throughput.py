"""Samples/s of imblab's fine-tuning loop against ``transformers.Trainer``, side by side, in each precision.

Same model (the bundled all-MiniLM-L6-v2 with a fresh classification layer), data (a stratified subsample of
SMS spam), batch size, max length, technique (inverse-frequency weighted cross-entropy) and machine, one epoch
each, in one process, for each ``--precision`` (``no``: fp32; ``bf16``: autocast to bf16, fp32 weights):

1. imblab loop, length-grouped dynamic-padding batches (what ``--backend finetune`` uses);
2. imblab loop, shuffled batches with dynamic padding (no length grouping);
3. ``transformers.Trainer`` with ``DataCollatorWithPadding`` and the technique as ``compute_loss_func``, with
   ``TrainingArguments(train_sampling_strategy="group_by_length")`` — what an informed user configures — and
   ``bf16=True`` in bf16;
4. the same Trainer with ``attn_implementation="eager"`` (transformers' own attention code instead of torch's
   ``scaled_dot_product_attention``, which on CPU with dropout takes its unfused path);
5. the same Trainer at its default (random) sampling.

The peer each imblab row is compared with is the faster of the two length-grouped Trainer rows at its precision.

Run: ``IMBLAB_DATA_DIR=... HF_HUB_OFFLINE=1 python benchmarks/train_throughput.py --out results.json``.
Prints a Markdown table; ``--out`` gets the numbers and the environment as JSON.
"""

from __future__ import annotations

import argparse
import functools
import platform
import sys
import tempfile
import time
from typing import Any

import numpy as np
import torch


def _load(n: int, seed: int) -> tuple[list[str], np.ndarray, list[str]]:
    from imblab.data import load_dataset, stratified_subsample

    dataset = stratified_subsample(load_dataset("sms_spam"), n, seed=seed)
    return list(dataset.texts), dataset.y, list(dataset.label_names)


def _model(labels: list[str], args: argparse.Namespace, attention: str | None = None):  # type: ignore[no-untyped-def]
    """``--model``: a path or hub id, or ``random-roberta`` (``RobertaConfig()``, roberta-base's shape, random
    weights: speed does not depend on the weights), tokenised with ``--tokenizer``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, RobertaConfig

    from imblab.backends import resolve_model_name
    from imblab.training import seed_everything

    seed_everything(args.seed)
    extra = {"attn_implementation": attention} if attention else {}
    if args.model == "random-roberta":
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(args.tokenizer))
        config = RobertaConfig(num_labels=len(labels))
        if tokenizer.vocab_size > config.vocab_size:
            raise SystemExit(f"the tokenizer's {tokenizer.vocab_size} ids do not fit RobertaConfig's vocabulary")
        return AutoModelForSequenceClassification.from_config(config, **extra), tokenizer
    path = resolve_model_name(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(labels), dtype=torch.float32,
                                                               **extra)
    return model, AutoTokenizer.from_pretrained(path)


def run_imblab(texts: list[str], y: np.ndarray, labels: list[str], *, grouped: bool, precision: str,
               args: argparse.Namespace) -> dict[str, Any]:
    from imblab.backends._encoders import token_lengths
    from imblab.techniques import parse_spec
    from imblab.training import Batches, LoopConfig, train

    model, tokenizer = _model(labels, args)
    fitted = parse_spec("weighted", labels).fit(np.bincount(y, minlength=len(labels)), labels)

    def make_batch(rows: np.ndarray) -> dict[str, torch.Tensor]:
        return dict(tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=args.max_length,
                              return_tensors="pt"))

    lengths = token_lengths(tokenizer, texts, args.max_length) if grouped else None
    config = LoopConfig(epochs=1, batch_size=args.batch_size, lr=5e-5, weight_decay=0.01, warmup_ratio=0.06,
                        max_grad_norm=1.0, mixed_precision=precision)
    started = time.perf_counter()
    history = train(model, Batches(make_batch, y, lengths), fitted, config, seed=args.seed, progress=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "samples_per_second": len(texts) / seconds, "final_loss": history[-1]["loss"]}


def run_trainer(texts: list[str], y: np.ndarray, labels: list[str], *, grouped: bool, precision: str,
                args: argparse.Namespace, attention: str | None = None) -> dict[str, Any]:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from imblab.integrations.transformers import make_compute_loss_func

    model, tokenizer = _model(labels, args, attention)
    encoded = tokenizer(texts, truncation=True, max_length=args.max_length)
    dataset = [{**{k: encoded[k][i] for k in encoded}, "labels": int(y[i])} for i in range(len(texts))]
    loss = make_compute_loss_func("weighted", y, labels)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=args.batch_size, num_train_epochs=1, learning_rate=5e-5,
            warmup_steps=0.06, weight_decay=0.01, max_grad_norm=1.0, lr_scheduler_type="linear",
            logging_strategy="no", save_strategy="no", report_to=[], seed=args.seed, use_cpu=not cuda,
            bf16=precision == "bf16", dataloader_num_workers=0, disable_tqdm=True,
            train_sampling_strategy="group_by_length" if grouped else "random",
        )
        trainer = Trainer(model=model, args=training_args, train_dataset=dataset,
                          data_collator=DataCollatorWithPadding(tokenizer), compute_loss_func=loss, callbacks=[loss])
        started = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "samples_per_second": len(texts) / seconds, "final_loss": float(result.training_loss)}


RUNS = {
    "imblab loop, length-grouped": (run_imblab, True),
    "imblab loop, unsorted batches": (run_imblab, False),
    "Trainer, group_by_length": (run_trainer, True),
    "Trainer, group_by_length, eager attention": (functools.partial(run_trainer, attention="eager"), True),
    "Trainer, default sampling": (run_trainer, False),
}

PEERS = ("Trainer, group_by_length", "Trainer, group_by_length, eager attention")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="SMS spam texts (stratified subsample)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", nargs="+", default=["no", "bf16"], choices=["no", "bf16"])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--model", default=None,
                        help="path or hub id (default: the bundled all-MiniLM-L6-v2), or random-roberta")
    parser.add_argument("--tokenizer", default=None, help="tokenizer of random-roberta (default: the bundled MiniLM's)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure every row this many times, the rows interleaved; the table gives medians")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()

    texts, y, labels = _load(args.n, args.seed)
    run_imblab(texts[:64], y[:64], labels, grouped=True, precision=args.precision[0], args=args)  # warm-up: imports
    measured: dict[str, list[dict[str, Any]]] = {}
    for repeat in range(args.repeat):  # rows interleaved: a slower minute of the box hits all of them alike
        for precision in args.precision:
            for name in args.runs:
                run, grouped = RUNS[name]
                key = f"{name} [{precision}]"
                measured.setdefault(key, []).append(run(texts, y, labels, grouped=grouped, precision=precision,
                                                        args=args))
                print(f"{key} #{repeat}: {measured[key][-1]['samples_per_second']:.1f} samples/s", file=sys.stderr,
                      flush=True)
    results = {key: {"seconds": float(np.median([r["seconds"] for r in runs])),
                     "samples_per_second": float(np.median([r["samples_per_second"] for r in runs])),
                     "samples_per_second_each": [r["samples_per_second"] for r in runs],
                     **{k: v for k, v in runs[0].items() if k not in ("seconds", "samples_per_second")},
                     "precision": key.rsplit(" [", 1)[1].rstrip("]")}
               for key, runs in measured.items()}
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
    model_name = args.model or "all-MiniLM-L6-v2 (bundled)"
    print(f"SMS spam, {args.n} texts, {model_name}, batch {args.batch_size}, max length {args.max_length}, "
          f"1 epoch, weighted CE, {device}\n")
    print(f"{args.repeat} measurement(s) a row: medians, and the range of samples/s\n")
    print("| training | precision | seconds | samples/s | range | vs the faster length-grouped Trainer, same precision |")
    print("|---|---|---:|---:|---|---:|")
    for key, r in results.items():
        peers = [results[f"{name} [{r['precision']}]"] for name in PEERS if f"{name} [{r['precision']}]" in results]
        peer = max(peers, key=lambda row: row["samples_per_second"]) if peers else None
        ratio = f"{r['samples_per_second'] / peer['samples_per_second']:.2f}x" if peer else "—"
        each = r["samples_per_second_each"]
        print(f"| {key.rsplit(' [', 1)[0]} | {r['precision']} | {r['seconds']:.1f} | {r['samples_per_second']:.1f} | "
              f"{min(each):.1f}–{max(each):.1f} | {ratio} |")
    if args.out:
        import transformers

        from imblab._io import atomic_write_json

        atomic_write_json(args.out, {
            "settings": vars(args), "model": model_name, "device": device, "results": results,
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "python": platform.python_version()},
        })


if __name__ == "__main__":
    main()
