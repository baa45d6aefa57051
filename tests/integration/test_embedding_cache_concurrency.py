"""The frozen backend's embedding cache with concurrent writers (issue 13): two processes that ask for the same
embeddings at the same moment compute them once, and both get the very same array."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _embed(cache: str, texts: list[str], barrier: Any) -> tuple[int, bytes]:
    """In a fresh process: wait for the other, then embed; returns (entries this process computed, the array)."""
    os.environ["IMBLAB_CACHE_DIR"] = cache
    from imblab.backends import FrozenBackend

    messages = _Messages()
    logger = logging.getLogger("imblab.backends._frozen")
    logger.setLevel(logging.INFO)
    logger.addHandler(messages)
    backend = FrozenBackend()
    _ = backend.identity  # hashing the encoder's files is not what races: done before the start line
    barrier.wait()
    embeddings = backend.embeddings(texts)
    return sum(m.startswith("cached ") for m in messages.messages), embeddings.tobytes()


@pytest.mark.slow
def test_two_processes_embed_once_and_read_the_same_file(tmp_path: Path, sms) -> None:
    texts = list(sms.texts[:48])
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        barrier = manager.Barrier(2)
        futures = [pool.submit(_embed, str(tmp_path), texts, barrier) for _ in range(2)]
        (computed_a, array_a), (computed_b, array_b) = (f.result(timeout=600) for f in futures)
    assert computed_a + computed_b == 1  # one computed under the entry's lock, the other read its file
    assert array_a == array_b
    files = list((tmp_path / "embeddings").glob("*.npy"))
    assert len(files) == 1
    stored = np.load(files[0])
    assert stored.shape == (48, 384)
