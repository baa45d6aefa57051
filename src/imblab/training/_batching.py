"""Batch orders for one epoch: shuffled, or grouped by length for dynamic padding."""

from __future__ import annotations

import numpy as np

__all__ = ["length_grouped_batches", "shuffled_batches", "weight_scale"]


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

    The indices are shuffled and cut into mega-batches of ``mega_batch * batch_size``; each
    mega-batch is sorted by length (longest first) and cut into batches, and the batches are
    shuffled. Padding to the longest text of a batch then wastes little compute (the idea of
    fairseq / Hugging Face ``group_by_length``) while batches stay random across epochs.

    On imbalanced text, length tracks the class (SMS spam is three times longer than ham), so
    these batches are often single-class. A class-weighted *batch* mean would cancel the weights
    there; the loop therefore normalises weighted losses by a constant per epoch instead (see
    :func:`weight_scale`).

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


def weight_scale(class_weights: np.ndarray, batch_targets: np.ndarray, epoch_share: np.ndarray) -> float:
    """Factor turning a batch's weighted mean loss into one normalised by a per-epoch constant.

    A weighted mean over a batch B is L_B = Σ_B w_y ℓ / Σ_B w_y. Times this factor,
    Σ_B w_y / (|B| · E[w]) with E[w] = Σ_c share_c w_c over the epoch, it becomes
    Σ_B w_y ℓ / (|B| · E[w]): the batches' losses, weighted by their sizes, then add up to
    exactly the epoch's weighted mean, whatever the classes in each batch.

    Args:
        class_weights: (C,) the loss's class weights.
        batch_targets: (B,) class indices of the batch.
        epoch_share: (C,) each class's share of the epoch's rows.
    """
    w = np.asarray(class_weights, dtype=np.float64)
    return float(w[np.asarray(batch_targets)].sum() / (len(batch_targets) * float(np.dot(epoch_share, w))))
