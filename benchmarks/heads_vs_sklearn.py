"""imblab's linear heads against scikit-learn on the same features and split (issue 10's acceptance).

For each data set, `imblab compare DATA --techniques seed --seeds 3` runs as a user runs it:

* ``tfidf``: the study's own scikit-learn reference (TF-IDF + ``LogisticRegression(class_weight="balanced")``,
  C chosen on validation: ``results.csv``'s reference row) is the yardstick;
* ``frozen``: the yardstick is ``LogisticRegression(class_weight="balanced")`` on the *same* frozen embeddings
  (the study's embedding cache), C chosen on validation by the same rule and path, scored by the same
  metric functions.

imblab's technique is the one it chooses **on validation** (``ComparisonResult.chosen``: the best mean validation
macro-F1), as the yardstick's C is; the best on test is shown beside it, never used for the verdict.

Acceptance: the chosen technique's mean test macro-F1 ≥ the yardstick's − 0.5 points, and the baseline's
mean test PR-AUC ≥ the yardstick's − 0.5 points. Run::

    IMBLAB_DATA_DIR=../shared/data python benchmarks/heads_vs_sklearn.py --out benchmarks/heads_vs_sklearn.json
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

import numpy as np
import pandas as pd

TOLERANCE = 0.005


def compare(dataset: str, backend: str, out: Path, env: dict[str, str], extra: list[str]) -> pd.DataFrame:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "imblab", "compare", dataset, "--backend", backend, "--techniques",
                             "seed", "--seeds", "3", "--out", str(out), *extra], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"imblab compare {dataset} --backend {backend} failed:\n{result.stderr}")
    print(f"  {dataset} {backend}: {time.perf_counter() - started:.0f} s", flush=True)
    return pd.read_csv(out / "results.csv")


def lr_on_embeddings(dataset: str, metric: str) -> dict[str, float]:
    """LogisticRegression(class_weight="balanced") on the frozen backend's embeddings, C chosen on validation
    along imblab's path (warm-started, ties by validation log-loss), test metrics by imblab's functions."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from imblab.backends import DEFAULT_CS, FrozenBackend
    from imblab.backends._convex import validation_scorer
    from imblab.data import load_dataset, split_dataset
    from imblab.evaluation import all_metrics

    data = load_dataset(dataset)
    split = split_dataset(data, seed=42)
    train, val, test = (split.take(data, p) for p in ("train", "validation", "test"))
    labels = list(data.label_names)
    encoder = FrozenBackend()
    x, xv, xt = (encoder.embeddings(list(part.texts)) for part in (train, val, test))
    score = validation_scorer(val.y, labels, metric)
    model = LogisticRegression(class_weight="balanced", warm_start=True, max_iter=1000)
    best = None
    for c in DEFAULT_CS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.set_params(C=c).fit(x, train.y)
        value, nll = score(np.log(np.clip(model.predict_proba(xv), 1e-300, None)))
        if best is None or (round(value, 12), -nll) > best[0]:
            best = ((round(value, 12), -nll), c, model.predict_proba(xt))
    proba = best[2]
    values = all_metrics(test.y, proba.argmax(axis=1), proba, labels)
    return {"C": best[1], "macro_f1": float(values["macro_f1"]), "pr_auc": float(values["pr_auc"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sms_spam,hate_speech")
    parser.add_argument("--backends", default="tfidf,frozen")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here (and the table as .md beside it)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imblab-heads-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IMBLAB_CACHE_DIR": os.environ.get("IMBLAB_CACHE_DIR", str(work / "cache"))}
    os.environ["IMBLAB_CACHE_DIR"] = env["IMBLAB_CACHE_DIR"]
    rows = []
    for dataset in args.datasets.split(","):
        for backend in args.backends.split(","):
            extra = ["--no-reference"] if backend == "frozen" else []
            results = compare(dataset, backend, work / f"{dataset}-{backend}", env, extra)
            techniques = results[~results["reference"]]
            means = techniques.groupby("technique", sort=False)[["macro_f1", "pr_auc"]].mean()
            if backend == "tfidf":
                ref = results[results["reference"]].iloc[0]
                yardstick = {"name": "TF-IDF + LogisticRegression(balanced), the study's reference",
                             "macro_f1": float(ref["macro_f1"]), "pr_auc": float(ref["pr_auc"])}
            else:
                yardstick = {"name": "LogisticRegression(balanced) on the same embeddings",
                             **lr_on_embeddings(dataset, "macro_f1")}
            from imblab.study import load_study

            chosen = load_study(work / f"{dataset}-{backend}", write=False).chosen
            best = chosen.technique if chosen is not None else means["macro_f1"].idxmax()
            row = {
                "dataset": dataset, "backend": backend, "best_technique": best,
                "chosen_on": "validation" if chosen is not None else "test (no validation metrics)",
                "best_on_test": str(means["macro_f1"].idxmax()),
                "best_macro_f1": float(means.loc[best, "macro_f1"]), "yardstick": yardstick["name"],
                "yardstick_macro_f1": yardstick["macro_f1"],
                "baseline_pr_auc": float(means.loc["baseline", "pr_auc"]), "yardstick_pr_auc": yardstick["pr_auc"],
                "per_technique": {t: {k: float(v) for k, v in r.items()} for t, r in means.iterrows()},
                "load_average": os.getloadavg()[0],
            }
            row["macro_f1_ok"] = row["best_macro_f1"] >= row["yardstick_macro_f1"] - TOLERANCE
            row["pr_auc_ok"] = row["baseline_pr_auc"] >= row["yardstick_pr_auc"] - TOLERANCE
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "per_technique"}), flush=True)
    lines = ["| data set | backend | best technique | its macro-F1 | yardstick macro-F1 | Δ (pts) | baseline PR-AUC | "
             "yardstick PR-AUC | Δ (pts) | holds |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['backend']} | {r['best_technique']} | {r['best_macro_f1']:.3f} | "
            f"{r['yardstick_macro_f1']:.3f} | {100 * (r['best_macro_f1'] - r['yardstick_macro_f1']):+.1f} | "
            f"{r['baseline_pr_auc']:.3f} | {r['yardstick_pr_auc']:.3f} | "
            f"{100 * (r['baseline_pr_auc'] - r['yardstick_pr_auc']):+.1f} | "
            f"{'yes' if r['macro_f1_ok'] and r['pr_auc_ok'] else 'NO'} |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(table + "\n")


if __name__ == "__main__":
    main()
