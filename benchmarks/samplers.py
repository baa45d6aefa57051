"""imbalanced-learn's samplers in imblab against imbalanced-learn used directly, on the same split (issue 27).

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/samplers.py --out benchmarks/samplers.json \
        [--cases sms_spam:tfidf sms_spam:frozen hate_speech:frozen] [--samplers smote adasyn smote-tomek] [--seeds 3]

Per (data set, backend): ``imblab compare DATA --backend B --techniques baseline,upsample,<samplers> --seeds S``, then
the same samplers used directly — ``imblearn``'s sampler (``random_state`` = seed) on the very features the backend
computes (``TfidfBackend().fit_features`` / the frozen encoder's cached embeddings) of the study's own train split,
then scikit-learn's ``LogisticRegression`` with C chosen on the validation split by macro-F1 along imblab's path of
C values: what a skilled user writes. Reported: test macro-F1 mean ± sd over seeds for both, their difference, and
each sampler's paired-bootstrap difference to ``upsample`` as the study reads it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def run_study(data: str, backend: str, techniques: list[str], seeds: int, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imblab", "compare", data, "--backend", backend, "--techniques",
                    ",".join(techniques), "--seeds", str(seeds), "--out", str(out), "--json"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def direct(data: str, backend: str, sampler_name: str, seeds: int) -> dict[str, Any]:
    """The sampler straight from imbalanced-learn + LogisticRegression (C on validation), same split and features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

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
    scores, seconds = [], []
    for seed in range(seeds):
        started = time.perf_counter()
        x_res, y_res = build_sampler(spec, np.bincount(train.y, minlength=len(labels)), seed).fit_resample(x, train.y)
        best = None
        for c in DEFAULT_CS:
            model = LogisticRegression(C=c, max_iter=2000).fit(x_res, y_res)
            value = f1_score(val.y, model.predict(xv), average="macro")
            if best is None or value > best[0]:
                best = (value, model)
        assert best is not None
        scores.append(f1_score(test.y, best[1].predict(xt), average="macro"))
        seconds.append(time.perf_counter() - started)
    return {"macro_f1": float(np.mean(scores)), "sd": float(np.std(scores, ddof=1)) if seeds > 1 else 0.0,
            "seconds_per_run": float(np.mean(seconds))}


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
                    peer = direct(data, backend, name, args.seeds)
                    row.update({"imblearn_macro_f1": round(peer["macro_f1"], 4), "imblearn_sd": round(peer["sd"], 4),
                                "imblearn_seconds_per_run": round(peer["seconds_per_run"], 2),
                                "imblab_minus_imblearn_points": round(100 * (stat["mean"] - peer["macro_f1"]), 2)})
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
