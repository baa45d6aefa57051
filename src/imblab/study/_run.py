"""Run a study: every missing technique × seed run through an executor, then the comparison and its outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..comparison import ComparisonResult
from ._executors import Executor, SequentialExecutor
from ._plan import PreparedStudy
from ._reference import ReferenceTask, is_reference_finished
from ._store import check_store, is_finished, load_study, open_store
from ._tasks import RunTask

if TYPE_CHECKING:
    from ._tuning._compare import CompareTuning

__all__ = ["ProgressCallback", "run_study"]

ProgressCallback = Callable[[str, int, int, str], None]
"""(event, runs done, runs in the study, run name); events: ``skipped`` (kept from an earlier run),
``start`` and ``done``; with tuning, ``tune`` (trials finished, the budget, the technique) first."""


def run_study(
    study: PreparedStudy,
    out: str | Path,
    *,
    on_progress: ProgressCallback | None = None,
    executor: Executor | None = None,
    tune: CompareTuning | None = None,
) -> ComparisonResult:
    """Train every missing (technique, seed) run into ``out/runs`` and write the report files.

    Args:
        study: the prepared study.
        out: the study folder; finished runs there are kept.
        on_progress: called as runs are kept, start and finish.
        executor: runs the tasks (default: :class:`SequentialExecutor`).
        tune: tune each technique first (``compare --tune``): its best spec joins the study as
            ``<technique> (tuned)``, beside the technique at its defaults (see ``_tuning._compare``).

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings;
            with ``tune``, an unreachable storage or a storage study made for something else.
    """
    out = Path(out)
    notify = on_progress or (lambda *args: None)
    if tune is not None:
        from ._tuning._compare import tune_study, write_tuning

        check_store(study, out)  # before tuning into the folder
        techniques, document = tune_study(study, out, tune, lambda name, done, budget: notify("tune", done, budget, name))
        study = replace(study, techniques=techniques)
        out.mkdir(parents=True, exist_ok=True)
        write_tuning(out, document)
    open_store(study, out)
    reference = study.reference_task(out)
    # The reference goes first: it is one quick fit, and with parallel executors it runs beside the runs.
    tasks: list[RunTask | ReferenceTask] = [
        *([reference] if reference is not None and not is_reference_finished(reference) else []), *study.tasks(out)
    ]
    done = 0
    todo: list[RunTask | ReferenceTask] = []
    for task in tasks:
        if isinstance(task, RunTask) and is_finished(task):
            done += 1
            notify("skipped", done, len(tasks), task.name)
        else:
            todo.append(task)

    def started(task: RunTask | ReferenceTask) -> None:
        notify("start", done, len(tasks), task.name)

    def finished(task: RunTask | ReferenceTask, _run: object) -> None:
        nonlocal done
        done += 1
        notify("done", done, len(tasks), task.name)

    (executor or SequentialExecutor()).run(todo, finished, on_start=started)
    # Nothing trained: the outputs are rewritten only if they were not made from exactly these runs.
    return load_study(out, techniques=[t.display_name for t in study.techniques], seeds=list(study.config.seeds),
                      write=bool(todo) or None, reference=reference is not None)
