"""TF-IDF, frozen MiniLM and hybrid (TF-IDF ⊕ MiniLM) seed studies on the built-in data sets, against the study's
scikit-learn yardstick (issue 23): test macro-F1 of the best technique, the yardstick's, and the time per study.

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/hybrid_vs_tfidf.py \
        --out benchmarks/hybrid_vs_tfidf.json [--data sms_spam hate_speech] [--backends tfidf hybrid] [--seeds 2]
    ... --studies-only --backends tfidf frozen hybrid    # one study of the three backends per data set, on one split

Each study is ``imblab compare DATA --backend B --techniques seed --seeds S`` in a fresh folder. The first study
that embeds a data set computes its embeddings (``cold``); on the first data set it is then run again with the
embeddings cached, the speed point of issue 23 (hybrid warm ≤ 2.5 × tfidf). The best
technique is picked **on validation** (its mean validation macro-F1 over seeds), and its test macro-F1 compared with
the yardstick's (the study's reference row: TF-IDF + ``LogisticRegression(class_weight="balanced")``, C chosen on
validation the same way).
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

import pandas as pd


def run_study(data: str, backend: str, seeds: int, root: Path) -> dict:
    out = root / f"{data}-{backend}"
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imblab", "compare", data, "--backend", backend, "--techniques", "seed",
                    "--seeds", str(seeds), "--out", str(out), "--json"], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    results = pd.read_csv(out / "results.csv")
    runs = results[~results["reference"].astype(bool)]
    reference = results[results["reference"].astype(bool)]["macro_f1"].iloc[0]
    from imblab.evaluation import flatten_metrics

    labels = json.loads((out / "study.json").read_text())["labels"]
    validation: dict[str, list[float]] = {}
    for run_dir in sorted((out / "runs").iterdir()):
        metrics = json.loads((run_dir / "metrics.json").read_text())
        score = flatten_metrics(metrics["validation"], labels)["macro_f1"]
        validation.setdefault(metrics["technique"], []).append(score)
    chosen = max(validation, key=lambda t: sum(validation[t]) / len(validation[t]))
    best_test = runs.groupby("technique")["macro_f1"].mean()
    weights = []
    for run_dir in sorted((out / "runs").iterdir()):
        head = json.loads((run_dir / "metrics.json").read_text()).get("head") or {}
        if "dense_weight" in head:
            weights.append(head["dense_weight"])
    return {"data": data, "backend": backend, "seeds": seeds, "seconds": round(seconds, 1),
            "chosen_on_validation": chosen, "chosen_test_macro_f1": round(float(best_test[chosen]), 4),
            "best_test_macro_f1": round(float(best_test.max()), 4), "best_on_test": str(best_test.idxmax()),
            "yardstick_macro_f1": round(float(reference), 4),
            "chosen_minus_yardstick_points": round(100 * (float(best_test[chosen]) - float(reference)), 2),
            "dense_weights": sorted(set(weights))}


def run_multi_study(data: str, backends: list[str], seeds: int, root: Path) -> dict:
    """One study of several backends on one split: the (backend, technique) it chooses on validation, its test
    macro-F1 and paired-bootstrap differences to the yardstick and to each other backend's own choice."""
    from imblab.study import load_study

    out = root / f"{data}-{'+'.join(backends)}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imblab", "compare", data, "--backend", ",".join(backends), "--techniques",
                    "seed", "--seeds", str(seeds), "--out", str(out), "--json"], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    result = load_study(out, write=False)
    chosen = result.chosen
    assert chosen is not None

    def difference(other: str) -> dict:
        d = result.compare(chosen.technique, other, "macro_f1")
        return {"versus": other, "points": round(100 * d.difference, 2), "ci": [round(100 * d.low, 2),
                round(100 * d.high, 2)], "significant": bool(d.significant)}

    return {"data": data, "backends": backends, "seeds": seeds, "seconds": round(seconds, 1),
            "chosen_on_validation": chosen.technique,
            "chosen_test_macro_f1": round(float(result.stat(chosen.technique, "macro_f1")["mean"]), 4),
            "per_backend_choice": chosen.per_backend,
            "differences": [difference(result.reference_name), *(difference(t) for b, t in chosen.per_backend.items()
                                                                  if b != chosen.backend)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["sms_spam", "hate_speech"])
    parser.add_argument("--backends", nargs="+", default=["tfidf", "frozen", "hybrid"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/hybrid_vs_tfidf.json"))
    parser.add_argument("--studies-only", action="store_true",
                        help="only the one study of all --backends per data set, added to --out's rows")
    args = parser.parse_args()
    rows = []
    if args.studies_only:
        previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
        with tempfile.TemporaryDirectory(prefix="imblab-hybrid-") as tmp:
            studies = [run_multi_study(data, args.backends, args.seeds, Path(tmp)) for data in args.data]
        kept = [s for s in previous.get("studies", []) if s["data"] not in args.data]
        args.out.write_text(json.dumps({**previous, "studies": kept + studies}, indent=2) + "\n")
        for s in studies:
            print(json.dumps(s))
        return
    with tempfile.TemporaryDirectory(prefix="imblab-hybrid-") as tmp:
        os.environ.setdefault("IMBLAB_CACHE_DIR", str(Path(tmp) / "cache"))
        for data in args.data:
            embedded = False
            for backend in args.backends:
                row = run_study(data, backend, args.seeds, Path(tmp))
                row["cold"] = backend != "tfidf" and not embedded  # this study computed the embeddings
                embedded = embedded or backend != "tfidf"
                rows.append(row)
                print(json.dumps(row), flush=True)
                if row["cold"] and data == args.data[0]:  # the same study again, embeddings cached: the speed point
                    warm = run_study(data, backend, args.seeds, Path(tmp) / "warm")
                    warm["cold"] = False
                    rows.append(warm)
                    print(json.dumps(warm), flush=True)
    args.out.write_text(json.dumps({"rows": rows, "machine": f"{os.cpu_count()} cores"}, indent=2) + "\n")
    print("\n| data | backend | chosen on validation | its test macro-F1 | yardstick | difference (points) | seconds |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['data']} | {r['backend']} | {r['chosen_on_validation']} | {r['chosen_test_macro_f1']:.3f} | "
              f"{r['yardstick_macro_f1']:.3f} | {r['chosen_minus_yardstick_points']:+.1f} | {r['seconds']:.0f}"
              f"{' (cold)' if r['cold'] else ''} |")


if __name__ == "__main__":
    main()
