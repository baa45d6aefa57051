"""Imbalance techniques as small, cited, composable parts.

A technique composes up to five parts: a sampling plan (:mod:`._sampling`), class weights
(:mod:`._weights`), a loss on logits (:mod:`._losses`), an output-bias initialiser
(:mod:`._bias_init`) and a post-hoc step fitted on validation (:mod:`._posthoc`). Each named
preset (:mod:`._presets`) is one builder function; specs (:mod:`._spec`) select and configure
them. Every technique also reports the effective prior it trains towards, so probabilities can
be mapped back to the real prior (:func:`correct_prior`, Saerens et al. 2002).
"""

from ._bias_init import prior_bias
from ._technique import FittedTechnique
from ._params import Param, Tune, format_value
from ._posthoc import PostHoc, fit_temperature, fit_threshold_offsets, logit_adjustment_offset
from ._presets import GROUPS, PRESETS, list_presets
from ..evaluation import class_prior, correct_prior, effective_prior
from ._sampling import (
    downsample_sizes,
    downsample_upweight_plan,
    draw_epoch,
    upsample_downweight_plan,
    upsample_sizes,
)
from ._samplers import SamplerSpec, check_search_rows, resample
from ._spec import given_params, parse_spec, parse_techniques, technique_from_config
from ._technique import Technique, check_unique
from ._weights import class_balanced_weights, inverse_frequency_weights, sqrt_inverse_frequency_weights

_LOSSES = ("balanced_softmax_loss", "binary_focal_loss", "cross_entropy", "focal_loss", "ldam_loss", "ldam_margins",
           "logit_adjusted_loss")


def __getattr__(name: str) -> object:
    # The losses need torch; load them on first use so that listing presets and parsing specs stay fast.
    if name in _LOSSES:
        from . import _losses

        return getattr(_losses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "SamplerSpec",
    "resample",
    "check_search_rows",
    "FittedTechnique",
    "GROUPS",
    "PRESETS",
    "Param",
    "PostHoc",
    "Technique",
    "Tune",
    "balanced_softmax_loss",
    "check_unique",
    "binary_focal_loss",
    "class_balanced_weights",
    "class_prior",
    "correct_prior",
    "cross_entropy",
    "downsample_sizes",
    "downsample_upweight_plan",
    "draw_epoch",
    "effective_prior",
    "fit_temperature",
    "fit_threshold_offsets",
    "focal_loss",
    "format_value",
    "given_params",
    "inverse_frequency_weights",
    "ldam_loss",
    "ldam_margins",
    "list_presets",
    "logit_adjusted_loss",
    "logit_adjustment_offset",
    "parse_spec",
    "parse_techniques",
    "prior_bias",
    "sqrt_inverse_frequency_weights",
    "technique_from_config",
    "upsample_downweight_plan",
    "upsample_sizes",
]
