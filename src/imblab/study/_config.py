"""A study's settings: data, backend, model, seeds, techniques, probes — from the CLI or a TOML file.

A study file (see ``examples/seed_study.toml``)::

    [data]
    dataset = "sms_spam"          # built-in name or a file path (relative to the TOML file)
    split_seed = 42
    # limit = 2000                # stratified subsample before splitting
    [training]
    backend = "finetune"          # auto | tfidf | frozen | finetune
    model = "roberta-base"
    epochs = 3
    [study]
    seeds = 3                     # or a list: [0, 1, 2]
    metric = "macro-f1"
    probes = ["Call to claim your prize!"]
    keep_models = "best"          # all | best | none (default: all for tfidf/frozen, best for finetune)
    [[techniques]]
    name = "weighted"
    display_name = "weighted (spam=10)"
    params = { weights = { ham = 0.576, spam = 10 } }
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..evaluation import metric_order, normalise_metric

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["KEEP_MODELS", "StudyConfig", "build_study_config", "load_study_file", "resolve_keep_models", "resolve_metric"]

KEEP_MODELS = ("all", "best", "none")
"""Which runs of a study keep their model: every run, the median seed of the best technique, or none."""


def resolve_metric(name: str, labels: list[str]) -> str:
    """``macro-f1`` → ``macro_f1``, ``spam-recall`` → ``spam_recall``; unknown names list the allowed ones."""
    key = normalise_metric(name)
    allowed = metric_order(labels)
    for candidate in allowed:
        if candidate.lower() == key.lower():
            return candidate
    shown = ", ".join(m.replace("_", "-") for m in allowed)
    raise SpecError(f"unknown metric {name!r}: choose one of {shown}")


def resolve_keep_models(value: str | None, backend: str) -> str:
    """``value``, checked; ``None`` is the backend's default.

    The default: ``all`` for tfidf and frozen (a linear head and, for tfidf, its vocabulary: small), ``best``
    for finetune (each model is the whole network: about 90 MB for MiniLM, 500 MB for roberta-base), as a
    study's statistics read only each run's predictions and metrics.

    Raises:
        SpecError: not one of all, best, none.
    """
    if value is None:
        return "best" if backend == "finetune" else "all"
    if value not in KEEP_MODELS:
        raise SpecError(f"keep_models must be one of {', '.join(KEEP_MODELS)}, not {value!r}")
    return value


@dataclass
class StudyConfig:
    """Everything that defines a comparison; stored as ``study.json`` with the results."""

    dataset: str = "sms_spam"
    text_column: str | None = None
    label_column: str | None = None
    label_names: str | None = None
    encoding: str = "utf-8"
    dedupe: bool = False
    split_seed: int = 42
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    limit: int | None = None
    backend: str = "auto"
    model: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    max_length: int | None = None
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    metric: str = "macro-f1"
    probes: list[str] | None = None
    keep_models: str | None = None  # all | best | none; None: the backend's default (resolve_keep_models)
    # Each technique: {"spec": "focal:gamma=2"} or {"name": ..., "params": {...}, "display_name": ...}.
    techniques: list[dict[str, Any]] = field(default_factory=lambda: [{"spec": "seed"}])

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_SECTIONS = {
    "data": {"dataset", "text_column", "label_column", "label_names", "encoding", "dedupe", "split_seed",
             "val_fraction", "test_fraction", "limit"},
    "training": {"backend", "model", "epochs", "batch_size", "lr", "max_length"},
    "study": {"seeds", "metric", "probes", "keep_models"},
}


def load_study_file(path: str | Path) -> StudyConfig:
    """Parse a TOML study file; unknown sections or keys are errors that list the allowed ones."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no such study file: {path}")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot parse {path}: {exc}") from None
    config = StudyConfig()
    for section, value in doc.items():
        if section == "techniques":
            continue
        if section not in _SECTIONS or not isinstance(value, dict):
            raise SpecError(f"unknown section [{section}] in {path}: allowed are {', '.join([*_SECTIONS, 'techniques'])}")
        for key, item in value.items():
            if key not in _SECTIONS[section]:
                raise SpecError(f"unknown key {key!r} in [{section}] of {path}: allowed are {', '.join(sorted(_SECTIONS[section]))}")
            setattr(config, key, item)
    if isinstance(config.seeds, int):
        config.seeds = list(range(config.seeds))
    if not isinstance(config.seeds, list) or not config.seeds or not all(isinstance(s, int) for s in config.seeds):
        raise SpecError(f"seeds in {path} must be a positive count or a list of integers")
    dataset_path = path.parent / config.dataset
    if config.dataset not in ("sms_spam", "hate_speech") and dataset_path.exists():
        config.dataset = str(dataset_path)
    techniques = doc.get("techniques")
    if techniques is not None:
        if not isinstance(techniques, list) or not techniques:
            raise SpecError(f"[[techniques]] in {path} must be a non-empty list of tables")
        parsed = []
        for t in techniques:
            unknown = set(t) - {"name", "params", "display_name", "spec"}
            if unknown or not ("name" in t or "spec" in t):
                raise SpecError(f"each [[techniques]] entry in {path} takes name, params, display_name (or spec); got {sorted(t)}")
            parsed.append(dict(t))
        config.techniques = parsed
    return config


def build_study_config(config: str | Path | StudyConfig | None = None, **overrides: Any) -> StudyConfig:
    """A study file (or defaults) with explicit ``overrides`` on top; ``None`` values are ignored.

    ``techniques`` may be a group name, a comma-separated spec list, or a list of specs.
    ``seeds`` may be a count or a list of seeds.
    """
    study = config if isinstance(config, StudyConfig) else load_study_file(config) if config else StudyConfig()
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "techniques":
            specs = [value] if isinstance(value, str) else list(value)
            value = [{"spec": s} for s in specs]
        elif key == "seeds" and isinstance(value, int):
            value = list(range(value))
        elif key == "probes":
            value = list(value)
        if not hasattr(study, key):
            raise TypeError(f"unknown study setting {key!r}")
        setattr(study, key, value)
    return study
