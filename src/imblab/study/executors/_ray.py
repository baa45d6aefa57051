"""A Ray cluster: every run of a study is a Ray task (Moritz et al., "Ray: A Distributed Framework for
Emerging AI Applications", OSDI 2018).

``RayExecutor`` connects to a running cluster (``ray start --head`` on one machine, ``ray start --address``
on the others), sends each :class:`~._tasks.RunTask` as a task that asks for ``cpus_per_run`` CPUs and
``gpus_per_run`` GPUs, and writes each finished run into ``task.run_dir`` as the task returns it:

* no shared file system: the study's rows travel through Ray's object store (put once), a worker trains
  into a temporary folder of its own machine and returns the run folder's files, and the driver writes them
  atomically. Every node needs imblab (the same version) and, for transformer backends, the model (a local
  path present on every node, or a hub id it can load); the embedding cache is each node's own;
* a worker process or node that dies mid-run: Ray runs the task again (``max_retries``); a run's own error
  (bad data, an unknown model) is not retried and surfaces as the same one-line error as in one process;
* the driver shows progress as tasks finish (``ray.wait``) and writes the study; an interrupted driver
  cancels its tasks, keeps the finished runs, and resumes when run again.

Ray is an optional dependency (``pip install "imblab[ray]"``), imported only here and only when used.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ...errors import ExecutionError, ImblabError, SpecError
from ._protocol import OnResult, OnStart

if TYPE_CHECKING:
    from ...data import Dataset

__all__ = ["RayExecutor", "import_ray"]

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "imblab[ray]"'


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        ExecutionError: Ray is not installed (one line saying how to install it).
    """
    try:
        import ray
    except ImportError:
        raise ExecutionError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def imblab_run_task(task: Any, rows: Dataset | None, threads: int) -> Any:
    """The Ray task (its name shows in the worker's process title, ``ray::imblab_run_task``): ``task.remote``.

    A study's run (or its reference) is trained into a temporary folder on the worker and the run folder's files
    are returned (workers need no shared file system); a tuning trial returns its result.
    """
    from ._processes import limit_threads

    limit_threads(threads)  # Ray reuses worker processes: set for every task
    return task.remote(rows)


class RayExecutor:
    """Carries out a study's runs as tasks on a Ray cluster.

    Args:
        address: the cluster: ``"auto"`` (``RAY_ADDRESS``, else the cluster started on this machine) or
            ``HOST:PORT`` of its head node.
        cpus_per_run: CPUs each run asks for (its torch/BLAS threads too).
        gpus_per_run: GPUs each run asks for (default: 1 when the cluster has GPUs, else 0).
        max_retries: how many times a run whose worker process or node died is run again.

    Raises:
        SpecError: a resource out of range.
    """

    parallel = True

    def __init__(self, address: str = "auto", *, cpus_per_run: float = 1.0, gpus_per_run: float | None = None,
                 max_retries: int = 3, connect_timeout: float = 30.0) -> None:
        if not cpus_per_run > 0:
            raise SpecError(f"--cpus-per-run must be positive, got {cpus_per_run}")
        if gpus_per_run is not None and not gpus_per_run >= 0:
            raise SpecError(f"--gpus-per-run must be 0 or more, got {gpus_per_run}")
        if max_retries < 0:
            raise SpecError(f"max_retries must be at least 0, got {max_retries}")
        if not 0 < connect_timeout <= 3600:
            raise SpecError(f"--ray-timeout must be in (0, 3600] seconds, got {connect_timeout}")
        self.address = address
        self.connect_timeout = float(connect_timeout)
        self.cpus_per_run = float(cpus_per_run)
        self.gpus_per_run = gpus_per_run
        self.max_retries = max_retries

    def check_reachable(self) -> None:
        """Fail at once, before a study writes anything, when nothing answers at a ``HOST:PORT`` address within
        ``connect_timeout`` seconds (Ray itself retries for many minutes without a word).

        Raises:
            ExecutionError: naming the address.
        """
        address = self.address.split("://", 1)[-1]
        if address == "auto" or ":" not in address:
            return
        host, _, port = address.rpartition(":")
        try:
            port_number = int(port)
        except ValueError:
            raise ExecutionError(f"--ray {self.address}: give HOST:PORT of the cluster's head, or auto") from None
        if not 0 < port_number < 65536:
            raise ExecutionError(f"--ray {self.address}: the port must be in 1..65535")
        try:
            with socket.create_connection((host.strip("[]"), port_number), timeout=self.connect_timeout):
                pass
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
            raise ExecutionError(
                f"cannot connect to a Ray cluster at {self.address}: {reason} within {self.connect_timeout:g} s "
                "(start one with `ray start --head`, or wait longer with --ray-timeout)"
            ) from None

    def _connect(self, ray: Any) -> bool:
        """Connect to the cluster unless this process already is; True when this call connected."""
        if ray.is_initialized():
            return False
        try:
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExecutionError(
                f"cannot connect to a Ray cluster at {self.address}: {first} (start one with `ray start --head`)"
            ) from None
        return True

    def run(self, tasks: Iterable[Any], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        ray = import_ray()
        # Ray prints the cluster's messages to the driver (a task retried after its worker died, a lost
        # node) on stdout: they go to stderr, with the progress, so that stdout keeps only results (--json).
        with contextlib.redirect_stdout(sys.stderr):
            connected = self._connect(ray)
            try:
                self._run(ray, iter(tasks), on_result, on_start)
            finally:
                if connected:
                    ray.shutdown()  # the driver disconnects; the cluster keeps running

    def _run(self, ray: Any, tasks: Iterator[Any], on_result: OnResult, on_start: OnStart | None) -> None:
        from ray.exceptions import RayError, RayTaskError


        gpus = self.gpus_per_run
        resources = ray.cluster_resources()
        if gpus is None:
            gpus = 1.0 if resources.get("GPU", 0) >= 1 else 0.0
        remote = ray.remote(imblab_run_task).options(
            num_cpus=self.cpus_per_run, num_gpus=gpus, max_retries=self.max_retries, retry_exceptions=False,
        )
        threads = max(1, int(self.cpus_per_run))
        # Tasks are taken as the cluster can start them (a run is claimed, a trial asked, only then): as many in
        # flight as its CPUs (and GPUs) hold, at least one.
        slots = resources.get("CPU", 1) / self.cpus_per_run
        if gpus > 0:
            slots = min(slots, resources.get("GPU", 0) / gpus)
        width = max(1, int(slots))
        rows: dict[str, Any] = {}  # data hash -> the rows in the object store, put once per study
        refs: dict[Any, Any] = {}

        def submit() -> bool:
            task = next(tasks, None)
            if task is None:
                return False
            key = task.data_key  # the rows in the object store, put once per study
            if key is not None and key not in rows:
                rows[key] = ray.put(task.load_rows())
            dataset = rows[key] if key is not None else None
            if on_start is not None:
                on_start(task)  # handed to Ray: when it starts is Ray's to decide
            refs[remote.remote(task, dataset, threads)] = task
            return True

        try:
            while len(refs) < width and submit():
                pass
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    task = refs.pop(ref)
                    try:
                        payload = ray.get(ref)
                    except RayTaskError as exc:
                        if isinstance(exc.cause, ImblabError):
                            raise exc.cause from None  # the run's own error, as one process would raise it
                        raise
                    except RayError as exc:  # the worker or node died more than max_retries times
                        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                        raise ExecutionError(
                            f"{task.name} failed on the Ray cluster after {self.max_retries} retries ({first}); "
                            "finished runs are kept: run the same command to resume"
                        ) from None
                    on_result(task, task.collect(payload))
                    submit()
        finally:
            for ref in refs:  # an error or an interruption: the runs still queued or in flight
                ray.cancel(ref)
