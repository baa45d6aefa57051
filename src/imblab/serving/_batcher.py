"""Micro-batching: concurrent requests' texts gathered into one forward pass.

A transformer's forward pass over 32 texts costs far less than 32 passes over one text (the
matrix products fill the hardware; the fixed costs are paid once). A server answering many
small requests therefore waits a few milliseconds for other requests and predicts them
together, as TorchServe's and Triton's dynamic batchers do. Every forward pass, batched or
not, runs on one worker thread: the event loop stays free to accept requests, and the model
(whose caches and torch state are not made for concurrent calls) sees one call at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpecError

__all__ = ["BatchPolicy", "BatchStats", "MicroBatcher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPolicy:
    """How requests are gathered.

    Attributes:
        max_batch: at most this many texts per forward pass; a request with more texts is
            predicted alone, never split (so its numbers equal a direct ``predict_proba`` call).
        max_wait_ms: how long the first request of a batch waits for others to join.

    ``max_batch=1`` or ``max_wait_ms=0`` turns batching off: each request is its own forward pass.
    """

    max_batch: int = 64
    max_wait_ms: float = 5.0

    def __post_init__(self) -> None:
        if isinstance(self.max_batch, bool) or not isinstance(self.max_batch, int) or self.max_batch < 1:
            raise SpecError(f"max_batch must be an integer >= 1, got {self.max_batch!r}")
        if not isinstance(self.max_wait_ms, (int, float)) or not 0 <= self.max_wait_ms <= 10_000:
            raise SpecError(f"max_wait_ms must be a number of milliseconds in [0, 10000], got {self.max_wait_ms!r}")

    @property
    def enabled(self) -> bool:
        return self.max_batch > 1 and self.max_wait_ms > 0


@dataclass
class _Request:
    texts: list[str]
    future: asyncio.Future[np.ndarray]


@dataclass
class BatchStats:
    """Counts since start: forward passes, requests and texts (``texts / batches`` is the mean batch)."""

    batches: int = 0
    requests: int = 0
    texts: int = 0
    largest_batch: int = 0

    def add(self, requests: int, texts: int) -> None:
        self.batches += 1
        self.requests += requests
        self.texts += texts
        self.largest_batch = max(self.largest_batch, texts)


@dataclass
class MicroBatcher:
    """``await batcher(texts)`` → the (n, C) rows of ``predict(texts)``, computed with other requests' texts
    (``predict`` may also return a tuple of arrays with a row per text: each request gets its rows of each).

    Rows are returned in the order of ``texts``. ``predict`` must map each text to its own row
    (a backend's ``predict_logits``); for transformer backends the padding of a gathered batch can
    move the last bits of a row (measured: |Δ logit| ≤ 7e-8 for the fine-tuned MiniLM).

    Use inside a running event loop: ``await start()`` before the first call, ``await close()`` after
    the last.
    """

    predict: Callable[[list[str]], np.ndarray]
    policy: BatchPolicy = field(default_factory=BatchPolicy)
    stats: BatchStats = field(default_factory=BatchStats)
    _queue: asyncio.Queue[_Request] | None = field(default=None, init=False, repr=False)
    _carry: _Request | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _executor: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    async def start(self) -> None:
        """Start the worker thread and, when batching, the task that gathers requests."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imblab-inference")
        if self.policy.enabled:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._gather_forever(), name="imblab-micro-batcher")

    async def close(self) -> None:
        """Stop gathering; requests still waiting get a ``RuntimeError``."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        waiting = [self._carry] if self._carry is not None else []
        while self._queue is not None and not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for request in waiting:
            if not request.future.done():
                request.future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._executor is None:
            raise RuntimeError("MicroBatcher.start() was not awaited")
        texts = list(texts)
        loop = asyncio.get_running_loop()
        if self._queue is None:  # batching off: one forward pass per request, still off the event loop
            rows = await loop.run_in_executor(self._executor, self.predict, texts)
            self.stats.add(1, len(texts))
            return rows
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._queue.put_nowait(_Request(texts, future))
        return await future

    async def _gather_forever(self) -> None:
        assert self._queue is not None
        while True:
            batch = await self._gather()
            batch = [r for r in batch if not r.future.done()]  # a waiter cancelled meanwhile needs no rows
            if batch:
                await self._run(batch)

    async def _gather(self) -> list[_Request]:
        """The next batch: the first waiting request, then whoever arrives within max_wait_ms while it fits."""
        assert self._queue is not None
        first = self._carry if self._carry is not None else await self._queue.get()
        self._carry = None
        batch, size = [first], len(first.texts)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy.max_wait_ms / 1000
        while size < self.policy.max_batch:
            if not self._queue.empty():  # already waiting: taking it costs no latency, even past the deadline
                request = self._queue.get_nowait()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    request = await asyncio.wait_for(self._queue.get(), timeout=remaining)
                except asyncio.TimeoutError:
                    break
            if size + len(request.texts) > self.policy.max_batch:
                self._carry = request  # first in line for the next batch: arrival order is kept
                break
            batch.append(request)
            size += len(request.texts)
        return batch

    async def _run(self, batch: list[_Request]) -> None:
        assert self._executor is not None
        texts = [text for request in batch for text in request.texts]
        try:
            rows = await asyncio.get_running_loop().run_in_executor(self._executor, self.predict, texts)
        except Exception as exc:  # every waiter of this pass gets the error; the batcher keeps serving
            log.exception("prediction failed for a batch of %d texts", len(texts))
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        self.stats.add(len(batch), len(texts))
        start = 0
        for request in batch:
            stop = start + len(request.texts)
            if not request.future.done():
                request.future.set_result(tuple(part[start:stop] for part in rows) if isinstance(rows, tuple)
                                          else rows[start:stop])
            start = stop
