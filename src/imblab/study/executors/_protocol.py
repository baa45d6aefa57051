"""The executor interface: what every executor of :mod:`imblab.study.executors` implements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from .._tasks import RunTask

if TYPE_CHECKING:
    from ...run import RunResult

__all__ = ["Executor", "OnResult", "OnStart"]

OnResult = Callable[[RunTask, "RunResult"], None]
"""Called with a task and its finished run, once the run is complete in ``task.run_dir``."""

OnStart = Callable[[RunTask], None]
"""Called when a task starts (or, for an executor that cannot tell, when it is handed to a worker)."""


class Executor(Protocol):
    """Carries out run tasks; a study does not know where or in which order they run.

    ``tasks`` is an iterable that the executor consumes *lazily*: it takes the next task when it can start
    it (a free worker), because :func:`~._run.run_study` claims each run only as it hands it over, so that
    several processes on one study folder share the work and a worker never waits for a batch. Locks stay in
    the calling process; workers only write the run folders of their tasks.
    """

    #: Whether tasks run beside the calling process (workers, a cluster): it may then do other work meanwhile.
    parallel: bool

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        """Run every task, calling ``on_result`` (and ``on_start``) in this process.

        An exception of a task (or ``KeyboardInterrupt``) propagates once the executor has stopped its
        workers; runs already finished stay stored.
        """
        ...
