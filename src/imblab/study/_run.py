"""Run a study: every missing technique × seed run through an executor, then the comparison and its outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..comparison import ComparisonResult
from ._executors import Executor, SequentialExecutor
from ._models import prune_models
from ._plan import PreparedStudy
from ._store import is_finished, load_study, open_store
from ._tasks import RunTask

__all__ = ["ProgressCallback", "run_study"]

ProgressCallback = Callable[[str, int, int, str], None]
"""(event, runs done, runs in the study, run name); events: ``skipped`` (kept from an earlier run),
``start`` and ``done``."""


def run_study(
    study: PreparedStudy,
    out: str | Path,
    *,
    on_progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> ComparisonResult:
    """Train every missing (technique, seed) run into ``out/runs``, write the report files, and keep the
    models ``study.keep_models`` says (:func:`~._models.prune_models`; :func:`~._models.chosen_model` names
    the chosen one).

    Args:
        study: the prepared study.
        out: the study folder; finished runs there are kept.
        on_progress: called as runs are kept, start and finish.
        executor: runs the tasks (default: :class:`SequentialExecutor`).

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings.
    """
    out = Path(out)
    open_store(study, out)
    tasks = study.tasks(out)
    notify = on_progress or (lambda *args: None)
    done = 0
    todo: list[RunTask] = []
    for task in tasks:
        if is_finished(task, with_model=study.keep_models == "all"):
            done += 1
            notify("skipped", done, len(tasks), task.name)
        else:
            todo.append(task)

    def started(task: RunTask) -> None:
        notify("start", done, len(tasks), task.name)

    def finished(task: RunTask, _run: object) -> None:
        nonlocal done
        done += 1
        notify("done", done, len(tasks), task.name)

    (executor or SequentialExecutor()).run(todo, finished, on_start=started)
    # Nothing trained: the outputs are rewritten only if they were not made from exactly these runs.
    result = load_study(out, techniques=[t.display_name for t in study.techniques], seeds=list(study.config.seeds),
                        write=bool(todo) or None)
    if len(result.outcomes) == len(tasks):  # "best" is known only once every run of the study is finished
        prune_models(out, result, study.keep_models)
    return result
