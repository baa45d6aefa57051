"""Training: the one loop all backends use (AdamW, warm-up + linear decay, clipping, Accelerate)."""

from ._batching import length_grouped_batches, shuffled_batches, weight_scale
from ._loop import LoopConfig, resolve_mixed_precision, seed_everything, train

__all__ = [
    "LoopConfig",
    "length_grouped_batches",
    "weight_scale",
    "resolve_mixed_precision",
    "seed_everything",
    "shuffled_batches",
    "train",
]
