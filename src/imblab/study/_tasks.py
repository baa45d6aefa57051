"""A run task: "train technique T with seed s into run folder D", self-contained and picklable.

A task carries descriptions, never closures or open resources (how to load the data, the split's indices
and the data's content hash, the technique, the seed, the training settings, the probes), so that an
executor can hand it to another process or machine. :func:`run_task` is what every executor runs for a task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data import Dataset, Split, load_dataset, stratified_subsample
from ..errors import DataError
from ..techniques import Technique

if TYPE_CHECKING:
    from ._reference import ReferenceTask
    from ._tuning._trial import TrialTask

__all__ = ["DataSpec", "RunTask", "run_task", "task_data"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """How to load a study's rows: the data set, how to read it, and the stratified subsample."""

    dataset: str
    text_column: str | None = None
    label_column: str | None = None
    label_names: str | Mapping[str, str] | Sequence[str] | None = None
    encoding: str = "utf-8"
    dedupe: bool = False
    limit: int | None = None
    limit_seed: int = 42

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> DataSpec:
        """The data settings of ``values`` (a study's or a command's, see :mod:`imblab.settings`)."""
        return cls(
            dataset=values["dataset"], text_column=values["text_column"], label_column=values["label_column"],
            label_names=values["label_names"], encoding=values["encoding"], dedupe=values["dedupe"],
            limit=values["limit"], limit_seed=values["split_seed"],
        )

    def load(self) -> Dataset:
        """Read the data set and, with ``limit``, take its stratified subsample."""
        dataset = load_dataset(
            self.dataset, text_column=self.text_column, label_column=self.label_column,
            label_names=self.label_names, encoding=self.encoding, dedupe=self.dedupe,
        )
        if self.limit is not None:
            dataset = stratified_subsample(dataset, int(self.limit), seed=self.limit_seed)
        return dataset


@dataclass(frozen=True)
class RunTask:
    """Train ``technique`` with ``seed`` on ``split`` of the data and store the run in ``run_dir``.

    Attributes:
        data: how to load the data.
        split: the study's split (row indices, and the content hash of the data it splits).
        technique: the technique (a name and its parameters).
        seed: the training seed.
        backend: the resolved backend name.
        model: the model name or path of transformer backends.
        training: the ``TrainConfig`` fields the study sets; the rest are the backend's defaults.
        probes: texts whose probabilities the run records.
        run_dir: where the run is stored.
        keep_model: store the model in ``run_dir/model`` (a study may keep only some, see ``--keep-models``).
    """

    data: DataSpec
    split: Split
    technique: Technique
    seed: int
    backend: str
    model: str | None
    run_dir: Path
    training: dict[str, Any] = field(default_factory=dict)
    probes: tuple[str, ...] = ()
    keep_model: bool = True

    @property
    def name(self) -> str:
        """``"focal · seed 2"``: the task in progress reports and logs."""
        return f"{self.technique.display_name} · seed {self.seed}"


# The data this process loaded last, by content hash: a process that runs many tasks of one study (the
# study's own process, or a worker) reads the data once.
_loaded: dict[str, tuple[DataSpec, Dataset]] = {}


def remember_data(spec: DataSpec, dataset: Dataset, sha256: str) -> None:
    """Keep data this process has loaded for ``spec`` (content hash ``sha256``) for the tasks it runs."""
    _loaded.clear()
    _loaded[sha256] = (spec, dataset)


def task_data(data: DataSpec, split: Split) -> Dataset:
    """The data set a task describes, loaded once per process and checked against the split's content hash."""
    spec, dataset = _loaded.get(split.data_hash, (None, None))
    if spec == data and dataset is not None:
        return dataset
    dataset = data.load()
    sha256 = dataset.content_hash()
    if sha256 != split.data_hash:
        raise DataError(f"the data of {data.dataset} changed since the study was planned")
    remember_data(data, dataset, sha256)
    return dataset


def run_task(task: RunTask | ReferenceTask | TrialTask) -> Any:
    """Carry out one task in this process: train, evaluate and store a run (or the study's scikit-learn
    reference) and return the stored run; or train and score a tuning trial and return its result."""
    from ._reference import ReferenceTask, run_reference
    from ._tuning._trial import TrialTask, run_trial

    if isinstance(task, ReferenceTask):
        return run_reference(task)
    if isinstance(task, TrialTask):
        return run_trial(task)
    # The model stack (torch) is imported only when something needs training.
    from ..model import TrainConfig
    from ..run import train_run

    started = time.perf_counter()
    result = train_run(
        task_data(task.data, task.split), task.split, task.technique, backend=task.backend, model_name=task.model, seed=task.seed,
        config=TrainConfig(**task.training), probes=list(task.probes), out=task.run_dir, progress=False,
        save_model=task.keep_model,
    )
    log.info("%s done in %.1f s", task.name, time.perf_counter() - started)
    return result
