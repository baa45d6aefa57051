"""A progress bar on stderr showing the epoch, the running loss and samples per second."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar"]


class _Bar:
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress, self._task = progress, task

    def update(self, *, epoch: int, loss: float, rate: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, epoch=epoch, loss=loss, rate=rate)


@contextlib.contextmanager
def progress_bar(total_steps: int, description: str, *, enabled: bool = True) -> Iterator[_Bar]:
    """A rich progress bar over ``total_steps`` optimiser steps; a no-op when disabled."""
    if not enabled:
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description} epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:.1f} samples/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # stderr keeps stdout clean for --json output.
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total_steps, epoch=1, loss=float("nan"), rate=0.0)
        yield _Bar(progress, task)
