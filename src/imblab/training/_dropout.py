"""Dropout on CPU with masks from a fast generator: the same Bernoulli dropout, about twice as cheap.

torch's CPU dropout draws every mask element with ``bernoulli_`` from its Mersenne Twister: 5.7 ns an element on
the development box (``benchmarks/dropout_masks.py``). A MiniLM fine-tuning step at batch 32 and ~60 tokens drops
~17 M elements (attention probabilities and hidden states): 15 % of a bf16 epoch (``profile_finetune.py``), work
that bf16 does not speed up. Here each mask is drawn as 16-bit integers by numpy's SFC64 generator (0.9 ns an
element) and compared with a threshold: an element is kept with probability ``k / 65536``,
``k = round((1 - p) · 65536)`` (within 7.7e-6 of ``1 - p``), and a kept one is scaled by ``65536 / k``, so the
expected output is the input, exactly. Dropout forward and backward: 1.7-2.1x faster.

:func:`fast_dropout` swaps, for one training run on CPU, every ``nn.Dropout`` of a model for one drawing from a
shared :class:`MaskSource`, and a Hugging Face model's attention for eager attention with that dropout (an
attention implementation registered with transformers' ``AttentionInterface``); in eval mode, or when the model
is not a Hugging Face one, nothing else changes. It restores the model as it found it when the run ends, so
what is saved is the stock model. The masks are a function of the run's seed alone: same seed, same numbers.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["MaskSource", "fast_dropout"]

_ATTENTION = "imblab_fast_dropout"
_LEVELS = 65536  # a mask element is a uniform 16-bit integer


class MaskSource:
    """Dropout masks from one numpy SFC64 stream seeded by ``seed``."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, 0x1D80])))

    @staticmethod
    def kept_share(p: float) -> float:
        """The probability an element is kept at dropout rate ``p`` (``1 - p`` to 16 bits)."""
        return round((1.0 - p) * _LEVELS) / _LEVELS

    def dropout(self, x: torch.Tensor, p: float) -> torch.Tensor:
        """``x`` with each element zeroed with probability ~``p`` and the rest scaled so the mean is kept."""
        kept = round((1.0 - p) * _LEVELS)
        if kept >= _LEVELS or x.numel() == 0:
            return x
        if kept <= 0:
            return x * 0
        draws = self.rng.integers(-_LEVELS // 2, _LEVELS // 2, size=x.numel(), dtype=np.int16)
        keep = torch.from_numpy(draws).view(x.shape).to(x.device) < kept - _LEVELS // 2
        # The scale is a Python float: torch multiplies a bf16 tensor by it in fp32 and rounds once, as its own
        # dropout does; a bf16 copy of 1/0.9 would be 0.16 % low and bias every kept element.
        return x.mul(keep).mul_(_LEVELS / kept)


class _Dropout(nn.Module):
    """``nn.Dropout(p)`` drawing its masks from a :class:`MaskSource`."""

    def __init__(self, p: float, source: MaskSource) -> None:
        super().__init__()
        self.source, self.p = source, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.source.dropout(x, self.p) if self.training and self.p > 0 else x


def _attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
               **_: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eager attention (transformers' ``eager_attention_forward``) with the module's run's dropout masks."""
    if key.shape[1] != query.shape[1]:  # grouped-query attention: each key/value head serves several queries
        key = key.repeat_interleave(query.shape[1] // key.shape[1], dim=1)
        value = value.repeat_interleave(query.shape[1] // value.shape[1], dim=1)
    scores = torch.matmul(query, key.transpose(2, 3)) * (query.size(-1) ** -0.5 if scaling is None else scaling)
    if attention_mask is not None:
        scores = scores + attention_mask[:, :, :, : key.shape[-2]]
    weights = nn.functional.softmax(scores, dim=-1)
    source = getattr(module, "_imblab_masks", None)
    if module.training and dropout > 0 and source is not None:
        weights = source.dropout(weights, dropout)
    out = torch.matmul(weights.to(value.dtype), value).transpose(1, 2).contiguous()
    return out, weights


@functools.cache
def _register() -> bool:
    """Register the attention with transformers (eager attention's mask); False without a recent transformers."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    except ImportError:
        return False
    AttentionInterface.register(_ATTENTION, _attention)
    AttentionMaskInterface.register(_ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["eager"])
    return True


def _swap_attention(model: nn.Module, source: MaskSource) -> str | None:
    """Point a Hugging Face model at :func:`_attention`; its previous implementation, or None if unchanged."""
    config = getattr(model, "config", None)
    previous = getattr(config, "_attn_implementation", None)
    # A model class whose attention does not go through AttentionInterface (DeBERTa-v2, say) keeps its own.
    if previous not in ("sdpa", "eager") or not getattr(model, "_supports_attention_backend", False) \
            or not hasattr(model, "set_attn_implementation") or not _register():
        return None
    try:
        model.set_attn_implementation(_ATTENTION)
    except (ValueError, TypeError):
        return None
    if getattr(config, "_attn_implementation", None) != _ATTENTION:
        return None
    for module in model.modules():
        module._imblab_masks = source  # type: ignore[assignment]
    return previous


@contextlib.contextmanager
def fast_dropout(model: nn.Module, seed: int) -> Iterator[MaskSource]:
    """Within the block, ``model`` (on CPU) draws its dropout masks from one :class:`MaskSource` seeded by
    ``seed``; the model is restored as it was when the block ends, however it ends."""
    source = MaskSource(seed)
    swapped: list[tuple[nn.Module, str, nn.Dropout]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, _Dropout(child.p, source).train(child.training))
                swapped.append((parent, name, child))
    previous = _swap_attention(model, source)
    try:
        yield source
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
        if previous is not None:
            model.set_attn_implementation(previous)
            for module in model.modules():
                module.__dict__.pop("_imblab_masks", None)
