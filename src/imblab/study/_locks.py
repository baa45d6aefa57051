"""Locks on a study folder, so that several processes can work on one study.

``DIR/.locks/study.lock`` guards the study's own files (``study.json``, the outputs) and the claiming
of runs; ``DIR/.locks/<run>.lock`` is held by the one process that trains (or cleans up) that run.
They are operating-system locks (``flock`` through the ``filelock`` package): a process that dies,
even by SIGKILL, releases them, so a lock file left behind never blocks anyone, and holds no state.

Only the process that runs the study (the driver) takes locks; an executor's workers just write the
run folders they are given.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = ["LOCK_DIR", "StudyLocks"]

LOCK_DIR = ".locks"


class StudyLocks:
    """The locks of the study folder ``out`` held by this process."""

    def __init__(self, out: Path) -> None:
        self.folder = out / LOCK_DIR
        self._held: dict[str, FileLock] = {}
        self._study: FileLock | None = None

    def _lock(self, name: str) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        # thread_local=False: an executor may report a finished run (and so release it) from another thread.
        return FileLock(self.folder / f"{name}.lock", thread_local=False)

    @contextlib.contextmanager
    def study(self) -> Iterator[None]:
        """Hold the study lock (waiting for it) while the block runs."""
        if self._study is None:
            self._study = self._lock("study")
        with self._study:  # one instance: re-entrant within this process
            yield

    def claim(self, run: str) -> bool:
        """Take the lock of ``run`` if no other process holds it; True if this process holds it now."""
        if run in self._held:
            return True
        lock = self._lock(run)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        self._held[run] = lock
        return True

    def wait(self, run: str) -> None:
        """Take the lock of ``run``, waiting while another process holds it (it trains that run)."""
        if run not in self._held:
            lock = self._lock(run)
            lock.acquire()
            self._held[run] = lock

    def release(self, run: str) -> None:
        lock = self._held.pop(run, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for run in list(self._held):
            self.release(run)

    def busy(self) -> list[str]:
        """The runs whose locks other processes hold now."""
        try:
            names = sorted(n[: -len(".lock")] for n in os.listdir(self.folder) if n.endswith(".lock"))
        except FileNotFoundError:
            return []
        taken = []
        for run in names:
            if run != "study" and run not in self._held:
                if self.claim(run):
                    self.release(run)
                else:
                    taken.append(run)
        return taken
