"""Local worker processes: ``--workers N`` carries out N of a study's runs at once on this machine.

Each worker is a fresh Python process (the ``spawn`` start method: forking a process that may hold torch
threads or a CUDA context is unsafe) in a pool of its own (``concurrent.futures.ProcessPoolExecutor`` with
one worker), so that each can be given its own GPU and a lost worker loses only its own run:

* threads: each worker limits torch and the BLAS/OpenMP libraries to its share of the cores (cores ÷ N), so
  N workers do not oversubscribe the machine. A run's numbers do not depend on it: the linear heads are
  fitted on one thread anyway, and the embedding cache gives every run the same embeddings;
* GPUs: on a machine with CUDA GPUs a worker sees one GPU (``CUDA_VISIBLE_DEVICES``), worker k the k-th
  (round robin when there are more workers than GPUs); the default is one worker per GPU;
* a worker process that dies (killed, out of memory) loses its run in flight: the run is given to a fresh
  worker ``retries`` times, then the study stops with one line naming it;
* an exception of a run stops the dispatch, lets the runs in flight finish (they are stored), then
  propagates; Ctrl-C / SIGTERM of the driver stops the workers at once (a run in flight removes its
  temporary folder): finished runs stay stored and re-running the study resumes.

Workers write their runs straight into ``task.run_dir``: they share this machine's file system.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from ..._cores import usable_cores
from ..._io import remove_partial
from ...errors import ExecutionError, SpecError
from ._protocol import OnResult, OnStart
from .._tasks import RunTask, run_task

if TYPE_CHECKING:
    from ...run import RunResult

__all__ = ["ProcessExecutor", "limit_threads", "usable_cores", "visible_gpus"]

log = logging.getLogger(__name__)

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS")
_STOP_SECONDS = 30.0  # how long a stopped worker may take to clean up its run in flight before it is killed


def visible_gpus() -> list[str]:
    """The CUDA GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` names them to a child process.

    Without an NVIDIA driver (no ``/dev/nvidia*``, no ``nvidia-smi``) torch is not even imported.
    """
    if not glob.glob("/dev/nvidia[0-9]*") and shutil.which("nvidia-smi") is None:
        return []
    import torch

    count = torch.cuda.device_count()
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    names = [d.strip() for d in listed.split(",")] if listed else [str(i) for i in range(count)]
    return names[:count]


def limit_threads(threads: int) -> None:
    """Limit this process's torch, BLAS and OpenMP thread pools (and any process it starts) to ``threads``."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)  # the pools numpy/scipy loaded already


def _raise_system_exit(signum: int, frame: object) -> None:
    # SystemExit unwinds like an exception (a run in flight removes its temporary folder) and, unlike
    # KeyboardInterrupt, ends an idle worker without a traceback.
    raise SystemExit(128 + signum)


def _start_worker(env: dict[str, str], threads: int, log_level: int) -> None:
    """Runs first in every worker process."""
    os.environ.update(env)  # CUDA_VISIBLE_DEVICES before CUDA starts (at torch's first CUDA call)
    limit_threads(threads)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    # Ctrl-C reaches the whole process group: the driver alone decides what stops (see ProcessExecutor).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    # Registered last, so run first when the worker exits (its pool shut down, or it was stopped).
    atexit.register(_end_now)


def _end_now() -> None:
    """End a worker that is exiting without the interpreter's teardown.

    Its results are sent and its runs stored by now; tearing down torch and the imported libraries takes
    over a second per worker (measured: 1.2 s), which the driver would wait for at the end of every study.
    A forked ``multiprocessing`` child ends the same way (``os._exit``). A SIGTERM must not interrupt it.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start: they inherit "ignored", so a Ctrl-C during their start-up
    (seconds of imports, before ``_start_worker`` runs) cannot print a traceback from each of them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Slot:
    """One worker process (a one-worker pool), its GPU and thread share."""

    def __init__(self, env: dict[str, str], threads: int, context: Any) -> None:
        self.env, self.threads, self.context = env, threads, context
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=self.context, initializer=_start_worker,
                                   initargs=(self.env, self.threads, logging.getLogger().getEffectiveLevel()))

    def submit(self, task: RunTask) -> Future[RunResult]:
        with _sigint_ignored():  # the process starts inside the first submit
            try:
                return self.pool.submit(run_task, task)
            except BrokenProcessPool:  # the worker died while idle: no run was lost
                self.replace()
                return self.pool.submit(run_task, task)

    def replace(self) -> None:
        """A fresh worker for one that died."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        # concurrent.futures keeps no public handle on its processes (terminate_workers() comes in 3.14).
        return list((getattr(self.pool, "_processes", None) or {}).values())  # None once shut down

    def stop(self) -> None:
        """End the worker now: SIGTERM (it removes its run's temporary folder), SIGKILL if it lingers."""
        processes = self.processes()
        manager = getattr(self.pool, "_executor_manager_thread", None)
        for process in processes:  # before the pool's shutdown, which would let an idle worker exit by itself
            if process.is_alive():
                with contextlib.suppress(OSError):
                    process.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(_STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        # The pool's manager thread ends once it sees its worker gone: wait for it (else, at the interpreter's
        # exit, concurrent.futures may wake it while it closes its pipe: "OSError: Bad file descriptor").
        if manager is not None:
            manager.join(_STOP_SECONDS)


class ProcessExecutor:
    """Carries out a study's runs in ``workers`` local processes at once.

    Args:
        workers: processes at once (default: one per CUDA GPU, else one per core).
        gpus: the GPUs to spread the workers over, as ``CUDA_VISIBLE_DEVICES`` names them (default: every
            visible one; ``[]`` runs on the CPU).
        threads: torch/BLAS threads per worker (default: the cores divided among the workers).
        retries: how many times a run whose worker process died is given to a fresh worker.

    Raises:
        SpecError: ``workers``, ``threads`` or ``retries`` out of range.
    """

    parallel = True

    def __init__(self, workers: int | None = None, *, gpus: Sequence[str] | None = None, threads: int | None = None,
                 retries: int = 1) -> None:
        self.gpus = list(visible_gpus() if gpus is None else gpus)
        self.workers = workers if workers is not None else (len(self.gpus) or usable_cores())
        if self.workers < 1:
            raise SpecError(f"--workers must be at least 1, got {self.workers}")
        self.threads = threads if threads is not None else max(1, usable_cores() // self.workers)
        if self.threads < 1:
            raise SpecError(f"threads per worker must be at least 1, got {self.threads}")
        if retries < 0:
            raise SpecError(f"retries must be at least 0, got {retries}")
        self.retries = retries

    def _slot(self, k: int) -> _Slot:
        env = {"CUDA_VISIBLE_DEVICES": self.gpus[k % len(self.gpus)]} if self.gpus else {}
        return _Slot(env, self.threads, multiprocessing.get_context("spawn"))

    def run(self, tasks: Iterable[RunTask], on_result: OnResult, *, on_start: OnStart | None = None) -> None:
        # Tasks are taken one at a time, when a worker is free: the study claims each run only then.
        pending = iter(tasks)
        slots: list[_Slot] = []
        running: dict[Future[RunResult], tuple[int, RunTask, int]] = {}
        failure: BaseException | None = None

        def submit(k: int, task: RunTask, attempt: int = 0) -> None:
            if on_start is not None and attempt == 0:
                on_start(task)
            running[slots[k].submit(task)] = (k, task, attempt)

        def submit_next(k: int) -> None:
            task = next(pending, None) if failure is None else None
            if task is not None:
                submit(k, task)

        try:
            while len(slots) < self.workers:  # a worker for each task there is, up to `workers`
                task = next(pending, None)
                if task is None:
                    break
                slots.append(self._slot(len(slots)))
                submit(len(slots) - 1, task)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    k, task, attempt = running.pop(future)
                    try:
                        result = future.result()
                    except (BrokenProcessPool, SystemExit):
                        # The worker died (killed, out of memory: its run's temporary folder stays behind), or
                        # someone sent it SIGTERM (it stopped the run and cleaned up): a fresh worker runs it.
                        if hasattr(task, "run_dir"):  # a run's temporary folder (a trial writes nothing)
                            remove_partial(task.run_dir)
                        slots[k].replace()
                        if attempt < self.retries and failure is None:
                            log.warning("the worker running %s died: running it again", task.name)
                            submit(k, task, attempt + 1)
                        elif failure is None:
                            failure = ExecutionError(
                                f"the worker process running {task.name} died {attempt + 1} time(s) (killed, or out "
                                "of memory?); finished runs are kept: run the same command to resume"
                            )
                        continue
                    except Exception as exc:  # the run's own error: let the runs in flight finish first
                        failure = failure or exc
                        continue
                    on_result(task, result)
                    submit_next(k)
            for slot in slots:  # inside the try: an interruption here still stops every worker
                slot.pool.shutdown(wait=False)  # every worker told first: they end at once, not one by one
            for slot in slots:
                slot.pool.shutdown(wait=True)
        except BaseException:
            for slot in slots:
                slot.stop()
            raise
        if failure is not None:
            raise failure
