"""Decisions in the user's currency (issue 15): Bayes decisions vs a validation-tuned threshold.

Trains a few techniques on the TF-IDF backend, then, at a deployment prior of 2 % spam and a missed spam
costing 10 false alarms, reports per technique (mean over seeds, per-seed values alongside): the expected cost
per 1,000 texts of (a) the Bayes decision on the prior-corrected probabilities, (b) the cost-optimal threshold
tuned on validation and (c) the plain argmax; the test ECE; and, from the seed-averaged cost curves, where each
technique is cheapest (ties within one test error).

    IMBLAB_DATA_DIR=../shared/data python benchmarks/costs.py [--seeds 0,1,2] [--techniques baseline,focal]

Multiclass (a cost matrix, the cost curve of the minority label against the rest):

    python benchmarks/costs.py --dataset hate_speech --seeds 0 \
        --matrix '{"matrix": [[0, 5, 20], [1, 0, 2], [1, 1, 0]]}' --deploy-prior hate_speech=0.02,neither=0.5
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from imblab import load_dataset, split_dataset
from imblab.evaluation import (
    Costs,
    bayes_decisions,
    cheapest,
    cheapest_sentences,
    cost_curve,
    expected_calibration_error,
    expected_cost,
    one_error_tolerance,
    parse_prior,
    probability_cost,
    tune_cost_threshold,
)
from imblab.model import TrainedModel
from imblab.techniques import correct_prior


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="sms_spam")
    parser.add_argument("--matrix", help="a [costs] table as JSON (overrides --costs)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--techniques", default="baseline,weighted,focal,upsample")
    parser.add_argument("--costs", default="fn=10,fp=1")
    parser.add_argument("--deploy-prior", default="spam=0.02")
    args = parser.parse_args()
    data = load_dataset(args.dataset, download=False)
    split = split_dataset(data, seed=42)
    train, validation, testing = (split.take(data, part) for part in ("train", "validation", "test"))
    labels = list(data.label_names)
    counts = train.class_counts
    costs = (Costs.from_config(json.loads(args.matrix), labels, counts) if args.matrix
             else Costs.parse(args.costs, labels, counts))
    deploy = parse_prior(args.deploy_prior, labels)
    training_prior = counts / counts.sum()
    k = costs.positive_index if costs.positive_index is not None else int(np.argmin(counts))
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, curves = {}, {}
    started = time.perf_counter()
    for technique in args.techniques.split(","):
        per_seed: dict[str, list[float]] = {"bayes": [], "tuned": [], "argmax": [], "ece": []}
        rules = []
        bayes_curves = []
        for seed in seeds:
            model = TrainedModel.fit(train.texts, train.y, validation.texts, validation.y, labels=labels,
                                     technique=technique, backend="tfidf", seed=seed, progress=False)
            # Probabilities at the training prior (what predict_proba returns), then at the deployment prior.
            val, test = model.predict_proba(validation.texts), model.predict_proba(testing.texts)
            val_d, test_d = (correct_prior(p, training_prior, deploy) for p in (val, test))
            rule = tune_cost_threshold(val_d, validation.y, costs, deploy)
            per_seed["bayes"].append(1000 * expected_cost(testing.y, bayes_decisions(test_d, costs), costs, deploy))
            per_seed["tuned"].append(1000 * expected_cost(testing.y, rule.decide(test_d), costs, deploy))
            per_seed["argmax"].append(1000 * expected_cost(testing.y, test.argmax(axis=1), costs, deploy))
            rules.append(rule.threshold if rule.threshold is not None else rule.log_offsets.round(3).tolist())
            per_seed["ece"].append(expected_calibration_error(testing.y, test))
            bayes_curves.append(cost_curve(testing.y, test, positive=k, prior=training_prior).bayes)
        rows[technique] = {f"{key}_mean": float(np.mean(v)) for key, v in per_seed.items()}
        rows[technique].update({key: [round(x, 4) for x in v] for key, v in per_seed.items()})
        rows[technique]["tuned_rule"] = rules
        curves[technique] = np.mean(bayes_curves, axis=0)
    pc = np.linspace(0.0, 1.0, len(next(iter(curves.values()))))
    n_pos = int(np.sum(testing.y == k))
    winners = cheapest(pc, curves, tol=one_error_tolerance(pc, n_pos, len(testing) - n_pos))
    words = cheapest_sentences(winners, positive_label=labels[k], prior_positive=float(deploy[k]))
    print(json.dumps({"costs": costs.describe(), "deploy_prior": dict(zip(labels, deploy.tolist())),
                      "bayes_threshold": costs.bayes_threshold,
                      "operating_pc": probability_cost(costs, deploy) if costs.positive else None,
                      "n_test": len(testing), "n_test_spam": n_pos, "seeds": seeds, "techniques": rows,
                      "cheapest": words, "seconds": round(time.perf_counter() - started, 1)}, indent=2))


if __name__ == "__main__":
    main()
