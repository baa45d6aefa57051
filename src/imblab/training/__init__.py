"""Training: the one loop all backends use (AdamW, warm-up + linear decay, clipping, Accelerate), and its callbacks."""

from ._batching import length_grouped_batches, shuffled_batches, weight_scale
from ._loop import (
    Batches,
    Callback,
    EarlyStopping,
    EpochListener,
    LoopConfig,
    Loss,
    Objective,
    Validation,
    seed_everything,
    train,
)
from ._dropout import fast_dropout
from ._precision import PRECISIONS, autocast, cast_linears_to_bf16, cpu_has_bf16, resolve_mixed_precision

__all__ = [
    "PRECISIONS",
    "autocast",
    "cast_linears_to_bf16",
    "cpu_has_bf16",
    "fast_dropout",
    "Batches",
    "Callback",
    "EarlyStopping",
    "EpochListener",
    "LoopConfig",
    "Loss",
    "Objective",
    "Validation",
    "length_grouped_batches",
    "weight_scale",
    "resolve_mixed_precision",
    "seed_everything",
    "shuffled_batches",
    "train",
]
