"""The micro-batcher: who is gathered with whom, rows back in order, errors, cancellation, no batching."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from imblab.errors import SpecError
from imblab.serving import BatchPolicy, MicroBatcher


class Encoder:
    """A deterministic text → row function that records every call (the batcher's only input)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.fail_on = fail_on

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name)
        if self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on!r}")
        return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32).reshape(len(texts), 2)


def expected(texts: list[str]) -> np.ndarray:
    return Encoder()(texts)


async def serve(batcher: MicroBatcher, requests: list[list[str]]) -> list[np.ndarray]:
    await batcher.start()
    try:
        return await asyncio.gather(*(batcher(texts) for texts in requests))
    finally:
        await batcher.close()


def requests_of(sizes: list[int]) -> list[list[str]]:
    return [[f"request {r} text {i}" + "x" * (r % 5) for i in range(size)] for r, size in enumerate(sizes)]


def test_concurrent_requests_share_forward_passes_of_at_most_max_batch_texts() -> None:
    encoder = Encoder()
    requests = requests_of([1, 2, 3, 1, 4, 2, 2, 1, 3, 1])  # 20 texts
    batcher = MicroBatcher(encoder, BatchPolicy(max_batch=8, max_wait_ms=50))
    answers = asyncio.run(serve(batcher, requests))
    for texts, rows in zip(requests, answers):
        np.testing.assert_array_equal(rows, expected(texts))
    assert all(len(call) <= 8 for call in encoder.calls)
    # Arrival order is kept and no request is split: the calls are the requests, concatenated, in order.
    assert [t for call in encoder.calls for t in call] == [t for texts in requests for t in texts]
    assert len(encoder.calls) < len(requests)
    assert batcher.stats.requests == len(requests) and batcher.stats.texts == 20
    assert batcher.stats.batches == len(encoder.calls) and batcher.stats.largest_batch <= 8
    assert encoder.threads == {"imblab-inference_0"}  # one worker thread, never the event loop's


def test_several_arrays_per_text_are_each_cut_to_every_request() -> None:
    """A server computes logits, probabilities and decisions once per gathered batch: each request gets its rows
    of each array, in its order."""
    encoder = Encoder()

    def outputs(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = encoder(texts)
        return rows, rows[:, 0].astype(np.int64)

    requests = requests_of([1, 3, 2, 1, 2])
    answers = asyncio.run(serve(MicroBatcher(outputs, BatchPolicy(max_batch=8, max_wait_ms=50)), requests))
    assert len(encoder.calls) < len(requests)
    for texts, (rows, lengths) in zip(requests, answers):
        np.testing.assert_array_equal(rows, expected(texts))
        np.testing.assert_array_equal(lengths, [len(t) for t in texts])


def test_a_request_larger_than_max_batch_is_predicted_alone_and_whole() -> None:
    encoder = Encoder()
    requests = requests_of([2, 10, 1])
    answers = asyncio.run(serve(MicroBatcher(encoder, BatchPolicy(max_batch=4, max_wait_ms=20)), requests))
    assert requests[1] in encoder.calls
    for texts, rows in zip(requests, answers):
        np.testing.assert_array_equal(rows, expected(texts))


@pytest.mark.parametrize("policy", [BatchPolicy(max_batch=1, max_wait_ms=5), BatchPolicy(max_batch=64, max_wait_ms=0)])
def test_batching_off_predicts_each_request_on_its_own(policy: BatchPolicy) -> None:
    encoder = Encoder()
    requests = requests_of([1, 3, 2, 1])
    batcher = MicroBatcher(encoder, policy)
    answers = asyncio.run(serve(batcher, requests))
    assert not policy.enabled
    assert sorted(map(tuple, encoder.calls)) == sorted(map(tuple, requests))
    assert batcher.stats.batches == 4
    for texts, rows in zip(requests, answers):
        np.testing.assert_array_equal(rows, expected(texts))


def test_a_failing_pass_fails_its_requests_and_the_batcher_keeps_serving() -> None:
    encoder = Encoder(fail_on="poison")
    batcher = MicroBatcher(encoder, BatchPolicy(max_batch=8, max_wait_ms=20))

    async def scenario() -> tuple[list[object], np.ndarray]:
        await batcher.start()
        try:
            first = await asyncio.gather(batcher(["a"]), batcher(["poison"]), return_exceptions=True)
            later = await batcher(["still here"])
            return first, later
        finally:
            await batcher.close()

    first, later = asyncio.run(scenario())
    assert all(isinstance(r, ValueError) for r in first)  # gathered into the same pass
    np.testing.assert_array_equal(later, expected(["still here"]))


def test_a_cancelled_request_is_not_predicted() -> None:
    encoder = Encoder()
    batcher = MicroBatcher(encoder, BatchPolicy(max_batch=8, max_wait_ms=100))

    async def scenario() -> np.ndarray:
        await batcher.start()
        try:
            gone = asyncio.ensure_future(batcher(["gone"]))
            await asyncio.sleep(0)  # queued
            gone.cancel()
            return await batcher(["kept"])
        finally:
            await batcher.close()

    np.testing.assert_array_equal(asyncio.run(scenario()), expected(["kept"]))
    assert encoder.calls == [["kept"]]


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"max_batch": -3}, {"max_batch": 2.5}, {"max_wait_ms": -1},
                                    {"max_wait_ms": 1e9}])
def test_bad_policy_is_a_spec_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(SpecError):
        BatchPolicy(**kwargs)  # type: ignore[arg-type]
