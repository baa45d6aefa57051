"""Learning-rate sweep of the tfidf head on both built-ins: validation and test macro-F1 / minority F1.

Why: the head's defaults (AdamW lr 0.1, 5 epochs) were chosen on SMS spam; on hate_speech imblab trails
scikit-learn's LogisticRegression (see RESULTS.md). This shows what a lower learning rate does on each
data set, scored on validation (for choosing) and on test (for reporting). Run:

    IMBLAB_DATA_DIR=../shared/data python benchmarks/tfidf_lr_sweep.py
"""

from __future__ import annotations

import time

from imblab.data import load_dataset, split_dataset
from imblab.evaluation import evaluate, flatten_metrics
from imblab.model import TrainConfig, TrainedModel
from imblab.techniques import parse_spec


def main() -> None:
    print("| data set | lr | epochs | technique | fit s | val macro-F1 | val minority F1 | test macro-F1 | test minority F1 |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for name in ("sms_spam", "hate_speech"):
        ds = load_dataset(name)
        split = split_dataset(ds)
        train, val, test = (split.take(ds, part) for part in ("train", "validation", "test"))
        labels = list(ds.label_names)
        minority = labels[int(ds.class_counts.argmin())]
        for lr, epochs in ((0.1, 5), (0.03, 5), (0.01, 5), (0.01, 10)):
            for technique in ("baseline", "weighted"):
                started = time.perf_counter()
                model = TrainedModel.fit(
                    list(train.texts), train.y, list(val.texts), val.y, labels=labels,
                    technique=parse_spec(technique, labels), backend="tfidf", seed=0,
                    config=TrainConfig(lr=lr, epochs=epochs), progress=False,
                )
                seconds = time.perf_counter() - started
                cells = []
                for part in (val, test):
                    logits = model.predict_logits(list(part.texts))
                    flat = flatten_metrics(
                        evaluate(part.y, model.proba_from_logits(logits, "raw"), labels, pred=model.decide(logits)), labels,
                    )
                    cells += [f"{flat['macro_f1']:.3f}", f"{flat[minority + '_f1']:.3f}"]
                print(f"| {name} | {lr:g} | {epochs} | {technique} | {seconds:.1f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
