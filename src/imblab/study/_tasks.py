"""A run task: "train technique T with seed s into run folder D", self-contained and picklable.

A task carries descriptions, never closures or open resources (how to load the data, the split's indices
and the data's content hash, the technique, the seed, the training settings, the probes), so that an
executor can hand it to another process or machine. :func:`run_task` is what every executor runs for a task.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ..data import Dataset, Split, load_dataset, stratified_subsample
from ..errors import DataError
from ..techniques import Technique

__all__ = ["DataSpec", "RunTask", "StoresRun", "Task", "remember_data", "run_task", "task_data"]

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


class StoresRun:
    """The part of the :class:`Task` protocol shared by tasks that train on a study's rows and store a run folder
    (:class:`RunTask`, :class:`~._reference.ReferenceTask`): what an executor whose workers share no file system
    ships to a worker (the rows, once per study) and brings back (the run folder's files)."""

    data: DataSpec
    split: Split
    run_dir: Path

    @property
    def data_key(self) -> str | None:
        """The rows a remote worker needs, by content hash (None: the task carries its own)."""
        return self.split.data_hash

    def load_rows(self) -> Dataset:
        return task_data(self.data, self.split)

    def remote(self, rows: Dataset | None) -> dict[str, bytes]:
        """Run on a worker without this file system: train into a temporary folder, return the run's files."""
        from ..run import run_files

        if rows is not None:
            remember_data(self.data, rows, self.split.data_hash)  # the driver's rows: no file needed here
        with tempfile.TemporaryDirectory(prefix="imblab-remote-") as tmp:
            run = replace(self, run_dir=Path(tmp) / self.run_dir.name).run()  # type: ignore[type-var]
            return run_files(run.run_dir)

    def collect(self, payload: dict[str, bytes]) -> Any:
        """Store what :meth:`remote` returned in ``run_dir`` (atomically); returns the stored run."""
        from ..run import store_run_files

        return store_run_files(self.run_dir, payload)


@dataclass(frozen=True)
class RunTask(StoresRun):
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

    def run(self) -> Any:
        """Train, evaluate and store the run in ``run_dir``; returns the stored run."""
        # The model stack (torch) is imported only when something needs training.
        from ..model import TrainConfig
        from ..run import train_run

        started = time.perf_counter()
        result = train_run(
            task_data(self.data, self.split), self.split, self.technique, backend=self.backend, model_name=self.model,
            seed=self.seed, config=TrainConfig(**self.training), probes=list(self.probes), out=self.run_dir,
            progress=False, save_model=self.keep_model,
        )
        log.info("%s done in %.1f s", self.name, time.perf_counter() - started)
        return result


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


class Task(Protocol):
    """What an executor carries out: a picklable description that runs itself in whichever process holds it.

    A study's :class:`RunTask`, its scikit-learn :class:`~._reference.ReferenceTask` and a tuning
    :class:`~._tuning._trial.TrialTask` are tasks; an executor never asks which one it holds.
    """

    @property
    def name(self) -> str:
        """The task in progress reports and logs."""
        ...

    def run(self) -> Any:
        """Carry the task out in this process and return its result (a stored run, or a trial's result)."""
        ...

    @property
    def data_key(self) -> str | None:
        """The content hash of the rows a remote worker must be sent for it, or None when it carries its own."""
        ...

    def load_rows(self) -> Dataset:
        """The rows :attr:`data_key` names (called only when it is not None)."""
        ...

    def remote(self, rows: Dataset | None) -> Any:
        """Carry the task out in a worker that shares no file system with the caller; returns what
        :meth:`collect` takes."""
        ...

    def collect(self, payload: Any) -> Any:
        """In the calling process: the task's result from :meth:`remote`'s payload."""
        ...


def run_task(task: Task) -> Any:
    """Carry out one task in this process (what every executor's worker calls): ``task.run()``."""
    return task.run()
