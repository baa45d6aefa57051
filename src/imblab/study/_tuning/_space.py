"""The search space of a technique, derived from its declared parameters (``Param.tune``).

Every parameter with a tuning range is searched unless the spec fixes it; a conditional parameter
(``requires=``) is suggested only when its condition holds for the values fixed or suggested before it
(class-balanced ``gamma`` only with ``loss=focal``). Structural choices (``posthoc``, ``bias_init``) and
targets (``recall``, ``label``) have no tuning range: a spec may fix them, and the search keeps them.

Per-label weights are searched label by label on a log scale with the largest training class fixed at 1
(only ratios matter to a weighted mean). Focal α with two classes is the minority's single number.

Suggested numbers are rounded to 3 significant digits before training, so that the spec printed for the
best trial is exactly what that trial trained (``focal:gamma=1.3,alpha=0.4``, not 17 digits), and
re-training it reproduces the trial's validation score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ...errors import SpecError
from ...techniques import PRESETS, Technique, Tune, format_value

__all__ = ["Dimension", "SearchSpace", "TrialLike", "build_space", "round_value"]

#: ``--tune-training``: the linear heads' C (scikit-learn's inverse L2 strength), the range of their own path.
C_RANGE = (1e-2, 1e4)
#: ``--tune-training``: fine-tuning's learning rate, this factor below and above the backend's default.
LR_FACTOR = 5.0


class TrialLike(Protocol):
    """What the space needs of an Optuna trial (``optuna.trial.Trial`` is one)."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


def round_value(x: float, scale: str = "linear") -> float:
    """``x`` to 3 significant digits (on 1 − x for the ``log1m`` scale), with a clean decimal repr."""
    if scale == "log1m":
        return float(f"{1.0 - float(f'{1.0 - x:.3g}'):.12g}")
    return float(f"{x:.3g}")


@dataclass(frozen=True)
class Dimension:
    """One searched quantity.

    Attributes:
        name: Optuna's parameter name (``gamma``, ``alpha``, ``weights:spam``, ``C``).
        param: the technique parameter it sets, or ``training:C`` / ``training:lr``.
        label: the label of a per-label weight.
        tune: the range or choices.
        binary: True for focal α with two classes (the range is ``tune.binary``).
        requires: the condition (another parameter's value) under which it is suggested.
    """

    name: str
    param: str
    tune: Tune
    label: str | None = None
    binary: bool = False
    requires: tuple[str, str] | None = None

    @property
    def bounds(self) -> tuple[float, float, str]:
        """(low, high, scale) of the number Optuna suggests (for ``log1m``: 1 − value, on a log scale)."""
        if self.binary:
            assert self.tune.binary is not None
            return self.tune.binary[0], self.tune.binary[1], "linear"
        assert self.tune.low is not None and self.tune.high is not None
        return float(self.tune.low), float(self.tune.high), self.tune.scale

    def suggest(self, trial: TrialLike) -> Any:
        """The value this trial uses (rounded, see the module docstring)."""
        if self.tune.choices:
            return trial.suggest_categorical(self.name, list(self.tune.choices))
        low, high, scale = self.bounds
        x = trial.suggest_float(self.name, low, high, log=scale in ("log", "log1m"))
        return round_value(1.0 - x if scale == "log1m" else x, scale)

    def describe(self) -> dict[str, Any]:
        """JSON-ready: the name, what it sets and its range."""
        out: dict[str, Any] = {"name": self.name, "param": self.param}
        if self.tune.choices:
            out["choices"] = list(self.tune.choices)
        else:
            low, high, scale = self.bounds
            out.update(low=low, high=high, scale=scale)
        if self.requires is not None:
            out["when"] = f"{self.requires[0]}={self.requires[1]}"
        return out


@dataclass(frozen=True)
class SearchSpace:
    """A technique's searched dimensions and the values it keeps fixed.

    Attributes:
        technique: the preset name.
        fixed: parameters the spec sets (kept in every trial), as given.
        labels: the data's labels.
        majority: the largest training class (its per-label weight is fixed at 1).
        dimensions: what is searched, in the preset's parameter order (training settings last).
        fixed_spec: the technique with its fixed parameters as a spec (``focal:posthoc=threshold``): what a
            storage study tunes, and its default name.
    """

    technique: str
    fixed: dict[str, Any]
    labels: tuple[str, ...]
    majority: str
    dimensions: tuple[Dimension, ...]
    fixed_spec: str = ""

    @property
    def n_params(self) -> int:
        """How many parameters are searched (a per-label weight counts once per label)."""
        return len(self.dimensions)

    def suggest(self, trial: TrialLike) -> tuple[Technique, dict[str, Any]]:
        """The trial's technique and training settings (``C`` or ``lr`` with ``--tune-training``)."""
        preset = PRESETS[self.technique]
        chosen: dict[str, Any] = {}
        training: dict[str, Any] = {}
        weights: dict[str, dict[str, float]] = {}
        for dim in self.dimensions:
            if dim.requires is not None and self._value(dim.requires[0], chosen) != dim.requires[1]:
                continue
            value = dim.suggest(trial)
            if dim.param.startswith("training:"):
                training[dim.param.split(":", 1)[1]] = value
            elif dim.label is not None:
                weights.setdefault(dim.param, {self.majority: 1.0})[dim.label] = value
            else:
                chosen[dim.param] = value
        for param, per_label in weights.items():
            chosen[param] = {label: per_label[label] for label in self.labels if label in per_label}
        raw = {**self.fixed, **chosen}
        return Technique(preset.name, preset.resolve(raw, list(self.labels))), training

    def _value(self, name: str, chosen: Mapping[str, Any]) -> Any:
        if name in chosen:
            return chosen[name]
        if name in self.fixed:
            return self.fixed[name]
        preset = PRESETS[self.technique]
        if name == "posthoc" and preset.posthoc is not None:
            return preset.posthoc
        return preset.param_index[name].default

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.dimensions]


def build_space(
    technique: Technique,
    given: frozenset[str] | set[str],
    labels: Sequence[str],
    class_counts: np.ndarray,
    *,
    training: str | None = None,
    default_lr: float | None = None,
) -> SearchSpace:
    """The search space of ``technique`` with the parameters in ``given`` fixed at its values.

    Args:
        technique: the technique (its parameters are the fixed values of ``given``).
        given: the parameters the user fixed (``techniques.given_params`` of the spec).
        labels: the data's labels; ``class_counts`` their training counts (the largest class's weight is 1).
        training: ``"C"`` (tfidf/frozen) or ``"lr"`` (finetune) to search that training setting too.
        default_lr: the backend's default learning rate (the centre of the ``lr`` range).

    Raises:
        SpecError: nothing to search (the message says why).
    """
    preset = PRESETS[technique.name]
    labels = tuple(labels)
    counts = np.asarray(class_counts)
    majority = labels[int(np.argmax(counts))]
    fixed = {name: technique.params[name] for name in given if name in technique.params}
    dims: list[Dimension] = []
    for q in preset.params:
        if q.tune is None or q.name in given:
            continue
        requires = q.requires
        if requires is not None:
            condition = preset.param_index.get(requires[0])
            if requires[0] in given or condition is None or condition.tune is None:
                # The condition is not searched: it holds in every trial or in none.
                if not _holds(requires, fixed, preset):
                    continue
                requires = None
        if q.kind in ("weights", "alpha") and not (q.kind == "alpha" and len(labels) == 2):
            for label in labels:
                if label != majority:
                    dims.append(Dimension(f"{q.name}:{label}", q.name, q.tune, label=label, requires=requires))
        else:
            dims.append(Dimension(q.name, q.name, q.tune, binary=q.kind == "alpha", requires=requires))
    if training == "C":
        dims.append(Dimension("C", "training:C", Tune(*C_RANGE, "log")))
    elif training == "lr":
        if default_lr is None or not math.isfinite(default_lr) or default_lr <= 0:
            raise ValueError("tuning the learning rate needs the backend's default learning rate")
        dims.append(Dimension("lr", "training:lr", Tune(default_lr / LR_FACTOR, default_lr * LR_FACTOR, "log")))
    if not dims:
        fixed_tunable = sorted(q.name for q in preset.params if q.tune is not None and q.name in given)
        why = (f"the spec fixes its tunable parameter(s) {', '.join(fixed_tunable)}" if fixed_tunable
               else "it has no parameter to tune")
        raise SpecError(f"technique '{technique.name}' has nothing to tune: {why} "
                        "(--tune-training also tunes the backend's C or learning rate)")
    fixed_spec = technique.name + (":" + ",".join(_fixed_text(preset, fixed)) if fixed else "")
    return SearchSpace(technique.name, fixed, labels, majority, tuple(dims), fixed_spec)


def _holds(requires: tuple[str, str], fixed: Mapping[str, Any], preset: Any) -> bool:
    name, value = requires
    if name in fixed:
        return bool(fixed[name] == value)
    if name == "posthoc" and preset.posthoc is not None:
        return bool(preset.posthoc == value)
    param = preset.param_index.get(name)
    return param is not None and bool(param.default == value)


def _fixed_text(preset: Any, fixed: Mapping[str, Any]) -> list[str]:
    out = []
    for q in preset.params:
        if q.name not in fixed:
            continue
        value = fixed[q.name]
        if isinstance(value, Mapping):
            out += [f"{label}={format_value(w)}" for label, w in value.items()]
        else:
            out.append(f"{q.name}={format_value(value)}")
    return out
