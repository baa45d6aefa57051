"""The named presets: each is one small builder function composing the parts, with its metadata.

A preset's builder gets the resolved parameters and the training class counts and returns the
training-time :class:`~._parts.Parts` (loss, sampling, class weights, prior shift); ``@preset(...)``
registers it with its metadata. Bias init and the post-hoc step are common to all presets and added
by :meth:`Preset.compose`.

Composition keys every loss-based preset accepts (see ``imblab techniques``):
  * ``bias_init=true``  — initialise the output bias to log of the prior the loss trains towards;
  * ``weights=SCHEME`` or ``LABEL=WEIGHT`` — class weights (presets without their own weighting);
  * ``posthoc=threshold|temperature|logit-adjusted-posthoc`` — a post-hoc step fitted on validation,
    with ``recall``/``precision``/``label`` (threshold) or ``tau`` (logit-adjusted-posthoc).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..data import minority_index
from ..errors import SpecError
from ._parts import LossFn, Parts
from ._params import Param, Tune, format_value
from ._posthoc import POSTHOC_KINDS
from ..evaluation import class_prior
from ._sampling import downsample_sizes, downsample_upweight_plan, upsample_downweight_plan, upsample_sizes
from ._weights import WEIGHT_SCHEMES, class_balanced_weights, label_weights, scheme_weights

__all__ = ["Preset", "PRESETS", "GROUPS", "list_presets", "get_preset", "preset"]

SCHEMES = tuple(WEIGHT_SCHEMES)


@dataclass(frozen=True)
class Context:
    """What a builder knows about the training split."""

    counts: np.ndarray
    labels: list[str]

    @property
    def prior(self) -> np.ndarray:
        return class_prior(self.counts)

    @property
    def minority(self) -> int:
        return minority_index(self.counts, ties="last")

    def weights(self, value: str | Mapping[str, float], default_scheme: str = "none") -> np.ndarray | None:
        """Class weights from a ``weights`` value; None for no weighting (plain mean)."""
        if value == "none":
            return None
        return label_weights(value, self.counts, self.labels, default_scheme)

    def alpha(self, value: Any) -> np.ndarray | None:
        """Focal α as a per-class vector: a float is the minority class's weight (1 − α the other)."""
        if value is None:
            return None
        if isinstance(value, float):
            vec = np.full(len(self.labels), 1.0 - value)
            vec[self.minority] = value
            return vec
        if isinstance(value, str):
            return None if value == "none" else scheme_weights(value, self.counts)
        return label_weights(value, self.counts, self.labels, "none")


# Builders import the losses (and so torch) when a technique is fitted, not when presets are listed
# or specs parsed: `imblab techniques` and spec errors stay fast.
def _ce(weight: np.ndarray | None) -> LossFn:
    from ._losses import cross_entropy

    def loss(logits: Any, targets: Any, progress: float) -> Any:
        return cross_entropy(logits, targets, weight)
    return loss


# ------------------------------------------------------------------------------------------ params
def _p(name: str, default: Any, kind: str, help: str, **kw: Any) -> Param:
    return Param(name=name, default=default, kind=kind, help=help, **kw)


WEIGHTS_NONE = _p("weights", "none", "weights", "class weights on the loss: a scheme, or LABEL=WEIGHT (others keep 1)",
                  choices=SCHEMES)
BIAS_INIT = _p("bias_init", False, "bool", "initialise the output bias to log of the prior the loss trains towards")
THRESHOLD_PARAMS = (
    _p("recall", None, "target", "tune the threshold so that the recall of `label` is at least this; none: macro-F1"),
    _p("precision", None, "target", "tune for the best recall with the precision of `label` at least this"),
    _p("label", None, "label", "the label a recall/precision target (or the binary threshold) applies to"),
)
TAU_POSTHOC = _p("tau", 1.0, "float", "post-hoc logit adjustment strength τ: logits − τ log π", low=0.0,
                 tune=Tune(0.0, 2.0))

# Tuning ranges (imblab tune): where a search is worth its trials, inside each parameter's validation bounds.
TUNE_FACTOR = Tune(1.0, 20.0, "log")
TUNE_RATIO = Tune(0.05, 1.0)
TUNE_GAMMA = Tune(0.0, 5.0)
TUNE_BETA = Tune(1e-5, 0.1, "log1m")  # β in [0.9, 0.99999]: the effective number's scale is 1 / (1 − β)
TUNE_WEIGHTS = Tune(0.1, 100.0, "log")  # per label, the largest class fixed at 1


def _posthoc_param(choices: tuple[str, ...]) -> tuple[Param, ...]:
    """``posthoc`` plus the parameters of each post-hoc kind, conditional on it."""
    out = [_p("posthoc", "none", "choice", "a post-hoc step fitted on validation", choices=choices)]
    if "threshold" in choices:
        out += [Param(**{**q.__dict__, "requires": ("posthoc", "threshold")}) for q in THRESHOLD_PARAMS]
    if "logit-adjusted-posthoc" in choices:
        out.append(Param(**{**TAU_POSTHOC.__dict__, "requires": ("posthoc", "logit-adjusted-posthoc")}))
    return tuple(out)


ALL_POSTHOC = _posthoc_param(POSTHOC_KINDS)
NO_LA_POSTHOC = _posthoc_param(("none", "threshold", "temperature"))


# ----------------------------------------------------------------------------------------- presets
Builder = Callable[[dict[str, Any], Context], Parts]


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A named technique: builder, parameters, metadata.

    ``label_param``: the parameter that ``LABEL=VALUE`` keys of a spec set (per-label weights).
    ``posthoc``: a fixed post-hoc kind, or None when the ``posthoc`` parameter chooses it.
    """

    name: str
    description: str
    citation: str | None
    parts: tuple[str, ...]
    loss: str
    build: Builder
    params: tuple[Param, ...]
    label_param: str | None = None
    posthoc: str | None = None
    always_bias_init: bool = False
    feature_space: bool = False  # resamples feature vectors: the backends with fixed features only
    notes: str = ""
    example: str = ""
    param_index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {q.name: q for q in self.params})

    # ------------------------------------------------------------------ validation
    def resolve(self, raw: Mapping[str, Any], labels: Sequence[str] | None) -> dict[str, Any]:
        """Validate user parameters and fill in defaults (SpecError listing what is allowed).

        Keys of ``raw`` are parameter names or, for presets with a ``label_param``, label names.
        """
        raw = {str(k).strip(): v for k, v in raw.items()}
        label_entries: dict[str, Any] = {}
        given: dict[str, Any] = {}
        for key, value in raw.items():
            if key in self.param_index:
                given[key] = value
            elif self.label_param is not None and (labels is None or key in labels) and key:
                label_entries[key] = value
            else:
                raise self._unknown(key, labels)
        out: dict[str, Any] = {}
        for q in self.params:  # params are declared before those that require them
            if q.requires is not None and out.get(q.requires[0], self._fixed(q.requires[0])) != q.requires[1]:
                if q.name in given:
                    raise SpecError(f"parameter '{q.name}' of '{self.name}' needs {q.requires[0]}={q.requires[1]}")
                continue
            out[q.name] = q.coerce(given[q.name], self.name, labels) if q.name in given else q.default
        if label_entries:
            q = self.param_index[self.label_param]
            if self.label_param in given and not isinstance(out[self.label_param], Mapping):
                raise SpecError(f"'{self.name}': give either {self.label_param}={format_value(out[self.label_param])} "
                                f"or per-label weights ({', '.join(label_entries)}), not both")
            merged = dict(out[self.label_param]) if isinstance(out[self.label_param], Mapping) else {}
            merged.update({k: q.coerce_weight(v, self.name, k) for k, v in label_entries.items()})
            out[self.label_param] = merged
        if self.label_param is not None and isinstance(out[self.label_param], Mapping) and labels is not None:
            out[self.label_param] = {lab: out[self.label_param][lab] for lab in labels if lab in out[self.label_param]}
        if out.get("recall") is not None and out.get("precision") is not None:
            raise SpecError(f"'{self.name}': give a recall or a precision target, not both")
        return out

    def _fixed(self, name: str) -> Any:
        return self.posthoc if name == "posthoc" else None

    def _unknown(self, key: str, labels: Sequence[str] | None) -> SpecError:
        allowed = ", ".join(self.param_index)
        hint = difflib.get_close_matches(key, list(self.param_index) + list(labels or []), n=1)
        if self.label_param is not None and labels is not None:
            msg = (f"unknown label or parameter '{key}' for '{self.name}'; labels (LABEL=WEIGHT): {', '.join(labels)}; "
                   f"parameters: {allowed}")
        else:
            msg = f"unknown parameter '{key}' for '{self.name}'; parameters: {allowed or '(none)'}"
        if hint:
            msg += f" (did you mean '{hint[0]}'?)"
        return SpecError(msg)

    # ------------------------------------------------------------------ fitting
    def compose(self, params: dict[str, Any], class_counts: np.ndarray, labels: Sequence[str]) -> Parts:
        """All parts for these resolved parameters and training counts: the builder's, bias init and post-hoc."""
        ctx = Context(counts=np.asarray(class_counts, dtype=np.int64), labels=list(labels))
        kind = self.posthoc or params.get("posthoc", "none")
        posthoc_params = {k: params[k] for k in ("recall", "precision", "label") if k in params}
        if kind == "logit-adjusted-posthoc":
            posthoc_params["tau"] = params["tau"]
        return replace(self.build(params, ctx), bias_init=self.always_bias_init or bool(params.get("bias_init", False)),
                       posthoc=kind, posthoc_params=posthoc_params)

    def describe(self) -> dict[str, Any]:
        """The preset's entry in ``imblab techniques --json``."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [
                {"name": q.name, "default": q.default, "type": q.type_text(), "help": q.help,
                 "when": None if q.requires is None else f"{q.requires[0]}={q.requires[1]}",
                 "tune": None if q.tune is None else q.tune.describe()}
                for q in self.params
            ],
            "citation": self.citation,
            "parts": list(self.parts),
            "optional_parts": [part for part, present in (("class-weights", self.label_param is not None),
                                                          ("bias-init", "bias_init" in self.param_index),
                                                          ("post-hoc", "posthoc" in self.param_index)) if present],
            "loss": self.loss,
            "per_label_parameter": self.label_param,
            "notes": self.notes,
            "example": self.example or self.name,
            "tunable": bool(self.tuned_by_default()),
            "backends": "fixed features (tfidf, frozen, hybrid)" if self.feature_space else "all",
            "group": "sampling" if self.feature_space else "loss",
        }

    def tuned_by_default(self) -> list[str]:
        """The parameters ``imblab tune`` searches when a spec fixes none: those with a tuning range whose
        condition, if any, is itself searched (``tau`` of ``posthoc=logit-adjusted-posthoc`` is searched only
        when a spec chooses that post-hoc step)."""
        return [q.name for q in self.params if q.tune is not None
                and (q.requires is None or self.param_index[q.requires[0]].tune is not None)]


_PRESETS: list[Preset] = []


def preset(**metadata: Any) -> Callable[[Builder], Builder]:
    """Register a builder as a preset with keyword-only metadata (the fields of :class:`Preset`).

    The builder is returned unchanged, so one builder can serve several presets.
    """

    def register(build: Builder) -> Builder:
        _PRESETS.append(Preset(build=build, **metadata))
        return build

    return register


GOOGLE_MLCC = "Google Machine Learning Crash Course, \"Imbalanced datasets\" (downsampling and upweighting)"
IMBLEARN = "Lemaître, Nogueira & Aridas 2017, \"Imbalanced-learn\", JMLR 18(17) ({})"
LIN = "Lin, Goyal, Girshick, He & Dollár 2017, \"Focal Loss for Dense Object Detection\", ICCV"
MENON = "Menon, Jayasumana, Rawat, Jain, Veit & Kumar 2021, \"Long-tail learning via logit adjustment\", ICLR"



# ----------------------------------------------------------------------------------------- presets
@preset(
    name="baseline", description="cross-entropy, no imbalance handling", citation=None, parts=("loss",),
    loss="cross-entropy", params=(WEIGHTS_NONE, BIAS_INIT, *ALL_POSTHOC), label_param="weights",
    example="baseline:posthoc=threshold",
)
def baseline(p: dict[str, Any], ctx: Context) -> Parts:
    """Cross-entropy, optionally class-weighted."""
    w = ctx.weights(p["weights"])
    return Parts(loss=_ce(w), class_weights=w)


@preset(
    name="bias-init",
    description="cross-entropy with the output bias set to log(n_i / N), so softmax at init = class prior",
    citation="Karpathy 2019, \"A Recipe for Training Neural Networks\"; " + LIN + " (prior initialisation)",
    parts=("loss", "bias-init"), loss="cross-entropy", params=(WEIGHTS_NONE, *ALL_POSTHOC), label_param="weights",
    always_bias_init=True, example="bias-init:posthoc=temperature",
)
def bias_init(p: dict[str, Any], ctx: Context) -> Parts:
    """Cross-entropy; the output bias starts at log π (added by Preset.compose)."""
    return baseline(p, ctx)


@preset(
    name="downsample-upweight",
    description="keep 1/factor of every class larger than the smallest (never below it), weight kept rows by the "
                "factor",
    citation=GOOGLE_MLCC, parts=("sampling", "class-weights", "loss"), loss="cross-entropy",
    params=(_p("factor", 2.0, "float", "downsampling factor; the weight is n_i / n'_i (the factor up to rounding)",
               low=1.0, tune=TUNE_FACTOR), BIAS_INIT, *ALL_POSTHOC),
    notes="n'_i · w_i = n_i, so the effective prior is the true prior", example="downsample-upweight:factor=4",
)
def downsample_upweight(p: dict[str, Any], ctx: Context) -> Parts:
    """Keep 1/factor of each larger class, weight the kept rows by n_i / n'_i."""
    sizes, w = downsample_upweight_plan(ctx.counts, p["factor"])
    return Parts(loss=_ce(w), sample_sizes=sizes, class_weights=w)


@preset(
    name="upsample-downweight",
    description="repeat every class smaller than the largest factor times (never above it), weight copies by 1/factor",
    citation=GOOGLE_MLCC, parts=("sampling", "class-weights", "loss"), loss="cross-entropy",
    params=(_p("factor", 2.0, "float", "upsampling factor; the weight is n_i / n'_i (1/factor up to rounding)",
               low=1.0, tune=TUNE_FACTOR), BIAS_INIT, *ALL_POSTHOC),
    notes="n'_i · w_i = n_i, so the effective prior is the true prior", example="upsample-downweight:factor=4",
)
def upsample_downweight(p: dict[str, Any], ctx: Context) -> Parts:
    """Repeat each smaller class factor times, weight the copies by n_i / n'_i."""
    sizes, w = upsample_downweight_plan(ctx.counts, p["factor"])
    return Parts(loss=_ce(w), sample_sizes=sizes, class_weights=w)


@preset(
    name="downsample", description="random undersampling to `ratio` (1 = balanced), no compensating weight",
    citation=IMBLEARN.format("RandomUnderSampler"), parts=("sampling", "loss"), loss="cross-entropy",
    params=(_p("ratio", 1.0, "float", "smallest class / every other class after resampling (1 = balanced)",
               low=0.0, high=1.0, low_open=True, tune=TUNE_RATIO), WEIGHTS_NONE, BIAS_INIT, *ALL_POSTHOC),
    label_param="weights", example="downsample:ratio=0.5",
)
def downsample(p: dict[str, Any], ctx: Context) -> Parts:
    """Random undersampling to ``ratio``, no compensating weight."""
    w = ctx.weights(p["weights"])
    return Parts(loss=_ce(w), sample_sizes=downsample_sizes(ctx.counts, p["ratio"]), class_weights=w)


@preset(
    name="upsample", description="random oversampling to `ratio` (1 = balanced), no compensating weight",
    citation=IMBLEARN.format("RandomOverSampler"), parts=("sampling", "loss"), loss="cross-entropy",
    params=(_p("ratio", 1.0, "float", "every class grows to at least ratio × the largest class (1 = balanced)",
               low=0.0, high=1.0, low_open=True, tune=TUNE_RATIO), WEIGHTS_NONE, BIAS_INIT, *ALL_POSTHOC),
    label_param="weights", example="upsample:ratio=0.5",
)
def upsample(p: dict[str, Any], ctx: Context) -> Parts:
    """Random oversampling to ``ratio``, no compensating weight."""
    w = ctx.weights(p["weights"])
    return Parts(loss=_ce(w), sample_sizes=upsample_sizes(ctx.counts, p["ratio"]), class_weights=w)


@preset(
    name="focal", description="focal loss −α_t (1 − p_t)^γ log p_t, softmax multiclass form", citation=LIN,
    parts=("loss",), loss="focal",
    params=(_p("gamma", 2.0, "float", "focusing parameter γ (0 = cross-entropy)", low=0.0, tune=TUNE_GAMMA),
            _p("alpha", None, "alpha", "class weighting α (none: no class preference)", choices=SCHEMES[1:],
               tune=Tune(0.1, 100.0, "log", binary=(0.05, 0.95))),
            BIAS_INIT, *ALL_POSTHOC),
    label_param="alpha",
    notes="effective prior: true prior × α; γ changes confidence, not the prior (approximation)",
    example="focal:gamma=2,alpha=0.25",
)
def focal(p: dict[str, Any], ctx: Context) -> Parts:
    """Softmax focal loss. Effective prior: true prior × α (γ reshapes confidence, not the prior)."""
    from ._losses import focal_loss

    alpha = ctx.alpha(p["alpha"])
    gamma = p["gamma"]

    def loss(logits: Any, targets: Any, progress: float) -> Any:
        return focal_loss(logits, targets, gamma=gamma, alpha=alpha)
    return Parts(loss=loss, class_weights=alpha)


@preset(
    name="weighted", description="weighted cross-entropy; default inverse class frequency N / (c · n_i)",
    citation="King & Zeng 2001, \"Logistic Regression in Rare Events Data\", Political Analysis; "
             "scikit-learn class_weight=\"balanced\"",
    parts=("class-weights", "loss"), loss="cross-entropy",
    params=(_p("weights", "inverse-frequency", "weights",
               "a scheme, or LABEL=WEIGHT (labels not named keep their inverse-frequency weight)", choices=SCHEMES,
               tune=TUNE_WEIGHTS),
            BIAS_INIT, *ALL_POSTHOC),
    label_param="weights", example="weighted:spam=10",
)
def weighted(p: dict[str, Any], ctx: Context) -> Parts:
    """Weighted cross-entropy; labels not named keep their inverse-frequency weight."""
    w = ctx.weights(p["weights"], default_scheme="inverse-frequency")
    return Parts(loss=_ce(w), class_weights=w)


@preset(
    name="class-balanced",
    description="loss weighted by (1 − β) / (1 − β^n_i), normalised to sum to the class count",
    citation="Cui, Jia, Lin, Song & Belongie 2019, \"Class-Balanced Loss Based on Effective Number of Samples\", CVPR",
    parts=("class-weights", "loss"), loss="cross-entropy or focal",
    params=(_p("beta", 0.999, "float", "β of the effective number (1 − β^n) / (1 − β)", low=0.0, high=1.0,
               high_open=True, tune=TUNE_BETA),
            _p("loss", "ce", "choice", "the weighted loss", choices=("ce", "focal"), tune=Tune(choices=("ce", "focal"))),
            _p("gamma", 2.0, "float", "focal γ (with loss=focal)", low=0.0, requires=("loss", "focal"),
               tune=TUNE_GAMMA),
            BIAS_INIT, *ALL_POSTHOC),
    example="class-balanced:beta=0.9999,loss=focal",
)
def class_balanced(p: dict[str, Any], ctx: Context) -> Parts:
    """Cross-entropy or focal loss weighted by (1 − β) / (1 − β^n), normalised to sum to C."""
    from ._losses import focal_loss

    w = class_balanced_weights(ctx.counts, p["beta"])
    if p["loss"] == "focal":
        gamma = p["gamma"]

        def loss(logits: Any, targets: Any, progress: float) -> Any:
            return focal_loss(logits, targets, gamma=gamma, alpha=w)
        return Parts(loss=loss, class_weights=w)
    return Parts(loss=_ce(w), class_weights=w)


@preset(
    name="logit-adjusted", description="cross-entropy on f_y + τ log π_y", citation=MENON, parts=("loss",),
    loss="logit-adjusted cross-entropy",
    params=(_p("tau", 1.0, "float", "adjustment strength τ (0 = cross-entropy)", low=0.0, tune=Tune(0.0, 2.0)),
            BIAS_INIT, *NO_LA_POSTHOC),
    notes="effective prior ∝ π^(1−τ)", example="logit-adjusted:tau=1.5",
)
def logit_adjusted(p: dict[str, Any], ctx: Context) -> Parts:
    """CE on f + τ log π; the model's softmax is calibrated to π^(1−τ)."""
    from ._losses import logit_adjusted_loss

    prior, tau = ctx.prior, p["tau"]

    def loss(logits: Any, targets: Any, progress: float) -> Any:
        return logit_adjusted_loss(logits, targets, prior, tau)
    return Parts(loss=loss, prior_factor=prior ** (-tau))


@preset(
    name="balanced-softmax", description="cross-entropy on f_y + log n_y",
    citation="Ren, Yu, Ma, Zhao, Yi & Li 2020, \"Balanced Meta-Softmax for Long-Tailed Visual Recognition\", NeurIPS",
    parts=("loss",), loss="balanced softmax", params=(BIAS_INIT, *NO_LA_POSTHOC), notes="effective prior: uniform",
    example="balanced-softmax:posthoc=temperature",
)
def balanced_softmax(p: dict[str, Any], ctx: Context) -> Parts:
    """CE on f + log n; the model's softmax is calibrated to the uniform prior."""
    from ._losses import balanced_softmax_loss

    counts = ctx.counts

    def loss(logits: Any, targets: Any, progress: float) -> Any:
        return balanced_softmax_loss(logits, targets, counts)
    return Parts(loss=loss, prior_factor=1.0 / ctx.prior)


@preset(
    name="ldam-drw",
    description="label-distribution-aware margins ∝ n^(−1/4); class-balanced re-weighting from drw_start on",
    citation="Cao, Wei, Gaidon, Arechiga & Ma 2019, \"Learning Imbalanced Datasets with Label-Distribution-Aware "
             "Margin Loss\", NeurIPS",
    parts=("class-weights", "loss"), loss="LDAM",
    params=(_p("max_margin", 0.5, "float", "margin of the rarest class", low=0.0, low_open=True,
               tune=Tune(0.05, 1.0)),
            _p("scale", 30.0, "float", "logit scale s (the model's probabilities are softmax(s · f))", low=0.0,
               low_open=True, tune=Tune(1.0, 50.0, "log")),
            _p("drw_start", 0.8, "float", "share of training after which class-balanced weights switch on",
               low=0.0, high=1.0, tune=Tune(0.0, 1.0)),
            _p("beta", 0.9999, "float", "β of the deferred class-balanced weights", low=0.0, high=1.0, high_open=True,
               tune=TUNE_BETA),
            BIAS_INIT, *ALL_POSTHOC),
    notes="effective prior: true prior × the final class-balanced weights (margins not modelled)",
    example="ldam-drw:scale=10,drw_start=0.6",
)
def ldam_drw(p: dict[str, Any], ctx: Context) -> Parts:
    """LDAM margins ∝ n^(−1/4); class-balanced weights from ``drw_start`` of training on.

    Effective prior: true prior × the class-balanced weights active at the end of training (the
    margins' own shift towards rare classes depends on the logit scale and is not modelled).
    """
    from ._losses import ldam_loss, ldam_margins

    margins = ldam_margins(ctx.counts, p["max_margin"])
    weights = class_balanced_weights(ctx.counts, p["beta"])
    scale, start = p["scale"], p["drw_start"]

    def loss(logits: Any, targets: Any, progress: float) -> Any:
        return ldam_loss(logits, targets, margins, scale, weights if progress >= start else None)
    return Parts(loss=loss, class_weights=weights, logit_scale=scale, weights_from=start)


# Post-hoc presets: the baseline's training, then a fixed post-hoc step.
preset(
    name="threshold",
    description="cross-entropy, then per-class decision thresholds tuned on validation (macro-F1 or a target)",
    citation="Elkan 2001, \"The Foundations of Cost-Sensitive Learning\", IJCAI; "
             "scikit-learn TunedThresholdClassifierCV",
    parts=("loss", "post-hoc"), loss="cross-entropy", params=(*THRESHOLD_PARAMS, WEIGHTS_NONE, BIAS_INIT),
    label_param="weights", posthoc="threshold",
    notes="changes decisions only; probabilities are those of the trained model",
    example="threshold:recall=0.95,label=spam",
)(baseline)
preset(
    name="logit-adjusted-posthoc", description="cross-entropy, then subtract τ log π from the logits", citation=MENON,
    parts=("loss", "post-hoc"), loss="cross-entropy", params=(TAU_POSTHOC, WEIGHTS_NONE, BIAS_INIT),
    label_param="weights", posthoc="logit-adjusted-posthoc", notes="effective prior ∝ π^(1−τ)",
    example="logit-adjusted-posthoc:tau=0.5",
)(baseline)
preset(
    name="temperature", description="cross-entropy, then one temperature fitted on the validation NLL",
    citation="Guo, Pleiss, Sun & Weinberger 2017, \"On Calibration of Modern Neural Networks\", ICML",
    parts=("loss", "post-hoc"), loss="cross-entropy", params=(WEIGHTS_NONE, BIAS_INIT), label_param="weights",
    posthoc="temperature", example="temperature:bias_init=true",
)(baseline)

# ----------------------------------------------------------------------- feature-space samplers
K_NEIGHBORS = _p("k_neighbors", 5, "int", "neighbours of each synthesised (or cleaned) row", low=1, high=100,
                 tune=Tune(choices=("3", "5", "7", "10")))
SAMPLER_RATIO = _p("ratio", 1.0, "float", "every class grows to at least ratio × the largest class (1 = balanced)",
                   low=0.0, high=1.0, low_open=True, tune=TUNE_RATIO)
TOMEK_WHICH = _p("which", "majority", "choice", "which row of each Tomek link is removed: the majority class's, or "
                 "both", choices=("majority", "both"))
_SAMPLER_PAPERS = {
    "smote": ("SMOTE: synthetic minority rows interpolated between a row and its nearest neighbours",
              "Chawla, Bowyer, Hall & Kegelmeyer 2002, \"SMOTE: Synthetic Minority Over-sampling Technique\", JAIR 16"),
    "borderline-smote": ("SMOTE of the minority rows near the class border only",
                         "Han, Wang & Mao 2005, \"Borderline-SMOTE\", ICIC"),
    "adasyn": ("SMOTE weighted towards the minority rows that are hardest to learn",
               "He, Bai, Garcia & Li 2008, \"ADASYN: Adaptive Synthetic Sampling\", IJCNN"),
    "svm-smote": ("SMOTE along the support vectors of an SVM",
                  "Nguyen, Cooper & Kamei 2011, \"Borderline over-sampling for imbalanced data classification\", "
                  "IJKESDP 3(1)"),
    "tomek-links": ("removes the majority row of every Tomek link (cross-class nearest-neighbour pair)",
                    "Tomek 1976, \"Two Modifications of CNN\", IEEE Trans. SMC 6(11)"),
    "edited-nn": ("removes majority rows whose neighbours disagree with their label (edited nearest neighbours)",
                  "Wilson 1972, \"Asymptotic Properties of Nearest Neighbor Rules Using Edited Data\", IEEE Trans. SMC"),
    "smote-tomek": ("SMOTE, then Tomek links removed",
                    "Batista, Bazzan & Monard 2003, \"Balancing Training Data for Automated Annotation of Keywords\", "
                    "WOB"),
    "smote-enn": ("SMOTE, then edited nearest neighbours",
                  "Batista, Prati & Monard 2004, \"A Study of the Behavior of Several Methods for Balancing Machine "
                  "Learning Training Data\", SIGKDD Explorations 6(1)"),
}


def _register_samplers() -> None:
    """One preset per imbalanced-learn sampler (:mod:`._samplers`), and ``imblearn:NAME(...)`` for any other."""
    from ._samplers import SAMPLERS, parse_imblearn, preset_sampler

    for name, (cls, has_ratio, _, neighbours) in SAMPLERS.items():
        description, citation = _SAMPLER_PAPERS[name]
        params = tuple(q for q, used in ((K_NEIGHBORS, neighbours is not None), (SAMPLER_RATIO, has_ratio),
                                         (TOMEK_WHICH, name == "tomek-links")) if used)

        def build(p: dict[str, Any], ctx: Context, name: str = name) -> Parts:
            return Parts(loss=_ce(None), sampler=preset_sampler(name, p))

        _PRESETS.append(Preset(
            name=name, description=f"{description} (imbalanced-learn {cls}; feature backends only)",
            citation=citation, parts=("sampling", "loss"), loss="cross-entropy", build=build, params=params,
            feature_space=True, notes="resamples the training rows' feature vectors; synthetic rows count as rows "
            "of their class in the effective prior",
            example=f"{name}:k_neighbors=3" if neighbours else f"{name}:which=both"))

    def generic(p: dict[str, Any], ctx: Context) -> Parts:
        return Parts(loss=_ce(None), sampler=parse_imblearn(p["sampler"]))

    _PRESETS.append(Preset(
        name="imblearn", description="any imbalanced-learn over-, under- or combined sampler by its class name "
        "(feature backends only)", citation=IMBLEARN.format("any sampler"), parts=("sampling", "loss"),
        loss="cross-entropy", build=generic, feature_space=True,
        params=(_p("sampler", "SMOTE", "sampler", "NAME(key=value, ...): the sampler's class and arguments"),),
        example="imblearn:KMeansSMOTE(k_neighbors=3)"))


_register_samplers()

PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}
"""Every preset by name, in the order ``imblab techniques`` lists them."""

GROUPS: dict[str, list[str]] = {
    "seed": ["baseline", "bias-init", "downsample-upweight", "upsample-downweight", "focal", "weighted",
             "downsample", "upsample"],
    "all": [name for name, p in PRESETS.items() if not p.feature_space],
    "sampling": [name for name, p in PRESETS.items() if p.feature_space and name != "imblearn"],
}
"""Named groups of presets: ``seed`` = the eight techniques of the study, ``all`` = every preset that runs on every
backend, ``sampling`` = imbalanced-learn's samplers (the backends with fixed features)."""


def get_preset(name: str) -> Preset:
    """The preset called ``name``; SpecError listing the presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        hint = difflib.get_close_matches(name, list(PRESETS) + list(GROUPS), n=1)
        raise SpecError(f"unknown technique '{name}'; choose from: {', '.join(PRESETS)} (groups: "
                        f"{', '.join(GROUPS)})" + (f" (did you mean '{hint[0]}'?)" if hint else "")) from None


def list_presets() -> list[dict[str, Any]]:
    """Every preset as a JSON-ready dict: what ``imblab techniques --json`` prints.

    Keys: name, description, parameters (each: name, default, type, help, when — the condition
    under which a parameter exists, e.g. "posthoc=threshold", or null — and tune — how ``imblab tune``
    searches it: {low, high, scale} or {choices}, or null when it is never tuned), tunable (whether
    ``imblab tune`` has a parameter to search when the spec fixes none), citation (null for
    baseline), parts (used by default), optional_parts (what parameters can add), loss,
    per_label_parameter (which parameter LABEL=VALUE keys set, or null), notes, example (a spec
    string, valid for labels ham/spam).
    """
    return [p.describe() for p in _PRESETS]
