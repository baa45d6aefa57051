"""Output-bias initialisation from the class prior.

Karpathy (2019), "A Recipe for Training Neural Networks" ("init well": set the final layer's
bias so the initial outputs match the label distribution); Lin et al. (2017), "Focal Loss for
Dense Object Detection", §4.1 (prior initialisation b = −log((1 − π)/π) for a sigmoid).
For a softmax head, b_i = log π_i gives softmax(b) = π exactly (Σ π = 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..evaluation import normalise

__all__ = ["prior_bias"]


def prior_bias(prior: Sequence[float] | np.ndarray, logit_scale: float = 1.0) -> np.ndarray:
    """The output bias b with softmax(logit_scale · b) = prior: b_i = log π_i / logit_scale.

    Args:
        prior: (C,) the class distribution the loss trains towards (imblab passes the technique's
            effective prior; for bias-init alone that is the training prior n_i / N).
        logit_scale: a factor the loss applies to the logits (LDAM's s), 1 otherwise.

    Returns:
        (C,) float64 bias.
    """
    return np.log(normalise(prior)) / logit_scale
