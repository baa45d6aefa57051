"""The parts of a technique, composed for one training split: what a preset builds and a fitted technique uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["LossFn", "Parts"]

LossFn = Callable[["torch.Tensor", "torch.Tensor", float], "torch.Tensor"]
"""loss(logits (B, C), targets (B,), progress in [0, 1]) -> scalar."""


@dataclass(frozen=True, eq=False)
class Parts:
    """A technique's parts for given training class counts.

    A preset's builder returns the training-time parts (loss, sampling, class weights, prior shift);
    :meth:`~imblab.techniques._presets.Preset.compose` adds the output-bias initialisation and the
    post-hoc step, which every preset shares.

    Attributes:
        loss: the loss function (already bound to its class weights / margins / prior).
        sample_sizes: rows per class in one epoch, or None to use every row once.
        class_weights: the loss's class weights (for the effective prior), or None.
        prior_factor: any further prior shift of the loss (e.g. π^(−τ)), or None.
        logit_scale: the factor the loss applies to the logits (LDAM's s), 1 otherwise.
        weights_from: share of training from which ``class_weights`` weigh the loss (LDAM's
            deferred re-weighting starts late); 0 for the whole run.
        bias_init: initialise the output bias to the log of the prior the loss trains towards.
        posthoc: the post-hoc step fitted on validation: "none", "threshold", "temperature" or
            "logit-adjusted-posthoc".
        posthoc_params: its parameters (``recall``/``precision``/``label`` or ``tau``).
        sampler: an imbalanced-learn sampler of the training rows' feature vectors (:mod:`._samplers`), or None;
            only the backends with fixed features run it.
    """

    loss: LossFn
    sample_sizes: np.ndarray | None = None
    class_weights: np.ndarray | None = None
    prior_factor: np.ndarray | None = None
    logit_scale: float = 1.0
    weights_from: float = 0.0
    bias_init: bool = False
    posthoc: str = "none"
    posthoc_params: Mapping[str, Any] = field(default_factory=dict)
    sampler: Any = None  # _samplers.SamplerSpec
