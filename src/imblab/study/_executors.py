"""Executors: how a study's run tasks are carried out.

One interface, :class:`Executor`: ``run(tasks, on_result)`` carries out every task and calls ``on_result``
in the calling process as each run is finished and stored in its ``task.run_dir`` (an executor whose
workers do not share this file system copies the run's files there first). Three executors:

* :class:`SequentialExecutor` (the default): one task after the other in this process;
* :class:`~._processes.ProcessExecutor` (``--workers N``): N local worker processes, one GPU each;
* :class:`~._ray.RayExecutor` (``--ray [ADDRESS]``): each run a task on a Ray cluster.

Each sends the picklable :class:`~._tasks.RunTask` to :func:`~._tasks.run_task`; a run's numbers do not
depend on the executor. :func:`make_executor` picks one from the command line's flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..errors import SpecError
from ._tasks import RunTask, run_task

if TYPE_CHECKING:
    from ..run import RunResult

__all__ = ["Executor", "OnResult", "OnStart", "SequentialExecutor", "make_executor"]

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

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        """Run every task, calling ``on_result`` (and ``on_start``) in this process.

        An exception of a task (or ``KeyboardInterrupt``) propagates once the executor has stopped its
        workers; runs already finished stay stored.
        """
        ...


class SequentialExecutor:
    """One task after the other, in this process."""

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        for task in tasks:
            if on_start is not None:
                on_start(task)
            on_result(task, run_task(task))


def make_executor(
    *, workers: int | str | None = None, ray: str | None = None, cpus_per_run: float | None = None,
    gpus_per_run: float | None = None, ray_timeout: float | None = None,
) -> Executor:
    """The executor that ``imblab compare``'s flags ask for.

    Args:
        workers: ``N`` local worker processes, or ``"auto"``: one per CUDA GPU, else one per core.
        ray: a Ray cluster: ``"auto"`` (``RAY_ADDRESS`` or the cluster started on this machine) or ``HOST:PORT``.
        cpus_per_run, gpus_per_run: the resources each run asks of the Ray cluster.
        ray_timeout: seconds to wait for the cluster's head to answer (default 30).

    Returns:
        :class:`SequentialExecutor` when neither ``workers`` nor ``ray`` is given.

    Raises:
        SpecError: contradictory or out-of-range flags. ExecutionError: ``ray`` without Ray installed.
    """
    # Imported here: the executors import this module's types, and ray only when asked for.
    from ._processes import ProcessExecutor
    from ._ray import RayExecutor, import_ray

    if workers is not None and ray is not None:
        raise SpecError("--workers and --ray exclude each other: runs go to local processes or to a Ray cluster")
    if ray is None and (cpus_per_run is not None or gpus_per_run is not None or ray_timeout is not None):
        raise SpecError("--cpus-per-run, --gpus-per-run and --ray-timeout are for a Ray cluster: use them with --ray")
    if ray is not None:
        import_ray()  # a missing Ray is reported before any work
        executor = RayExecutor(ray, cpus_per_run=1.0 if cpus_per_run is None else cpus_per_run,
                               gpus_per_run=gpus_per_run, connect_timeout=30.0 if ray_timeout is None else ray_timeout)
        executor.check_reachable()  # and an address where nothing answers, before anything is written
        return executor
    if workers is not None:
        if workers == "auto":
            return ProcessExecutor()
        try:
            count = int(workers)
        except ValueError:
            raise SpecError(f"--workers takes a number of processes or auto, not {workers!r}") from None
        return ProcessExecutor(count)
    return SequentialExecutor()
