"""The default executor: one task after the other, in this process."""

from __future__ import annotations

from collections.abc import Iterable

from .._tasks import RunTask, run_task
from ._protocol import OnResult, OnStart

__all__ = ["SequentialExecutor"]


class SequentialExecutor:
    """One task after the other, in this process."""

    parallel = False

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        for task in tasks:
            if on_start is not None:
                on_start(task)
            on_result(task, run_task(task))
