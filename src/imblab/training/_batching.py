"""Batch orders for one epoch: shuffled, or grouped by length for dynamic padding."""

from __future__ import annotations

import numpy as np

__all__ = ["length_grouped_batches", "shuffled_batches"]


def shuffled_batches(indices: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``indices`` in random order, cut into batches of ``batch_size`` (the last may be smaller)."""
    order = rng.permutation(np.asarray(indices))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def length_grouped_batches(
    indices: np.ndarray,
    lengths: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    mega_batch: int = 50,
) -> list[np.ndarray]:
    """Batches of similar-length examples, in random order.

    The indices are shuffled, cut into mega-batches of ``mega_batch * batch_size``, each
    mega-batch is sorted by length (longest first) and cut into batches, and the batch
    order is shuffled. Padding to the longest text of a batch then wastes little compute
    (the idea of fairseq / Hugging Face ``group_by_length``), while the mega-batches keep
    batches random across epochs.

    Args:
        indices: training indices of this epoch (may repeat, e.g. after oversampling).
        lengths: token length of every training example, indexed by the values in ``indices``.
        batch_size: examples per batch.
        rng: the epoch's random generator.
        mega_batch: batches per sorting window.

    Returns:
        A list of index arrays.
    """
    order = rng.permutation(np.asarray(indices))
    lengths = np.asarray(lengths)
    window = mega_batch * batch_size
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        # A stable sort keeps ties in their shuffled order.
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]
