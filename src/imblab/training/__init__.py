"""Training: the one loop all backends use (AdamW, warm-up + linear decay, clipping, Accelerate)."""

from ._batching import length_grouped_batches, shuffled_batches
from ._loop import LoopConfig, resolve_mixed_precision, seed_everything, train

__all__ = [
    "LoopConfig",
    "length_grouped_batches",
    "resolve_mixed_precision",
    "seed_everything",
    "shuffled_batches",
    "train",
]
