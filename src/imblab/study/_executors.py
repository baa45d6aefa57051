"""Executors: how a study's run tasks are carried out.

One interface, :class:`Executor`: ``run(tasks, on_result)`` carries out every task and calls ``on_result``
in the calling process as each run is finished and stored in its ``task.run_dir`` (an executor whose
workers do not share this file system copies the run's files there first). :class:`SequentialExecutor`
runs the tasks one after the other in this process. An executor over processes or machines is a small
class of its own: it sends each picklable :class:`~._tasks.RunTask` to :func:`~._tasks.run_task`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from ._tasks import RunTask, run_task

if TYPE_CHECKING:
    from ..run import RunResult

__all__ = ["Executor", "OnResult", "OnStart", "SequentialExecutor"]

OnResult = Callable[[RunTask, "RunResult"], None]
"""Called with a task and its finished run, once the run is complete in ``task.run_dir``."""

OnStart = Callable[[RunTask], None]
"""Called when a task starts (or, for an executor that cannot tell, when it is handed to a worker)."""


class Executor(Protocol):
    """Carries out run tasks; a study does not know where or in which order they run.

    An executor that runs several tasks at once may say how many with an ``int`` attribute
    ``parallelism`` (default 1): :func:`~._run.run_study` claims that many runs at a time (other processes
    on the same study folder take the rest) and hands them over in one call. Locks stay in the calling
    process; workers only write the run folders of their tasks.
    """

    def run(self, tasks: Sequence[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        """Run every task, calling ``on_result`` (and ``on_start``) in this process.

        An exception of a task (or ``KeyboardInterrupt``) propagates once the executor has stopped its
        workers; runs already finished stay stored.
        """
        ...


class SequentialExecutor:
    """One task after the other, in this process."""

    def run(self, tasks: Sequence[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        for task in tasks:
            if on_start is not None:
                on_start(task)
            on_result(task, run_task(task))
