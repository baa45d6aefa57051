"""A technique: a preset name plus resolved parameters. Immutable, comparable, JSON-able."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError, SpecError
from ._fitted import FittedTechnique
from ._params import format_value
from ._presets import get_preset

__all__ = ["Technique"]


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
            object.__setattr__(self, "display_name", _display(self.name, self._spec_params()))

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
