"""Linear classification heads for fixed features (TF-IDF rows or frozen embeddings)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DenseLinearHead", "SparseLinearHead", "init_head", "single_thread_on_cpu", "sparse_batch"]


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


class _SparseTimesWeight(torch.autograd.Function):
    """``X @ W`` for a sparse batch ``X`` given as CSR pieces, with a fast gradient for ``W``.

    The product is ``embedding_bag`` in ``sum`` mode with per-sample weights (row i sums
    ``W[j] * x_ij`` over its non-zero columns j). Its own backward builds the dense gradient
    of the whole table through a sort of the indices (~5 ms a step on SMS spam); the
    gradient ``X^T @ grad`` is one ``index_add_`` over the batch's non-zeros (~0.5 ms),
    deterministic on CPU.
    """

    @staticmethod
    def forward(ctx, columns, offsets, rows, values, weight):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(columns, rows, values)
        ctx.weight_shape = weight.shape
        return F.embedding_bag(columns, weight, offsets, mode="sum", per_sample_weights=values)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        columns, rows, values = ctx.saved_tensors
        contributions = grad.index_select(0, rows) * values[:, None]
        grad_weight = grad.new_zeros(ctx.weight_shape).index_add_(0, columns, contributions)
        return None, None, None, None, grad_weight


class SparseLinearHead(nn.Module):
    """``logits = X @ W + b`` for sparse rows given as CSR pieces, without densifying ``X``.

    ``weight`` is (n_features, n_classes). The inputs are a batch's non-zeros: ``columns``
    and ``values``, ``rows`` (the batch row of each non-zero) and ``offsets`` (where each
    row starts), as ``sparse_batch`` makes them.
    """

    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_features, n_classes))
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, columns: torch.Tensor, offsets: torch.Tensor, rows: torch.Tensor,
                values: torch.Tensor) -> torch.Tensor:
        return _SparseTimesWeight.apply(columns, offsets, rows, values, self.weight) + self.bias


def sparse_batch(matrix: sp.csr_matrix) -> dict[str, torch.Tensor]:
    """The keyword inputs of ``SparseLinearHead`` for the rows of a CSR ``matrix``."""
    counts = np.diff(matrix.indptr)
    return {
        "columns": torch.from_numpy(matrix.indices.astype(np.int64)),
        "offsets": torch.from_numpy(matrix.indptr[:-1].astype(np.int64)),
        "rows": torch.from_numpy(np.repeat(np.arange(matrix.shape[0], dtype=np.int64), counts)),
        "values": torch.from_numpy(matrix.data.astype(np.float32, copy=False)),
    }


def init_head(head: DenseLinearHead | SparseLinearHead, initial_bias: np.ndarray | None) -> None:
    """Zero weights and the technique's initial bias (zero without one).

    With zero weights the untrained head predicts softmax(bias) for every text, so bias
    initialisation gives exactly the prior it was set to (``--epochs 0`` shows it); for a
    linear model on fixed features the zero start loses nothing (the loss is convex).
    """
    with torch.no_grad():
        weight = head.linear.weight if isinstance(head, DenseLinearHead) else head.weight
        weight.zero_()
        bias = head.bias
        bias.copy_(torch.as_tensor(initial_bias, dtype=bias.dtype) if initial_bias is not None else torch.zeros_like(bias))


@contextlib.contextmanager
def single_thread_on_cpu() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (restored after).

    A linear head's steps take well under a millisecond of arithmetic; OpenMP's thread
    synchronisation costs more than a second thread saves, and on a busy machine it can
    make a step 10x slower (re-measured on 2 busy cores: 0.9 s on one thread vs 4-22 s on two
    for the same SMS spam TF-IDF fit).
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
