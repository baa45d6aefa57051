"""Linear classification heads for fixed features (TF-IDF rows or frozen embeddings)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

__all__ = ["DenseLinearHead", "SparseLinearHead", "init_head", "single_thread_on_cpu"]


class DenseLinearHead(nn.Module):
    """``logits = features @ W.T + b`` for dense (n, d) features."""

    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)

    @property
    def bias(self) -> torch.Tensor:
        return self.linear.bias


class SparseLinearHead(nn.Module):
    """``logits = X @ W + b`` for sparse rows given as CSR pieces, without densifying ``X``.

    ``nn.EmbeddingBag`` in ``sum`` mode with per-sample weights is exactly a sparse-dense
    product: row i sums ``W[j] * x_ij`` over its non-zero columns j.
    """

    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.weight = nn.EmbeddingBag(n_features, n_classes, mode="sum")
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, columns: torch.Tensor, offsets: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        return self.weight(columns, offsets, per_sample_weights=values) + self.bias


def init_head(head: DenseLinearHead | SparseLinearHead, initial_bias: np.ndarray | None) -> None:
    """Zero weights and the technique's initial bias (zero without one).

    With zero weights the untrained head predicts softmax(bias) for every text, so bias
    initialisation gives exactly the prior it was set to (``--epochs 0`` shows it); for a
    linear model on fixed features the zero start loses nothing (the loss is convex).
    """
    with torch.no_grad():
        weight = head.linear.weight if isinstance(head, DenseLinearHead) else head.weight.weight
        weight.zero_()
        bias = head.bias
        bias.copy_(torch.as_tensor(initial_bias, dtype=bias.dtype) if initial_bias is not None else torch.zeros_like(bias))


@contextlib.contextmanager
def single_thread_on_cpu() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (restored after).

    A linear head's steps take well under a millisecond of arithmetic; OpenMP's thread
    synchronisation costs more than a second thread saves, and on a busy machine it can
    make a step 10x slower (measured: 1.6 s vs 2-18 s for the same TF-IDF fit on 2 cores).
    """
    if torch.cuda.is_available():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
