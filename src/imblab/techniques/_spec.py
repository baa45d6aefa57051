"""Technique specs: the command-line and study-file forms of a technique.

Grammar (one technique)::

    SPEC  := NAME | NAME ":" PARAM ("," PARAM)*
    PARAM := KEY "=" VALUE          KEY: a parameter of the preset, or a label (per-label weight)

e.g. ``focal``, ``focal:gamma=2,alpha=0.25``, ``weighted:spam=10``, ``baseline:posthoc=threshold,recall=0.95``.
Whitespace around keys and values is ignored. A parameter name wins over a label of the same
name (give such a label's weight in a study file's mapping instead).

A list of techniques (``parse_techniques``) is split on commas, and the rule that keeps it
unambiguous even though commas also separate parameters is: **a comma-separated piece without
"=" must be a preset or group name and starts a new technique; a piece "NAME:KEY=VALUE" whose
NAME is a preset starts a new technique; any other "KEY=VALUE" piece is a parameter of the
technique before it.** So ``baseline,weighted:spam=10,focal:gamma=2,alpha=0.25`` is three
techniques. Groups: ``seed`` (the study's eight) and ``all`` (every preset).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import SpecError
from ._presets import GROUPS, PRESETS, get_preset
from ._technique import Technique, check_unique

__all__ = ["given_params", "parse_spec", "parse_techniques", "technique_from_config"]

log = logging.getLogger(__name__)


def _split_params(spec: str, text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for piece in text.split(","):
        key, eq, value = piece.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise SpecError(f"bad parameter '{piece.strip()}' in '{spec}'; "
                            "write KEY=VALUE, e.g. focal:gamma=2,alpha=0.25")
        if key in params:
            raise SpecError(f"parameter '{key}' given twice in '{spec}'")
        params[key] = value
    return params


def parse_spec(spec: str, labels: Sequence[str] | None = None) -> Technique:
    """Parse one technique spec (``NAME`` or ``NAME:key=value,...``).

    Args:
        spec: the spec string.
        labels: the data set's labels, to check per-label parameters; None to check them at fit time.

    Raises:
        SpecError: unknown name (lists the presets), unknown parameter (lists the allowed ones),
            a value of the wrong type (says what is allowed), or an unknown label (lists the labels).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"empty technique spec; choose from: {', '.join(PRESETS)}")
    name, colon, rest = spec.strip().partition(":")
    name = name.strip()
    preset = get_preset(name)
    if name == "imblearn":  # imblearn:NAME(key=value, ...): the sampler's call is one parameter (default SMOTE)
        if colon and not rest.strip():
            raise SpecError("imblearn needs a sampler: imblearn:NAME(key=value, ...), e.g. "
                            "imblearn:KMeansSMOTE(k_neighbors=3)")
        raw: dict[str, Any] = {"sampler": rest.strip().removeprefix("sampler=")} if colon else {}
    else:
        raw = _split_params(spec, rest) if colon else {}
    return Technique(preset.name, preset.resolve(raw, labels))


def given_params(spec: str) -> frozenset[str]:
    """The parameters a spec sets explicitly; ``LABEL=VALUE`` keys count as the preset's per-label parameter.

    ``given_params("focal:gamma=2,spam=3") == {"gamma", "alpha"}``. Call :func:`parse_spec` first to validate.
    """
    name, colon, rest = spec.strip().partition(":")
    preset = get_preset(name.strip())
    if preset.name == "imblearn":
        return frozenset({"sampler"})
    keys = _split_params(spec, rest) if colon else {}
    return frozenset(key if key in preset.param_index else str(preset.label_param) for key in keys)


def technique_from_config(
    name: str,
    params: Mapping[str, Any] | None,
    labels: Sequence[str] | None = None,
    display_name: str | None = None,
) -> Technique:
    """A technique from a study file entry, e.g. TOML ``{name = "weighted", params = {weights = {spam = 10}}}``.

    Values may be TOML types (numbers, booleans, strings, a table of per-label weights) or the
    same text a spec uses; label keys may also appear directly in ``params`` (``{spam = 10}``).
    """
    preset = get_preset(str(name).strip())
    if params is not None and not isinstance(params, Mapping):
        raise SpecError(f"the parameters of '{name}' must be a table of key = value, got {params!r}")
    return Technique(preset.name, preset.resolve(dict(params or {}), labels), display_name or "")


def _starts_technique(piece: str) -> bool:
    head, colon, _ = piece.partition(":")
    if "=" not in piece:
        return True
    return bool(colon) and "=" not in head and head.strip() in PRESETS


def _split_list(text: str) -> list[str]:
    """Split a comma-separated list of specs by the rule in the module docstring."""
    specs: list[str] = []
    for piece in text.split(","):
        if not piece.strip():
            raise SpecError(f"empty item in the technique list '{text}'")
        if _starts_technique(piece):
            specs.append(piece.strip())
        elif not specs:
            raise SpecError(f"'{piece.strip()}' in '{text}' is a parameter but no technique comes before it")
        elif ":" in specs[-1]:
            specs[-1] += "," + piece.strip()
        else:
            specs[-1] += ":" + piece.strip()
    return specs


def parse_techniques(text: str | Sequence[str], labels: Sequence[str] | None = None) -> list[Technique]:
    """Parse a list of techniques: ``"seed"``, ``"all"``, or specs separated by commas (or given
    as separate strings), groups allowed anywhere. Exact repeats are dropped; two different
    techniques with one display name are an error.
    """
    items = [text] if isinstance(text, str) else list(text)
    specs = [spec for item in items for spec in _split_list(str(item))]
    if not specs:
        raise SpecError(f"no techniques given; choose from: {', '.join(PRESETS)} (groups: {', '.join(GROUPS)})")
    out: list[Technique] = []
    for spec in specs:
        group = GROUPS.get(spec)
        for t in [parse_spec(n, labels) for n in group] if group else [parse_spec(spec, labels)]:
            if t in out:
                log.info("technique %s listed twice; running it once", t.spec)
                continue
            out.append(t)
    check_unique(out)
    return out
