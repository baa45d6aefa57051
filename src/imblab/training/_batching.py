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
    y: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Batches of similar-length examples, in random order, each with the class mix of the data.

    The indices are shuffled and cut into mega-batches of ``mega_batch * batch_size``. Within a
    mega-batch, each class's examples are sorted by length (longest first) and dealt out in
    order: batch k gets the k-th slice of every class. Padding to the longest text of a batch
    then wastes little compute (the idea of fairseq / Hugging Face ``group_by_length``), the
    mega-batches keep batches random across epochs, and — unlike a plain length sort — every
    batch keeps the classes' shares. That matters on imbalanced text, where length tracks the
    class (SMS spam is three times longer than ham): a plain sort makes single-class batches,
    and a class-weighted mean over a single-class batch cancels its weights.

    Args:
        indices: training indices of this epoch (may repeat, e.g. after oversampling).
        lengths: token length of every training example, indexed by the values in ``indices``.
        batch_size: examples per batch.
        rng: the epoch's random generator.
        mega_batch: batches per sorting window.
        y: class of every training example, indexed like ``lengths``; None sorts all together.

    Returns:
        A list of index arrays.
    """
    order = rng.permutation(np.asarray(indices))
    lengths = np.asarray(lengths)
    classes = np.zeros(len(lengths), dtype=np.int64) if y is None else np.asarray(y)
    window = mega_batch * batch_size
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        n_batches = -(-len(chunk) // batch_size)
        parts: list[list[np.ndarray]] = [[] for _ in range(n_batches)]
        for c in np.unique(classes[chunk]):
            members = chunk[classes[chunk] == c]
            # A stable sort keeps ties in their shuffled order.
            members = members[np.argsort(-lengths[members], kind="stable")]
            for k, piece in enumerate(np.array_split(members, n_batches)):
                parts[k].append(piece)
        batches.extend(np.concatenate(p) for p in parts if p and sum(len(x) for x in p))
    return [batches[i] for i in rng.permutation(len(batches))]
