"""A word-embedding gradient kept between steps on CPU, so that a training step does not fault 47 MB of fresh pages.

The gradient of an ``nn.Embedding`` is dense: every step, autograd allocates a zeroed (vocabulary × width)
tensor and adds the batch's rows into it; MiniLM's is 30,522 × 384 floats, 47 MB. An allocation that size is
above glibc's largest mmap threshold (32 MB), so unless the heap happens to hold a free chunk that large, each
step maps new pages and the zero fill faults every one of them in: 29 ms a step in a bf16 MiniLM epoch, 12 % of
it, where fp32's larger freed activations usually leave such a chunk (6 ms). (tcmalloc or jemalloc would reuse the
memory; imblab cannot choose the user's allocator.)

:func:`reused_embedding_grads` swaps, for one training run on CPU, each plain ``nn.Embedding`` with at least
``min_rows`` rows for one whose backward adds the batch's rows (``index_add_``) straight into ``weight.grad``,
a buffer kept across steps: when the optimiser's ``zero_grad`` has let go of it, the buffer is handed out again
with only the rows written since zeroed. The gradient is the same (the padding row's stays zero, as
``padding_idx`` requires) and gradients still accumulate over several backward passes; the weight is the same
parameter, so the optimiser and a tied output layer see no change; the model is restored when the run ends.
Autograd's gradient hooks on the weight do not fire (the backward hands autograd no gradient for it), so the loop
uses this in one process only, not under DDP, whose hooks all-reduce the gradients.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

__all__ = ["reused_embedding_grads"]


class _Buffer:
    """The kept gradient of one embedding matrix and the rows written since it was last handed out clean."""

    def __init__(self, weight: nn.Parameter, padding_idx: int | None) -> None:
        self.grad = torch.zeros_like(weight)
        self.padding_idx = padding_idx
        self.rows: list[torch.Tensor] = []

    def accumulate(self, weight: nn.Parameter, ids: torch.Tensor, grad_out: torch.Tensor) -> None:
        """Add this backward's gradient to ``weight.grad``, as autograd would, without a fresh dense tensor."""
        ids, grad_out = ids.reshape(-1), grad_out.reshape(-1, grad_out.shape[-1]).to(self.grad.dtype)
        if self.padding_idx is not None:
            keep = ids != self.padding_idx
            ids, grad_out = ids[keep], grad_out[keep]
        if weight.grad is None:  # the optimiser's zero_grad let go of it: hand the buffer out again, clean
            for rows in self.rows:  # clipping may have scaled them, so all written rows are zeroed
                self.grad.index_fill_(0, rows, 0.0)
            self.rows = []
            weight.grad = self.grad
        weight.grad.index_add_(0, ids, grad_out)
        if weight.grad is self.grad:
            self.rows.append(ids.unique())


class _Lookup(torch.autograd.Function):
    """The lookup; its backward adds into the kept buffer itself and hands autograd nothing for the weight."""

    @staticmethod
    def forward(ctx: Any, ids: torch.Tensor, weight: torch.Tensor, owner: _Embedding) -> torch.Tensor:
        ctx.save_for_backward(ids)
        ctx.owner = owner
        return nn.functional.embedding(ids, weight, owner.padding_idx)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[None, None, None]:
        (ids,) = ctx.saved_tensors
        ctx.owner.buffer.accumulate(ctx.owner.weight, ids, grad_out)
        return None, None, None


class _Embedding(nn.Module):
    """``original``'s lookup with a kept gradient buffer; ``weight`` is ``original``'s parameter itself."""

    def __init__(self, original: nn.Embedding) -> None:
        super().__init__()
        self.weight = original.weight
        self.padding_idx, self.embedding_dim = original.padding_idx, original.embedding_dim
        self.num_embeddings = original.num_embeddings
        self.buffer = _Buffer(original.weight, original.padding_idx)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not (torch.is_grad_enabled() and self.weight.requires_grad):
            return nn.functional.embedding(ids, self.weight, self.padding_idx)
        return _Lookup.apply(ids, self.weight, self)


def _plain(module: nn.Module, min_rows: int) -> bool:
    return (type(module) is nn.Embedding and module.num_embeddings >= min_rows and module.max_norm is None
            and not module.scale_grad_by_freq and not module.sparse and module.weight.requires_grad)


@contextlib.contextmanager
def reused_embedding_grads(model: nn.Module, min_rows: int = 4096) -> Iterator[int]:
    """Within the block, ``model``'s large plain embeddings keep their gradient buffer between steps; yields how
    many were swapped. The model is restored when the block ends, however it ends."""
    swapped: list[tuple[nn.Module, str, nn.Embedding]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if _plain(child, min_rows):
                setattr(parent, name, _Embedding(child))
                swapped.append((parent, name, child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
