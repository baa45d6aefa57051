"""The precision a transformer computes in: ``--mixed-precision auto|bf16|no`` (Accelerate's name and values).

``auto`` is bf16 where the hardware computes it natively — a CUDA GPU that supports it, or a CPU with AVX512-BF16
or AMX (torch's oneDNN kernels then run bf16 matmuls at about twice fp32's rate) — and ``no`` elsewhere, where
bf16 would be emulated and slower. bf16 enters through ``torch.autocast`` only: weights, optimiser state, the
loss and softmax stay fp32 (the loop casts logits to fp32 before the loss). It applies to fine-tuning, to the
frozen and hybrid backends' embeddings (their cache key includes it) and to predicting with a fine-tuned model.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch

__all__ = ["PRECISIONS", "autocast", "cast_linears_to_bf16", "cpu_has_bf16", "resolve_mixed_precision"]

PRECISIONS = ("auto", "bf16", "no")


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX tiles), as torch sees it."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_mixed_precision(requested: str | None, device: str | None = None) -> str:
    """``auto`` (or None) → ``bf16`` on a CUDA GPU with bf16, or on a CPU with AVX512-BF16/AMX when no CUDA GPU
    is used; else ``no``. ``bf16`` and ``no`` are kept.

    Args:
        requested: ``auto``, ``bf16``, ``no`` or None (``auto``).
        device: ``cuda`` or ``cpu``: the device the model runs on (default: CUDA when present).
    """
    requested = requested or "auto"
    if requested not in PRECISIONS:
        raise ValueError(f"mixed_precision must be 'auto', 'bf16' or 'no', not {requested!r}")
    if requested != "auto":
        return requested
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "no"
    return "bf16" if cpu_has_bf16() else "no"


@contextlib.contextmanager
def autocast(precision: str, device: torch.device | str) -> Iterator[None]:
    """``torch.autocast`` to bf16 on ``device`` when ``precision`` is ``bf16`` (resolved), else nothing."""
    kind = torch.device(device).type
    with torch.autocast(kind, dtype=torch.bfloat16, enabled=precision == "bf16" and kind in ("cpu", "cuda")):
        yield


def cast_linears_to_bf16(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with every ``nn.Linear``'s weight and bias stored in bf16, in place; for inference under
    :func:`autocast` only (train on the fp32 master weights).

    Under autocast a bf16 matrix product casts its fp32 weight on every call, outside training too: on this CPU a
    copy of every weight per forward pass, 23 % of a MiniLM inference pass (``aten::copy_``, torch profiler). A
    weight already in bf16 is used as it is. The numbers are bit-identical to autocast's (the same cast, done
    once); embeddings, layer norms and everything autocast keeps in fp32 stay fp32.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(torch.bfloat16)
    return model
