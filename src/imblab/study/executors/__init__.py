"""Executors: how a study's tasks are carried out, one file each, and the factory the command line uses.

One interface, :class:`Executor` (:mod:`._protocol`): ``run(tasks, on_result)`` carries out every task and calls
``on_result`` in the calling process as each is finished. Three executors:

* :class:`SequentialExecutor` (the default): one task after the other in this process;
* :class:`ProcessExecutor` (``--workers N``): N local worker processes, one GPU each;
* :class:`RayExecutor` (``--ray [ADDRESS]``): each task a task on a Ray cluster.

Each carries out tasks through the :class:`~.._tasks.Task` protocol; a run's numbers do not depend on the executor.
"""

from __future__ import annotations

from ...errors import SpecError
from ._processes import ProcessExecutor, limit_threads, visible_gpus
from ._protocol import Executor, OnResult, OnStart
from ._ray import RayExecutor, import_ray
from ._sequential import SequentialExecutor

__all__ = ["Executor", "OnResult", "OnStart", "ProcessExecutor", "RayExecutor", "SequentialExecutor", "import_ray",
           "limit_threads", "make_executor", "visible_gpus"]


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
