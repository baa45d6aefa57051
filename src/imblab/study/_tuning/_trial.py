"""One tuning trial as a self-contained, picklable task: train on train, score on validation.

A :class:`TrialTask` holds the training and validation parts of the split — their texts and labels, and
nothing else of the data: the test part is not in it, so a trial cannot read test labels whatever runs it.
:func:`run_trial` trains the technique with each seed through :meth:`TrainedModel.fit` (the validation part
serves post-hoc steps, C's path and early stopping, as in a study run) and returns the study's metric on
the validation part, averaged over the seeds. The Optuna driver asks and tells; a task needs no Optuna, so
any executor (processes, Ray) can run it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...data import Dataset, Split
from ...techniques import Technique

__all__ = ["Report", "TrialResult", "TrialTask", "TuningData", "run_trial"]

log = logging.getLogger(__name__)

Report = Callable[[int, float], None]
"""``(step, validation value)`` after each fine-tuning epoch; it may raise to stop the trial (pruning)."""


@dataclass(frozen=True, eq=False)
class TuningData:
    """The training and validation parts of a split: everything tuning may read.

    Attributes:
        labels: class names (indices in ``train_y``/``val_y`` refer to them).
        train_texts, train_y: the training part.
        val_texts, val_y: the validation part.
        sha256: content hash of both parts (texts, labels and which part each row is in): identifies the
            tuning data in a storage study. Test rows do not enter it.
    """

    labels: tuple[str, ...]
    train_texts: tuple[str, ...]
    train_y: np.ndarray
    val_texts: tuple[str, ...]
    val_y: np.ndarray
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            h = hashlib.sha256()
            for part, texts, y in (("train", self.train_texts, self.train_y), ("validation", self.val_texts, self.val_y)):
                h.update(f"{part}\n".encode())
                for text, k in zip(texts, y):
                    h.update(self.labels[int(k)].encode("utf-8") + b"\t" + text.encode("utf-8") + b"\n")
            object.__setattr__(self, "sha256", h.hexdigest())

    @classmethod
    def from_split(cls, dataset: Dataset, split: Split) -> TuningData:
        """The training and validation parts of ``dataset`` under ``split`` (never its test part)."""
        train, val = split.take(dataset, "train"), split.take(dataset, "validation")
        return cls(labels=tuple(dataset.label_names), train_texts=tuple(train.texts), train_y=train.y,
                   val_texts=tuple(val.texts), val_y=val.y)

    @property
    def class_counts(self) -> np.ndarray:
        """Training rows per class."""
        return np.bincount(self.train_y, minlength=len(self.labels))


@dataclass(frozen=True)
class TrialTask:
    """Train ``technique`` with every seed on ``data`` and score it on validation.

    Attributes:
        data: the training and validation parts.
        technique: the trial's technique (the suggested parameters resolved).
        seeds: training seeds; the objective is the mean over them.
        backend: the resolved backend name.
        model: the model name or path of transformer backends.
        metric: the flat metric name (``macro_f1``, ``spam_recall``, ``ece``…).
        training: ``TrainConfig`` fields (the study's, plus ``C`` or ``lr`` when they are tuned).
        number: the trial's number in its study (for logs).
    """

    data: TuningData
    technique: Technique
    seeds: tuple[int, ...]
    backend: str
    model: str | None
    metric: str
    training: dict[str, Any] = field(default_factory=dict)
    number: int = 0

    @property
    def name(self) -> str:
        """``"trial 3 (focal:gamma=1.5)"``: the task in progress reports and logs."""
        return f"trial {self.number} ({self.technique.spec})"

    def run(self) -> TrialResult:
        """Train and score the trial on the validation split; returns its result."""
        return run_trial(self)

    #: A trial carries its own (training and validation) rows: nothing to ship beside it.
    data_key = None

    def load_rows(self) -> None:
        return None

    def remote(self, rows: object) -> TrialResult:
        return run_trial(self)

    def collect(self, payload: TrialResult) -> TrialResult:
        return payload


@dataclass(frozen=True)
class TrialResult:
    """What a trial measured.

    Attributes:
        value: the metric on validation, mean over seeds (NaN when it is undefined for a seed).
        values: per seed.
        seconds: wall time of the trial.
        C: the inverse L2 strength each seed's linear head used (None for fine-tuning).
        pid: the process that trained it (a worker's, with ``--workers`` or ``--ray``).
    """

    value: float
    values: tuple[float, ...]
    seconds: float
    C: tuple[float | None, ...] = ()
    pid: int = 0


def run_trial(task: TrialTask, report: Report | None = None) -> TrialResult:
    """Train and score one trial in this process.

    Args:
        task: the trial.
        report: called after each fine-tuning epoch with (step, the metric on validation); steps count on
            across seeds. It may raise (the driver raises ``optuna.TrialPruned``) to stop the trial.
    """
    from ...evaluation import all_metrics, higher_is_better
    from ...model import TrainConfig, TrainedModel

    started = time.perf_counter()
    data = task.data
    labels = list(data.labels)
    sign = 1.0 if higher_is_better(task.metric) else -1.0
    values: list[float] = []
    heads: list[float | None] = []
    step = 0

    def on_epoch(row: dict[str, Any]) -> None:
        nonlocal step
        if report is not None and "validation_score" in row:
            report(step, sign * float(row["validation_score"]))  # the loop's scores are signed: higher is better
        step += 1

    for seed in task.seeds:
        model = TrainedModel.fit(
            list(data.train_texts), data.train_y, list(data.val_texts), data.val_y, labels=labels,
            technique=task.technique, backend=task.backend, model_name=task.model, seed=seed,
            config=TrainConfig(**{**task.training, "metric": task.metric}), progress=False,
            on_epoch=on_epoch if report is not None else None,
        )
        logits = model.predict_logits(list(data.val_texts))
        proba = model.proba_from_logits(logits, prior="raw")
        value = float(all_metrics(data.val_y, model.decide(logits), proba, labels)[task.metric])
        values.append(value if math.isfinite(value) else math.nan)
        fit = model.backend.fit_info or {}
        heads.append(fit.get("C"))
        log.info("trial %d, %s, seed %d: validation %s = %.4f", task.number, task.technique.spec, seed, task.metric,
                 value)
    mean = float(np.mean(values)) if all(math.isfinite(v) for v in values) else math.nan
    return TrialResult(mean, tuple(values), time.perf_counter() - started, tuple(heads), os.getpid())

