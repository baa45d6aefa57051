"""Typed technique parameters: validation of user values and their canonical text form."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError

__all__ = ["Param", "Tune", "check_label", "format_value", "parse_bool"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def format_value(value: Any) -> str:
    """The canonical text of a parameter value: 10.0 → "10", True → "true", None → "none"."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def parse_bool(value: Any) -> bool | None:
    """True/False from a bool or a word (true/false, yes/no, on/off, 1/0); None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Tune:
    """How ``imblab tune`` searches one parameter: a range (and its scale) or categorical choices.

    The validation bounds of a :class:`Param` say what is *allowed* and are often open-ended (focal γ ≥ 0);
    a tuning range says where a search is worth spending trials.

    Attributes:
        low, high: the range searched (for ``weights``/``alpha`` parameters: each label's weight, see below).
        scale: ``"linear"``, ``"log"`` (uniform in log space) or ``"log1m"`` (log scale on 1 − value, for β
            close to 1: ``low``/``high`` bound 1 − β).
        choices: the values of a ``choice`` parameter that are searched (categorical).
        binary: for ``alpha`` with two classes: the range of the single number (the minority's α).

    Per-label weights (``weights`` and ``alpha`` with more than two classes) are searched label by label in
    [low, high] on ``scale`` with the largest class's weight fixed at 1: only ratios of weights matter to a
    weighted mean, so a free majority weight would make the space redundant.
    """

    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    choices: tuple[str, ...] = ()
    binary: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.scale not in ("linear", "log", "log1m"):
            raise ValueError(f"unknown tuning scale {self.scale!r}")

    def describe(self) -> dict[str, Any]:
        """JSON-ready, for ``imblab techniques --json``."""
        if self.choices:
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high, "scale": self.scale}
        if self.binary is not None:
            out["two_classes"] = {"low": self.binary[0], "high": self.binary[1], "scale": "linear"}
        return out


@dataclass(frozen=True)
class Param:
    """One parameter of a preset.

    Kinds: ``float`` (with bounds), ``int`` (a whole number, with bounds), ``bool``, ``choice`` (one of ``choices``), ``weights`` (a
    scheme in ``choices`` or per-label positive weights), ``alpha`` (none, a float in (0, 1) for
    two classes, a scheme in ``choices`` or per-label positive weights), ``label`` (a label name,
    or none), ``target`` (none or a float in (0, 1]).

    ``requires=(other, value)``: the parameter only exists when parameter ``other`` has ``value``.
    ``tune``: how ``imblab tune`` searches it (:class:`Tune`); None: never tuned (structural choices such as
    ``posthoc`` and ``bias_init``, targets such as ``recall``, and composition keys such as ``weights`` of
    presets that are not about weighting).
    """

    name: str
    default: Any
    kind: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    requires: tuple[str, str] | None = None
    tune: Tune | None = None

    def type_text(self) -> str:
        """What values are allowed, for messages and ``imblab techniques``."""
        if self.kind == "float":
            lo = None if self.low is None else format_value(float(self.low))
            hi = None if self.high is None else format_value(float(self.high))
            if lo is not None and hi is not None:
                return f"a number in {'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"
            if lo is not None:
                return f"a number {'>' if self.low_open else '≥'} {lo}"
            if hi is not None:
                return f"a number {'<' if self.high_open else '≤'} {hi}"
            return "a number"
        if self.kind == "int":
            lo = "" if self.low is None else f"{int(self.low)}"
            hi = "" if self.high is None else f"{int(self.high)}"
            return f"a whole number in [{lo}, {hi}]" if lo and hi else f"a whole number ≥ {lo}" if lo else "a whole number"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "sampler":
            return "an imbalanced-learn sampler, NAME(key=value, ...)"
        if self.kind == "choice":
            return "one of " + "|".join(self.choices)
        if self.kind == "weights":
            return "|".join(self.choices) + " or LABEL=WEIGHT per label"
        if self.kind == "alpha":
            return "none, a number in (0, 1) (2 classes: the minority class's weight), " + \
                "|".join(self.choices) + " or LABEL=WEIGHT per label"
        if self.kind == "label":
            return "a label (default: the minority class)"
        if self.kind == "target":
            return "none or a number in (0, 1]"
        raise AssertionError(self.kind)

    def _bad(self, preset: str, value: Any) -> SpecError:
        return SpecError(f"parameter '{self.name}' of '{preset}' must be {self.type_text()}, got {value!r}")

    def _in_bounds(self, x: float) -> bool:
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return not (self.high is not None and (x > self.high or (self.high_open and x == self.high)))

    def coerce(self, value: Any, preset: str, labels: Sequence[str] | None) -> Any:
        """Validate ``value`` (text from a spec, or a TOML value) and return its canonical form."""
        if self.kind == "float":
            x = _number(value)
            if x is None or not self._in_bounds(x):
                raise self._bad(preset, value)
            return x
        if self.kind == "int":
            x = _number(value)
            if isinstance(value, bool) or x is None or x != int(x) or not self._in_bounds(x):
                raise self._bad(preset, value)
            return int(x)
        if self.kind == "sampler":
            from ._samplers import parse_imblearn, sampler_text

            if not isinstance(value, str):
                raise self._bad(preset, value)
            return sampler_text(parse_imblearn(value))
        if self.kind == "bool":
            b = parse_bool(value)
            if b is None:
                raise self._bad(preset, value)
            return b
        if self.kind == "choice":
            if not isinstance(value, str) or value.strip() not in self.choices:
                raise self._bad(preset, value)
            return value.strip()
        if self.kind == "target":
            if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
                return None
            x = _number(value)
            if x is None or not 0 < x <= 1:
                raise self._bad(preset, value)
            return x
        if self.kind == "label":
            if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
                return None
            if not isinstance(value, str):
                raise self._bad(preset, value)
            return check_label(value.strip(), preset, labels)
        if self.kind in ("weights", "alpha"):
            if isinstance(value, Mapping):
                return {check_label(str(k), preset, labels): self.coerce_weight(v, preset, str(k))
                        for k, v in value.items()}
            if self.kind == "alpha":
                if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
                    return None
                x = _number(value)
                if x is not None:
                    if not 0 < x < 1:
                        raise self._bad(preset, value)
                    if labels is not None and len(labels) != 2:
                        raise SpecError(f"a single number for '{self.name}' of '{preset}' needs 2 classes, there are "
                                        f"{len(labels)}; give LABEL=WEIGHT per label or a scheme "
                                        f"({'|'.join(self.choices)})")
                    return x
            if isinstance(value, str) and value.strip() in self.choices:
                return value.strip()
            raise self._bad(preset, value)
        raise AssertionError(self.kind)

    def coerce_weight(self, value: Any, preset: str, label: str) -> float:
        """One per-label weight: a positive number."""
        x = _number(value)
        if x is None or x <= 0:
            raise SpecError(f"the weight of label '{label}' in '{preset}' must be a positive number, got {value!r}")
        return x


def check_label(label: str, preset: str, labels: Sequence[str] | None) -> str:
    """``label`` if it is one of ``labels`` (or labels are not known yet), else SpecError."""
    if labels is not None and label not in labels:
        raise SpecError(f"unknown label '{label}' in '{preset}'; labels: {', '.join(labels)}")
    return label
