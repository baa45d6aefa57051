"""The scikit-learn yardstick of every study: TF-IDF + ``LogisticRegression(class_weight="balanced")``.

What a user would write in five lines of scikit-learn, fitted on the study's own split: the same TF-IDF
features as the ``tfidf`` backend (``TfidfSettings()``), ``LogisticRegression(class_weight="balanced")``
with C chosen on the validation split by the study's metric along the same path of C values as imblab's
linear heads (each fit warm-started from the previous one, as ``LogisticRegressionCV`` does; ties broken by
the validation log-loss). It is fitted once per study (it has no seed), on every backend, and shown as a
*reference* line: never ranked as a technique. Stored in ``DIR/reference/`` (config.json, metrics.json,
predictions.csv, like a run, without a model).
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import atomic_directory, holds_only, read_json, write_csv_text
from ..data import Split
from ..errors import ModelError
from ._tasks import DataSpec, StoresRun, task_data

if TYPE_CHECKING:
    from ..comparison import RunOutcome
    from ..run import RunResult

__all__ = ["REFERENCE_FOLDER", "REFERENCE_NAME", "ReferenceTask", "is_reference_finished", "read_reference",
           "run_reference"]

log = logging.getLogger(__name__)

#: How the reference appears in tables, results.csv and the reading.
REFERENCE_NAME = "scikit-learn reference"
#: Its folder in the study folder (beside ``runs/``), also the name of its lock.
REFERENCE_FOLDER = "reference"
REFERENCE_SPEC = 'TfidfVectorizer + LogisticRegression(class_weight="balanced"), C chosen on validation'
_FILES = ("config.json", "metrics.json", "predictions.csv")


@dataclass(frozen=True)
class ReferenceTask(StoresRun):
    """Fit the study's scikit-learn reference and store it in ``run_dir`` (picklable, like a ``RunTask``).

    Attributes:
        data: how to load the data.
        split: the study's split.
        metric: the validation metric that chooses C (the study's metric).
        probes: texts whose probabilities the reference records.
        run_dir: where it is stored.
        Cs: the path of C values (imblab's linear heads use the same one).
    """

    data: DataSpec
    split: Split
    metric: str
    run_dir: Path
    probes: tuple[str, ...] = ()
    Cs: tuple[float, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return REFERENCE_NAME

    def run(self) -> RunResult:
        """Fit the reference, evaluate it and store it in ``run_dir``; returns the stored run."""
        return run_reference(self)

    def settings(self) -> dict[str, Any]:
        """What the reference's numbers depend on besides the data and the split (a stored one with others is refitted)."""
        from ..backends import DEFAULT_CS, TfidfSettings
        from dataclasses import asdict

        return {"estimator": REFERENCE_SPEC, "metric": self.metric, "Cs": list(self.Cs or DEFAULT_CS),
                "tfidf": json.loads(json.dumps(asdict(TfidfSettings()))), "split_sha256": self.split.data_hash,
                "test_rows": len(self.split.test)}


def is_reference_finished(task: ReferenceTask) -> bool:
    """Whether ``task.run_dir`` holds a reference fitted with exactly these settings."""
    if not all((task.run_dir / name).is_file() for name in _FILES):
        return False
    try:
        stored = read_json(task.run_dir / "config.json", ModelError).get("reference")
    except ModelError:
        return False
    return bool(stored == task.settings())


def read_reference(folder: Path) -> RunOutcome | None:
    """The stored reference as the comparison sees it; None when there is none (``--no-reference``) or it is
    damaged (a warning; ``imblab compare`` fits it again)."""
    from ..run import read_run
    from ._runs import outcome_of

    if not folder.is_dir():
        return None
    try:
        return outcome_of(read_run(folder))
    except ModelError as exc:
        log.warning("%s; imblab compare fits the reference again", exc)
        return None


def run_reference(task: ReferenceTask) -> RunResult:
    """Fit and store the reference in this process; returns it as a stored run."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from ..backends import DEFAULT_CS, TfidfBackend
    from ..backends._convex import validation_scorer
    from ..evaluation import evaluate
    from ..run import environment, read_run
    from ..techniques import correct_prior

    started = time.perf_counter()
    dataset = task_data(task.data, task.split)
    labels = list(dataset.label_names)
    train, val, test = (task.split.take(dataset, part) for part in ("train", "validation", "test"))
    vectoriser = TfidfBackend()  # the same features as the tfidf backend, and its vectoriser cache
    x_train = vectoriser.fit_features(list(train.texts))
    x_val, x_test = vectoriser.features(list(val.texts)), vectoriser.features(list(test.texts))
    score = validation_scorer(val.y, labels, task.metric)
    model = LogisticRegression(class_weight="balanced", warm_start=True, max_iter=1000)
    best: tuple[Any, float, np.ndarray, np.ndarray] | None = None
    path = []
    for c in sorted(task.Cs or DEFAULT_CS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the iterations are recorded in the path
            model.set_params(C=c).fit(x_train, train.y)
        value, nll = score(np.log(np.clip(model.predict_proba(x_val), 1e-300, None)))
        path.append({"C": c, "iterations": int(np.max(model.n_iter_)), "validation_score": value,
                     "validation_log_loss": nll})
        if best is None or (round(value, 12), -nll) > best[0]:
            best = ((round(value, 12), -nll), c, model.coef_.copy(), model.intercept_.copy())
    assert best is not None
    model.coef_, model.intercept_ = best[2], best[3]
    model.set_params(C=best[1])
    raw = model.predict_proba(x_test)
    decisions = raw.argmax(axis=1)
    train_seconds = time.perf_counter() - started
    prior = np.bincount(train.y, minlength=len(labels)) / len(train.y)
    # Balanced class weights train towards the uniform prior (n_c · w_c = N / C); the same correction as a run's.
    corrected = correct_prior(raw, np.full(len(labels), 1.0 / len(labels)), prior)
    results = {"validation": evaluate(val.y, model.predict_proba(x_val), labels),
               "test": evaluate(test.y, raw, labels, pred=decisions),
               "test_prior_corrected": evaluate(test.y, corrected, labels)}
    probes = []
    if task.probes:
        probe_raw = model.predict_proba(vectoriser.features(list(task.probes)))
        probe_corrected = correct_prior(probe_raw, np.full(len(labels), 1.0 / len(labels)), prior)
        probes = [{"text": text, "raw": dict(zip(labels, map(float, probe_raw[i]))),
                   "corrected": dict(zip(labels, map(float, probe_corrected[i])))} for i, text in enumerate(task.probes)]
    _store(task, dataset, labels, test, raw, corrected, decisions, results, probes, {
        "solver": "scikit-learn lbfgs, warm-started path", "C": best[1], "metric": task.metric, "path": path,
    }, {"train_seconds": train_seconds, "eval_seconds": time.perf_counter() - started - train_seconds}, environment())
    log.info("%s: C=%g (%.1f s)", REFERENCE_NAME, best[1], time.perf_counter() - started)
    return read_run(task.run_dir)


def _store(task: ReferenceTask, dataset: Any, labels: list[str], test: Any, raw: np.ndarray, corrected: np.ndarray,
           decisions: np.ndarray, results: dict[str, Any], probes: list[dict[str, Any]], head: dict[str, Any],
           timings: dict[str, float], env: dict[str, Any]) -> None:
    import pandas as pd

    from ..evaluation import flatten_metrics
    from ..run import metrics_json_default

    predictions = pd.DataFrame({
        "id": list(test.row_ids), "text": list(test.texts), "label": list(test.labels),
        "predicted": [labels[k] for k in decisions],
        **{f"p_raw:{label}": raw[:, c] for c, label in enumerate(labels)},
        **{f"p:{label}": corrected[:, c] for c, label in enumerate(labels)},
    })
    config = {"labels": labels, "reference": task.settings(), "dataset": {"name": dataset.name},
              "split": task.split.to_dict(), "probes": list(task.probes), "environment": env}
    metrics = {"technique": REFERENCE_NAME, "spec": REFERENCE_SPEC, "seed": 0, "reference": True, **results,
               "test_flat": flatten_metrics(results["test"], labels), "head": head, "probes": probes,
               "timings": timings}
    with atomic_directory(task.run_dir, recognise=_is_reference_dir, what="reference") as tmp:
        (tmp / "config.json").write_text(json.dumps(config, indent=2, default=metrics_json_default) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=metrics_json_default) + "\n")
        (tmp / "predictions.csv").write_text(write_csv_text(predictions, reversible=True), encoding="utf-8")


def _is_reference_dir(path: Path) -> bool:
    """A folder imblab made for a reference (so a refit may replace it): only the reference's files, and its
    ``config.json`` imblab's (it names the reference's settings and the labels)."""
    if not holds_only(path, _FILES):
        return False
    try:  # written whole by a rename: a folder without imblab's config.json is not a reference imblab made
        config = read_json(path / "config.json", ModelError, limit=1 << 26)
    except ModelError:
        return False
    return isinstance(config.get("reference"), dict) and isinstance(config.get("labels"), list)
