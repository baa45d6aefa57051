"""Run a study: every missing technique × seed run through an executor, then the comparison and its outputs.

Several processes may run one study folder at once (two terminals, a cluster's array job): they
cooperate through the folder's locks (:mod:`._locks`), so every run is trained exactly once and every
process ends with the same results. The protocol, in the process that runs the study (the driver):

1. Under the study lock: check the folder (the same study, no foreign files), remove what interrupted
   writes left, write ``study.json``; the stored runs that count are kept.
2. Claim runs one at a time, as the executor asks for the next one (a worker is free): under the study
   lock, take a missing run's own lock without waiting (a run another process holds is skipped for now),
   look again whether it was finished meanwhile, and clear its place; so processes share the work.
3. The executor trains it; its lock is released when its folder is complete.
4. When every missing run is held by others, wait for the first one's lock: when it is free the run is
   either finished (kept) or was abandoned by a process that died (claimed and trained here).
5. Under the study lock: the comparison, and its outputs when they are not made from these very runs.

The executor's workers only write the run folders they are given: locking stays in the driver.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..comparison import ComparisonResult, RunOutcome
from ..run import RunResult, is_run_dir
from .executors import Executor, SequentialExecutor
from ._models import prune_models
from ._plan import PreparedStudy
from ._reference import ReferenceTask, is_reference_finished, read_reference
from ._runs import clear_damaged, outcome_of, remove_leftovers
from ._store import StudyStore, comparison
from ._tasks import RunTask

if TYPE_CHECKING:
    from ._tuning._compare import CompareTuning

__all__ = ["ProgressCallback", "run_study"]

ProgressCallback = Callable[[str, int, int, str], None]
"""(event, runs done, runs in the study, run name); events: ``skipped`` (kept from an earlier run or
finished by another process), ``waiting`` (another process trains it), ``start`` and ``done``; with
tuning, ``tune`` (trials finished, the budget, the technique) first."""


def _preload_report_libraries() -> threading.Thread:
    """While worker processes train, the driver mostly waits: it imports the report's libraries (matplotlib,
    Jinja2: seconds) meanwhile, instead of after the last run."""

    def load() -> None:
        with contextlib.suppress(Exception):  # the report imports them again, and reports any error itself
            importlib.import_module("imblab.reporting.html")

    thread = threading.Thread(target=load, name="imblab-preload-report", daemon=True)
    thread.start()
    return thread


def run_study(
    study: PreparedStudy,
    out: str | Path,
    *,
    on_progress: ProgressCallback | None = None,
    executor: Executor | None = None,
    tune: CompareTuning | None = None,
) -> ComparisonResult:
    """Train every missing (technique, seed) run into ``out/runs``, write the report files, and keep the
    models ``study.keep_models`` says (:func:`~._models.prune_models`; :func:`~._models.chosen_model` names
    the chosen one).

    Args:
        study: the prepared study.
        out: the study folder; finished runs there are kept. Other processes may run the same study there.
        on_progress: called as runs are kept, start and finish.
        executor: runs the tasks (default: :class:`SequentialExecutor`).
        tune: tune each technique first (``compare --tune``; its trials on ``executor`` too): its best spec
            joins the study as ``<technique> (tuned)``, beside the technique at its defaults (see
            ``_tuning._compare``).

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings;
            with ``tune``, an unreachable storage or a storage study made for something else.
        OutputError: a run's place in ``out/runs`` holds files imblab did not make.
    """
    out = Path(out)
    executor = executor or SequentialExecutor()
    notify = on_progress or (lambda *args: None)
    if tune is not None:  # compare --tune: each technique tuned on validation first, then run at its best spec
        from ._tuning._compare import tune_study, write_tuning

        StudyStore(out).check(study)  # before tuning into the folder
        StudyStore(out).claim()
        per_backend, document = tune_study(study, out, tune, lambda name, done, budget: notify("tune", done, budget, name),
                                           executor=executor)
        study = replace(study, per_backend=per_backend)
        write_tuning(out, document)
    return _StudyRun(study, out, notify).run(executor)


class _StudyRun:
    """One process's part in running a study folder (see the module docstring for the protocol)."""

    def __init__(self, study: PreparedStudy, out: Path, notify: ProgressCallback) -> None:
        self.study, self.out, self.notify = study, out, notify
        self.store = StudyStore(out)
        self.tasks = study.tasks(out)
        # The scikit-learn reference is claimed and run like one more run (first: one quick fit, and beside the
        # runs with a parallel executor), its lock named after its folder.
        self.reference = study.reference_task(out)
        self.all = [*([self.reference] if self.reference is not None else []), *self.tasks]
        self.outcomes: dict[str, RunOutcome] = {}
        self.pending: list[RunTask | ReferenceTask] = []
        self.trained = False

    def run(self, executor: Executor) -> ComparisonResult:
        store = self.store
        store.check(self.study)  # reads only: another study's folder is refused before anything is written
        store.claim()
        try:
            self._keep_stored()
            self.pending = [t for t in self.all if t.run_dir.name not in self.outcomes]
            preload = _preload_report_libraries() if self.pending and executor.parallel else None
            try:
                executor.run(self._claimed(), self._finished, on_start=self._started)
            finally:
                if preload is not None:
                    preload.join()
        finally:
            store.locks.release_all()
        with store.locks.study():
            reference = self.outcomes.get(self.reference.run_dir.name) if self.reference is not None else None
            result = comparison(store, self.study.metadata(), [self.outcomes[t.run_dir.name] for t in self.tasks],
                                write=self.trained or None, reference=reference, costs=self.study.costs)
            # "best" is known once every run of the study is finished (here, always: this process waited for all).
            prune_models(self.out, result, self.study.keep_models)
        return result

    def _keep_stored(self) -> None:
        """Under the study lock: open the folder and keep the stored runs (and reference) that count."""
        with self.store.locks.study():
            kept = self.store.open(self.study, self.tasks)
            if self.reference is not None and is_reference_finished(self.reference):
                kept_reference = read_reference(self.reference.run_dir)
                if kept_reference is not None:
                    kept[self.reference.run_dir.name] = kept_reference
        for task in self.all:
            if task.run_dir.name in kept:
                self.outcomes[task.run_dir.name] = kept[task.run_dir.name]
                self.notify("skipped", len(self.outcomes), len(self.all), task.name)

    def _keep(self, task: RunTask | ReferenceTask, outcome: RunOutcome, event: str) -> None:
        self.outcomes[task.run_dir.name] = outcome
        self.store.locks.release(task.run_dir.name)
        self.notify(event, len(self.outcomes), len(self.all), task.name)

    def _started(self, task: RunTask | ReferenceTask) -> None:
        self.notify("start", len(self.outcomes), len(self.all), task.name)

    def _finished(self, task: RunTask | ReferenceTask, run: RunResult) -> None:
        self._keep(task, outcome_of(run), "done")

    def _take(self, task: RunTask | ReferenceTask) -> bool:
        """With ``task``'s lock held: keep its run if another process finished it, else clear its place."""
        if task is self.reference:
            finished_reference = read_reference(task.run_dir) if is_reference_finished(task) else None
            if finished_reference is not None:
                self._keep(task, finished_reference, "skipped")
                return False
            remove_leftovers(self.out, task.run_dir.name)  # its folder is replaced atomically once fitted
            return True
        outcome = self.store.stored_run(self.study.run_key(task), task.run_dir, say=False)
        if outcome is not None:
            self._keep(task, outcome, "skipped")
            return False
        remove_leftovers(self.store.runs, task.run_dir.name)
        if not is_run_dir(task.run_dir):  # a complete run is replaced atomically once the new one is done
            clear_damaged(task.run_dir)
        return True

    def _claimed(self) -> Iterator[RunTask | ReferenceTask]:
        """The missing runs, each claimed only when the executor can start it (so that other processes on this
        folder take the rest): first any run nobody holds; when every missing run is held by another
        process, wait for one, then keep its finished run or (its process died) train it here."""
        store, pending = self.store, self.pending
        while pending:
            task = None
            with store.locks.study():
                for candidate in list(pending):
                    if store.locks.claim(candidate.run_dir.name):
                        pending.remove(candidate)
                        if self._take(candidate):
                            task = candidate
                            break
            if task is None and pending:  # every missing run is being trained by another process
                waited = pending.pop(0)
                self.notify("waiting", len(self.outcomes), len(self.all), waited.name)
                store.locks.wait(waited.run_dir.name)
                with store.locks.study():
                    if self._take(waited):  # its process died before finishing it
                        task = waited
            if task is not None:
                self.trained = True
                yield task
