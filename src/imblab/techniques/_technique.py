"""A technique: a preset name plus resolved parameters (immutable, comparable, JSON-able), and the same technique
fitted on a training split's class counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import minority_index
from ..errors import DataError, SpecError
from ..evaluation import class_prior, effective_prior
from ._bias_init import prior_bias
from ._parts import Parts
from ._params import format_value
from ._posthoc import PostHoc, fit_temperature, fit_threshold_offsets, logit_adjustment_offset
from ._presets import get_preset
from ._sampling import draw_epoch

if TYPE_CHECKING:
    import torch

__all__ = ["Technique", "FittedTechnique"]


@dataclass(frozen=True, eq=False)
class Technique:
    """A named preset with its parameters (defaults filled in). Build one with
    :func:`~imblab.techniques.parse_spec` or :func:`~imblab.techniques.technique_from_config`.

    Attributes:
        name: the preset name, e.g. "focal".
        params: resolved parameters, JSON-able (treat as read-only).
        display_name: what tables show, e.g. "weighted(spam=10)"; defaults from the spec.
    """

    name: str
    params: dict[str, Any]
    display_name: str = ""

    def __post_init__(self) -> None:
        if not self.display_name:
            shown = self.spec if self.name == "imblearn" else _display(self.name, self._spec_params())
            object.__setattr__(self, "display_name", shown)

    # ------------------------------------------------------------------ identity
    def _key(self) -> tuple[str, str]:
        return self.name, json.dumps(self.params, sort_keys=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Technique) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Technique({self.spec!r})"

    def _spec_params(self) -> list[str]:
        """``key=value`` for every non-default parameter, per-label weights as ``label=value``."""
        preset = get_preset(self.name)
        out = []
        for q in preset.params:
            if q.name not in self.params or self.params[q.name] == q.default:
                continue
            value = self.params[q.name]
            if isinstance(value, Mapping):
                out += [f"{label}={format_value(w)}" for label, w in value.items()]
            else:
                out.append(f"{q.name}={format_value(value)}")
        return out

    @property
    def spec(self) -> str:
        """The canonical spec string: ``parse_spec(t.spec, labels) == t``."""
        if self.name == "imblearn":
            return f"imblearn:{self.params['sampler']}"
        parts = self._spec_params()
        return self.name + (":" + ",".join(parts) if parts else "")

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """{"name", "params", "display_name", "spec"}: JSON-ready."""
        return {"name": self.name, "params": json.loads(json.dumps(self.params)), "display_name": self.display_name,
                "spec": self.spec}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], labels: Sequence[str] | None = None) -> Technique:
        """Inverse of :meth:`to_dict` (parameters are re-validated)."""
        preset = get_preset(str(d["name"]))
        return cls(preset.name, preset.resolve(dict(d.get("params", {})), labels), d.get("display_name") or "")

    # ------------------------------------------------------------------ fitting
    def fit(self, class_counts: Sequence[int] | np.ndarray, labels: Sequence[str]) -> FittedTechnique:
        """Fit on the training split's class counts (in label order).

        Raises:
            DataError: a class has no training rows, or counts and labels disagree in length.
            SpecError: the parameters name a label that is not in ``labels``.
        """
        counts = np.asarray(class_counts, dtype=np.int64)
        labels = [str(label) for label in labels]
        if counts.ndim != 1 or counts.size != len(labels) or counts.size < 2:
            raise DataError(f"need one training count per label for ≥ 2 labels, got {counts.tolist()} for {labels}")
        if np.any(counts <= 0):
            empty = [lab for lab, n in zip(labels, counts) if n <= 0]
            raise DataError(f"no training rows for label(s) {', '.join(empty)}; every class needs at least one")
        preset = get_preset(self.name)
        params = preset.resolve(self.params, labels)
        return FittedTechnique(self, labels, counts, preset.compose(params, counts, labels))


def _display(name: str, spec_params: list[str]) -> str:
    return f"{name}({','.join(spec_params)})" if spec_params else name


def check_unique(techniques: Sequence[Technique]) -> None:
    """SpecError if two different techniques share a display name."""
    seen: dict[str, Technique] = {}
    for t in techniques:
        if t.display_name in seen and seen[t.display_name] != t:
            raise SpecError(f"two techniques are called '{t.display_name}' ({seen[t.display_name].spec} and {t.spec}); "
                            "give them different display names")
        seen[t.display_name] = t


class FittedTechnique:
    """A :class:`Technique` fitted on the training split's class counts.

    Attributes:
        technique: the technique.
        labels: class names, in class-index order.
        class_counts: (C,) training rows per class.
        true_prior: (C,) n_i / N.
        effective_prior: (C,) the prior the technique's probabilities are calibrated to: true prior ×
            sampling multiplier × class weight × the loss's and the post-hoc step's prior shift,
            normalised. Map probabilities back with ``correct_prior(p, effective_prior, true_prior)``.
        class_weights: (C,) the loss's class weights (None: unweighted).
        sample_sizes: (C,) rows per class in one epoch (None: every row once).
        posthoc_kind: "none", "threshold", "temperature" or "logit-adjusted-posthoc".
    """

    def __init__(
        self,
        technique: Technique,
        labels: Sequence[str],
        class_counts: Sequence[int] | np.ndarray,
        parts: Parts,
    ) -> None:
        self.technique = technique
        self.labels = list(labels)
        self.class_counts = np.asarray(class_counts, dtype=np.int64)
        self.true_prior = class_prior(self.class_counts)
        self.class_weights = parts.class_weights
        self.sample_sizes = parts.sample_sizes
        self.logit_scale = float(parts.logit_scale)
        self.posthoc_kind = parts.posthoc
        self.posthoc_params = dict(parts.posthoc_params)
        self._loss = parts.loss
        self._weights_from = float(parts.weights_from)
        self._bias_init = parts.bias_init
        #: the imbalanced-learn sampler of the training rows' features (None for every other technique)
        self.sampler = parts.sampler
        self._prior_factor = parts.prior_factor
        factor = np.ones(len(self.labels)) if parts.prior_factor is None else np.asarray(parts.prior_factor, float)
        if self.posthoc_kind == "logit-adjusted-posthoc":
            factor = factor * self.true_prior ** (-self.posthoc_params["tau"])
        self.effective_prior = effective_prior(self.class_counts, sample_sizes=parts.sample_sizes,
                                               class_weights=parts.class_weights, prior_factor=factor)
        # The prior the *training loss* drives softmax(logit_scale · f) to, without any post-hoc shift.
        self._training_prior = effective_prior(self.class_counts, sample_sizes=parts.sample_sizes,
                                               class_weights=parts.class_weights, prior_factor=parts.prior_factor)

    def __repr__(self) -> str:
        return f"FittedTechnique({self.technique.display_name!r}, labels={self.labels})"

    # ------------------------------------------------------------------ sampling
    def set_resampled_counts(self, counts: Sequence[int] | np.ndarray) -> None:
        """After a feature-space sampler ran: the resampled rows per class are the technique's sampling, so
        the effective prior (and the correction back to the real prior) counts synthetic rows as rows of
        their class, exactly as upsampling to these counts would."""
        sizes = np.asarray(counts, dtype=np.int64)
        if sizes.shape != self.class_counts.shape or np.any(sizes < 0) or sizes.sum() == 0:
            raise ValueError(f"resampled counts {sizes.tolist()} do not fit classes {self.labels}")
        self.sample_sizes = sizes
        factor = np.ones(len(self.labels)) if self._prior_factor is None else np.asarray(self._prior_factor, float)
        self.effective_prior = effective_prior(self.class_counts, sample_sizes=sizes, class_weights=self.class_weights,
                                               prior_factor=factor)
        self._training_prior = effective_prior(self.class_counts, sample_sizes=sizes,
                                               class_weights=self.class_weights, prior_factor=self._prior_factor)

    def head_objective(self, counts: Sequence[int] | np.ndarray) -> FittedTechnique:
        """What a head fitted on the sampler's resampled rows (``counts`` per class) optimises: plain
        cross-entropy, every row once."""
        return Technique("baseline", get_preset("baseline").resolve({}, self.labels)).fit(counts, self.labels)

    @property
    def epoch_size(self) -> int:
        """Rows in one epoch (fixed for a technique and a training split)."""
        sizes = self.class_counts if self.sample_sizes is None else self.sample_sizes
        return int(np.sum(sizes))

    def epoch_indices(self, y_train: Sequence[int] | np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Training indices for one epoch, drawn afresh from ``rng``; all rows for non-sampling techniques.

        Args:
            y_train: (n,) class indices of the training split the technique was fitted on.
            rng: the generator (e.g. ``np.random.default_rng([seed, epoch])``).

        Returns:
            (epoch_size,) int64 indices into ``y_train``, grouped by class (the loop shuffles).
        """
        y = np.asarray(y_train, dtype=np.int64)
        counts = np.bincount(y, minlength=len(self.labels)) if y.size else np.zeros(len(self.labels), np.int64)
        if counts.shape != self.class_counts.shape or np.any(counts != self.class_counts):
            raise ValueError(f"y_train has class counts {counts.tolist()}, but the technique was fitted on "
                             f"{self.class_counts.tolist()}")
        if self.sample_sizes is None:
            return np.arange(y.size, dtype=np.int64)
        return draw_epoch(y, self.sample_sizes, rng)

    # ------------------------------------------------------------------ loss
    def loss(self, logits: torch.Tensor, targets: torch.Tensor, progress: float = 0.0) -> torch.Tensor:
        """The technique's training loss, a scalar (weighted mean over the batch).

        Args:
            logits: (B, C) float scores.
            targets: (B,) long class indices.
            progress: share of training done, in [0, 1] (LDAM-DRW switches its weights on with it).
        """
        if logits.ndim != 2 or logits.shape[1] != len(self.labels):
            raise ValueError(f"logits must have shape (B, {len(self.labels)}), got {tuple(logits.shape)}")
        return self._loss(logits, targets, float(progress))

    def reduction_weights(self, progress: float = 0.0) -> np.ndarray | None:
        """(C,) the class weights the loss's weighted mean uses at ``progress``, None when unweighted.

        ``loss`` is Σ w_y ℓ / Σ w_y over the batch. The training loop uses these weights to turn that
        into Σ w_y ℓ / (B · E[w]) with E[w] constant over an epoch when the batch order is biased
        (length-grouped batches, where a single-class batch would cancel its weights).
        """
        if self.class_weights is None or progress < self._weights_from:
            return None
        return np.asarray(self.class_weights, dtype=np.float64)

    @property
    def loss_stages(self) -> tuple[float, ...]:
        """The training progress values at which a full-batch fit evaluates the loss, in order.

        ``(0.0,)`` for a loss that does not change during training; ``(0.0, 1.0)`` when class weights
        switch on part-way (LDAM-DRW's deferred re-weighting): fit the early loss, then the late one
        starting from there.
        """
        return (0.0, 1.0) if 0.0 < self._weights_from < 1.0 else (0.0,)

    # ------------------------------------------------------------------ bias init
    def initial_bias(self) -> np.ndarray | None:
        """Output bias with softmax(logit_scale · b) = the prior the loss trains towards, or None.

        The prior is the technique's training-time effective prior (for bias-init alone, the true
        prior n_i / N; for balanced resampling, uniform).
        """
        if not self._bias_init:
            return None
        return prior_bias(self._training_prior, self.logit_scale)

    # ------------------------------------------------------------------ post-hoc
    def fit_posthoc(self, val_logits: np.ndarray | torch.Tensor, val_y: Sequence[int] | np.ndarray) -> PostHoc:
        """Fit the technique's post-hoc part on validation logits; the identity (up to the loss's
        logit scale) when the technique has none."""
        z = val_logits.detach().cpu().numpy() if hasattr(val_logits, "detach") else np.asarray(val_logits)
        z = z.astype(np.float64) * self.logit_scale
        y = np.asarray(val_y, dtype=np.int64)
        if z.ndim != 2 or z.shape[1] != len(self.labels) or y.shape != (z.shape[0],):
            raise ValueError(f"need logits (n, {len(self.labels)}) and n labels, got {z.shape} and {y.shape}")
        kind, p = self.posthoc_kind, self.posthoc_params
        if kind == "none":
            return PostHoc(scale=self.logit_scale)
        if kind == "temperature":
            t = fit_temperature(z, y)
            return PostHoc(kind=kind, scale=self.logit_scale, temperature=t, details={"temperature": t})
        if kind == "logit-adjusted-posthoc":
            return PostHoc(kind=kind, scale=self.logit_scale, offset=logit_adjustment_offset(self.true_prior, p["tau"]),
                           details={"tau": p["tau"]})
        if kind == "threshold":
            label = p.get("label")
            k = self.labels.index(label) if label is not None else self.minority_index
            from scipy.special import softmax

            offsets, details = fit_threshold_offsets(softmax(z, axis=1), y, label_index=k,
                                                     recall=p.get("recall"), precision=p.get("precision"))
            details["label"] = self.labels[k] if "label_index" in details else None
            return PostHoc(kind=kind, scale=self.logit_scale, decision_offset=offsets, details=details)
        raise AssertionError(kind)

    @property
    def minority_index(self) -> int:
        """The class with the fewest training rows (the last such class on a tie)."""
        return minority_index(self.class_counts, ties="last")
