"""imbalanced-learn's samplers in imblab against imbalanced-learn used directly, on the same split (issue 27).

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/samplers.py --out benchmarks/samplers.json \
        [--cases sms_spam:tfidf sms_spam:frozen hate_speech:frozen] [--samplers smote adasyn smote-tomek] [--seeds 3]

Per (data set, backend): ``imblab compare DATA --backend B --techniques baseline,upsample,<samplers> --seeds S``, then
the same samplers used directly — ``imblearn``'s sampler (``random_state`` = seed) on the very features the backend
computes (``TfidfBackend().fit_features`` / the frozen encoder's cached embeddings) of the study's own train split,
then scikit-learn's ``LogisticRegression`` with C chosen on the validation split as imblab and the study's
scikit-learn reference choose it: along imblab's path of C values, warm-started as ``LogisticRegressionCV`` does, by
macro-F1, ties broken by the validation log-loss. What a skilled user writes. Reported: test macro-F1 mean ± sd over
seeds for both, their difference, and each sampler's paired-bootstrap difference to ``upsample`` as the study reads it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def run_study(data: str, backend: str, techniques: list[str], seeds: int, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imblab", "compare", data, "--backend", backend, "--techniques",
                    ",".join(techniques), "--seeds", str(seeds), "--out", str(out), "--json"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def direct(data: str, backend: str, sampler_name: str, seeds: int, study: Path) -> dict[str, Any]:
    """The sampler straight from imbalanced-learn + LogisticRegression (C on validation), same split and features;
    its test decisions are compared, text by text, with those of the study's run of the same seed."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, log_loss

    from imblab.backends import DEFAULT_CS, make_backend
    from imblab.data import load_dataset, split_dataset
    from imblab.techniques import parse_spec
    from imblab.techniques._samplers import build_sampler

    dataset = load_dataset(data)
    split = split_dataset(dataset, seed=42)
    train, val, test = (split.take(dataset, p) for p in ("train", "validation", "test"))
    features = make_backend(backend)
    if backend == "tfidf":
        x, xv, xt = features.fit_features(list(train.texts)), features.features(list(val.texts)), \
            features.features(list(test.texts))
    else:
        x, xv, xt = (features.embeddings(list(part.texts)) for part in (train, val, test))
    labels = list(dataset.label_names)
    spec = parse_spec(sampler_name, labels).fit(np.bincount(train.y, minlength=len(labels)), labels).sampler
    scores, seconds, differing = [], [], []
    for seed in range(seeds):
        started = time.perf_counter()
        x_res, y_res = build_sampler(spec, np.bincount(train.y, minlength=len(labels)), seed).fit_resample(x, train.y)
        # The C path as LogisticRegressionCV walks it (smallest C first, each fit warm-started from the previous),
        # chosen as imblab and the study's scikit-learn reference choose: macro-F1 of the validation decisions, ties
        # broken by the validation log-loss (on a few hundred validation rows macro-F1 is flat over a range of C).
        model = LogisticRegression(max_iter=2000, warm_start=True)
        best = None
        for c in sorted(DEFAULT_CS):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.set_params(C=c).fit(x_res, y_res)
            proba = model.predict_proba(xv)
            key = (round(f1_score(val.y, proba.argmax(axis=1), average="macro"), 12),
                   -log_loss(val.y, proba, labels=range(len(labels))))
            if best is None or key > best[0]:
                best = (key, model.coef_.copy(), model.intercept_.copy())
        assert best is not None
        model.coef_, model.intercept_ = best[1], best[2]
        decisions = model.predict(xt)
        scores.append(f1_score(test.y, decisions, average="macro"))
        differing.append(_differing(study / "runs" / f"{sampler_name}__seed{seed}" / "predictions.csv",
                                    list(test.row_ids), [labels[d] for d in decisions]))
        seconds.append(time.perf_counter() - started)
    return {"macro_f1": float(np.mean(scores)), "sd": float(np.std(scores, ddof=1)) if seeds > 1 else 0.0,
            "seconds_per_run": float(np.mean(seconds)), "test_decisions_differing": differing, "test_texts": len(test.y)}


def _differing(predictions: Path, row_ids: list[int], decisions: list[str]) -> int:
    """How many test texts the study's run decided otherwise than the direct pipeline."""
    import csv

    with predictions.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["id"]) for row in rows] == row_ids, "the study's test split is not the direct pipeline's"
    return sum(row["predicted"] != label for row, label in zip(rows, decisions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["sms_spam:tfidf", "sms_spam:frozen", "hate_speech:frozen"])
    parser.add_argument("--samplers", nargs="+", default=["smote", "adasyn", "smote-tomek"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/samplers.json"))
    args = parser.parse_args()
    from imblab.study import load_study

    rows = []
    with tempfile.TemporaryDirectory(prefix="imblab-samplers-") as tmp:
        for case in args.cases:
            data, backend = case.split(":")
            out = Path(tmp) / f"{data}-{backend}"
            seconds = run_study(data, backend, ["baseline", "upsample", *args.samplers], args.seeds, out)
            result = load_study(out, write=False)
            for name in ["upsample", *args.samplers]:
                stat = result.stat(name, "macro_f1")
                row = {"data": data, "backend": backend, "technique": name, "imblab_macro_f1": round(stat["mean"], 4),
                       "imblab_sd": round(stat["std"], 4), "study_seconds": round(seconds, 1),
                       "seconds_per_run": round(float(result.stat(name, "seconds")["mean"]), 2)}
                if name != "upsample":
                    d = result.compare(name, "upsample", "macro_f1")
                    row["minus_upsample_points"] = [round(100 * d.difference, 2), round(100 * d.low, 2),
                                                    round(100 * d.high, 2)]
                    peer = direct(data, backend, name, args.seeds, out)
                    row.update({"imblearn_macro_f1": round(peer["macro_f1"], 4), "imblearn_sd": round(peer["sd"], 4),
                                "imblearn_seconds_per_run": round(peer["seconds_per_run"], 2),
                                "imblab_minus_imblearn_points": round(100 * (stat["mean"] - peer["macro_f1"]), 2),
                                "test_decisions_differing": peer["test_decisions_differing"],
                                "test_texts": peer["test_texts"]})
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
