"""How well the class prior of unlabelled texts is estimated (issue 25): EM, BBSE and the naive share of predicted
labels, on held-out texts resampled to known priors.

EM runs on the model's posteriors recalibrated by vector scaling on the validation split; its interval bootstraps
the texts and the validation rows (the recalibration refitted on each), as BBSE's does for its confusion matrix.

    IMBLAB_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/prior_shift.py --out benchmarks/prior_shift.json

Per data set: a TF-IDF model trained with ``weighted`` on a split with a large held-out part (``--test-fraction
0.4``: 2,230 SMS texts, 9,913 tweets), its validation part for BBSE's confusion matrix and EM's recalibration.
The held-out texts are resampled (with replacement, within each class) to a minority share of 1, 2, 5, 13, 30
and 50 % (the other classes keep their held-out proportions) and n = 200, 1,000, 2,000 texts; each cell is
``--draws`` independent draws. Reported per (data set, method, prior, n): the mean absolute error of the
minority share in points, and how often its 95 % bootstrap interval (``--boot`` replicates) covered the truth; for
EM and BBSE also the mean difference of their error to the naive estimate's over the same draws, with a 95 %
bootstrap interval over the draws (``minus_naive_points``: below 0 is better than counting decisions).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

PRIORS = (0.01, 0.02, 0.05, 0.13, 0.30, 0.50)
SIZES = (200, 1000, 2000)
METHODS = ("em", "bbse", "naive")


def held_out(dataset_name: str) -> dict[str, Any]:
    from imblab.data import load_dataset, minority_index, split_dataset
    from imblab.model import TrainedModel

    dataset = load_dataset(dataset_name)
    split = split_dataset(dataset, validation=0.1, test=0.4, seed=42)
    train, val, test = (split.take(dataset, part) for part in ("train", "validation", "test"))
    started = time.perf_counter()
    model = TrainedModel.fit(train.texts, train.y, val.texts, val.y, labels=list(dataset.label_names),
                             technique="weighted", backend="tfidf", seed=0, progress=False)
    logits, val_logits = model.predict_logits(list(test.texts)), model.predict_logits(list(val.texts))
    return {"labels": model.labels, "minority": minority_index(np.bincount(train.y)),
            "proba": model.proba_from_logits(logits, "true"), "pred": model.decide(logits), "y": np.asarray(test.y),
            "val_proba": model.proba_from_logits(val_logits, "true"), "val_pred": model.decide(val_logits),
            "val_y": np.asarray(val.y), "training_prior": model.true_prior,
            "fit_seconds": time.perf_counter() - started}


def target_prior(held: dict[str, Any], minority_share: float) -> np.ndarray:
    counts = np.bincount(held["y"], minlength=len(held["labels"])).astype(float)
    m = held["minority"]
    rest = counts.copy()
    rest[m] = 0.0
    prior = (1.0 - minority_share) * rest / rest.sum()
    prior[m] = minority_share
    return prior


def draw(held: dict[str, Any], prior: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    sizes = rng.multinomial(n, prior)
    rows = [rng.choice(np.flatnonzero(held["y"] == k), size, replace=True) for k, size in enumerate(sizes) if size]
    return np.concatenate(rows)


def _paired(differences: np.ndarray, rng: np.random.Generator, boot: int = 2000) -> list[float]:
    """The mean of per-draw error differences and its 95 % bootstrap interval over the draws, in points."""
    means = rng.choice(differences, (boot, len(differences)), replace=True).mean(axis=1)
    return [round(100 * float(v), 2) for v in (differences.mean(), *np.percentile(means, [2.5, 97.5]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["sms_spam", "hate_speech"])
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/prior_shift.json"))
    args = parser.parse_args()
    from imblab.evaluation import em_calibration, estimate_prior_from_outputs

    rows = []
    for name in args.datasets:
        held = held_out(name)
        m = held["minority"]
        print(f"{name}: model fitted in {held['fit_seconds']:.0f} s; held-out {len(held['y']):,} texts, minority "
              f"{held['labels'][m]}", flush=True)
        # EM's recalibration on validation and its bootstrap replicates: fitted once, as a model's are.
        calibration = em_calibration(held["val_proba"], held["val_y"], n_boot=args.boot)
        rng, paired_rng = np.random.default_rng(0), np.random.default_rng(1)  # the draws do not depend on the second
        for share in PRIORS:
            prior = target_prior(held, share)
            for n in SIZES:
                samples = [draw(held, prior, n, rng) for _ in range(args.draws)]
                truth = [float(np.mean(held["y"][rows_] == m)) for rows_ in samples]  # the draw's own share
                per_draw: dict[str, np.ndarray] = {}
                for method in METHODS:
                    errors, covered = [], 0
                    for k, (rows_, true_share) in enumerate(zip(samples, truth)):
                        found = estimate_prior_from_outputs(
                            held["labels"], held["proba"][rows_], held["training_prior"], method=method,
                            pred=held["pred"][rows_], val_proba=held["val_proba"], val_y=held["val_y"],
                            val_pred=held["val_pred"], n_boot=args.boot, seed=k, calibration=calibration)
                        errors.append(abs(found.prior[m] - share))
                        covered += found.low[m] <= share <= found.high[m]
                    per_draw[method] = np.asarray(errors)
                    rows.append({"data": name, "method": method, "minority_share": share, "n": n,
                                 "mae_points": round(100 * float(np.mean(errors)), 2),
                                 "coverage": round(covered / args.draws, 3),
                                 "draw_share_sd_points": round(100 * float(np.std(truth)), 2)})
                for method in ("em", "bbse"):  # paired over the same draws: below the naive estimate, or not?
                    rows[-len(METHODS) + METHODS.index(method)]["minus_naive_points"] = _paired(
                        per_draw[method] - per_draw["naive"], paired_rng)
                cell = {r["method"]: r for r in rows[-len(METHODS):]}
                print(f"  {share:>5.0%} n={n:>5}: " + ", ".join(
                    f"{k} {v['mae_points']:.2f} pts ({v['coverage']:.0%})" for k, v in cell.items()), flush=True)
    args.out.write_text(json.dumps({"settings": {"draws": args.draws, "boot": args.boot, "priors": PRIORS,
                                                 "sizes": SIZES}, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
