"""Run tasks and executors: a task is self-contained and picklable; an executor sees only the runs to do."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from imblab.errors import OutputError
from imblab.run import is_complete_run
from imblab.study import (
    Executor,
    RunTask,
    SequentialExecutor,
    build_study_config,
    prepare_study,
    run_study,
    run_task,
)
from imblab.study.executors import OnResult, OnStart


def _study(techniques: str = "baseline,focal", seeds: int = 2):
    # 300 rows, one TF-IDF epoch: a real study that trains in about a second.
    return prepare_study(build_study_config(dataset="sms_spam", backend="tfidf", techniques=techniques, seeds=seeds,
                                            limit=300, epochs=1))


class RecordingExecutor:
    """The sequential executor, keeping the names of the run tasks it was given (as it takes them: the stream
    is lazy) besides the scikit-learn reference's."""

    parallel = False  # one task after the other, in this process

    def __init__(self) -> None:
        self.given: list[str] = []

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        def recorded() -> Iterator[RunTask]:
            for task in tasks:
                if isinstance(task, RunTask):
                    self.given.append(task.name)
                yield task

        SequentialExecutor().run(recorded(), on_result, on_start=on_start)


def test_tasks_cover_the_plan_and_survive_pickling(tmp_path: Path) -> None:
    study = _study()
    tasks = study.tasks(tmp_path)
    assert [t.name for t in tasks] == ["baseline · seed 0", "baseline · seed 1", "focal · seed 0", "focal · seed 1"]
    assert len({t.run_dir for t in tasks}) == 4 and all(t.run_dir.parent == tmp_path / "runs" for t in tasks)
    for task in tasks:
        back = pickle.loads(pickle.dumps(task))
        assert (back.data, back.technique, back.seed, back.run_dir, back.training, back.probes) == (
            task.data, task.technique, task.seed, task.run_dir, task.training, task.probes)
        np.testing.assert_array_equal(back.split.test, task.split.test)
        assert back.split.data_hash == task.split.data_hash == study.dataset.content_hash()
    assert study.data.load().content_hash() == study.split.data_hash  # the spec reloads the very same rows


@pytest.mark.slow
def test_the_executor_gets_only_missing_runs(tmp_path: Path) -> None:
    first = RecordingExecutor()
    events: list[tuple[str, int, int]] = []
    result = run_study(_study(), tmp_path, executor=first, on_progress=lambda e, done, total, _: events.append(
        (e, done, total)))
    assert first.given == ["baseline · seed 0", "baseline · seed 1", "focal · seed 0", "focal · seed 1"]
    assert events[-1] == ("done", 5, 5) and len(result.outcomes) == 4  # four runs and the reference
    again = RecordingExecutor()
    run_study(_study(), tmp_path, executor=again)
    assert again.given == []
    more = RecordingExecutor()
    result = run_study(_study("baseline,focal,weighted"), tmp_path, executor=more)
    assert more.given == ["weighted · seed 0", "weighted · seed 1"]
    assert result.techniques == ["baseline", "focal", "weighted"]


def test_sequential_executor_runs_each_task_lazily_in_order_and_propagates_errors(tmp_path: Path) -> None:
    executor: Executor = SequentialExecutor()
    tasks = _study("baseline", 2).tasks(tmp_path / "study")
    events: list[str] = []

    def stream() -> Iterator[RunTask]:
        for task in tasks:
            events.append(f"take {task.name}")
            yield task

    executor.run(stream(), lambda task, run: events.append(f"result {task.name} {is_complete_run(run.run_dir)}"),
                 on_start=lambda task: events.append(f"start {task.name}"))
    first, second = (t.name for t in tasks)
    # The next task is taken only after the previous one's result: lazy, one at a time, each stored when reported.
    assert events == [f"take {first}", f"start {first}", f"result {first} True",
                      f"take {second}", f"start {second}", f"result {second} True"]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the study's folder would go")
    with pytest.raises(OutputError):
        executor.run(iter(_study("baseline", 1).tasks(blocked)), lambda task, run: None)


@pytest.mark.slow
def test_a_task_runs_in_a_fresh_process(tmp_path: Path) -> None:
    # What a process-pool or Ray executor does: the task is all the worker gets.
    task = _study().tasks(tmp_path)[0]
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        run = pool.submit(run_task, task).result(timeout=300)
    assert is_complete_run(task.run_dir)
    assert run.metrics["technique"] == "baseline" and run.metrics["seed"] == 0
    assert len(run.predictions) == len(task.split.test)
