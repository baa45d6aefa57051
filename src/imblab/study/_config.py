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
    [[techniques]]
    name = "weighted"
    display_name = "weighted (spam=10)"
    params = { weights = { ham = 0.576, spam = 10 } }
    [costs]                       # optional: rank by expected cost (see examples/hate_speech_costs.toml)
    fn = 10                       # a missed positive (default: the minority label; positive = "spam")
    fp = 1                        # a false alarm; or matrix = [[…], …] (true × predicted), labels = [...]
    deploy_prior = { spam = 0.02 }  # the production class mix (default: the training prior)

Costs and the deployment prior only change the outputs, never a run: a re-run with other costs retrains
nothing (they are not part of the study's fingerprint).
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

__all__ = ["StudyConfig", "build_study_config", "load_study_file", "resolve_metric"]


def resolve_metric(name: str, labels: list[str]) -> str:
    """``macro-f1`` → ``macro_f1``, ``spam-recall`` → ``spam_recall``; unknown names list the allowed ones."""
    key = normalise_metric(name)
    allowed = metric_order(labels)
    for candidate in allowed:
        if candidate.lower() == key.lower():
            return candidate
    shown = ", ".join(m.replace("_", "-") for m in allowed)
    raise SpecError(f"unknown metric {name!r}: choose one of {shown}")


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
    # Each technique: {"spec": "focal:gamma=2"} or {"name": ..., "params": {...}, "display_name": ...}.
    techniques: list[dict[str, Any]] = field(default_factory=lambda: [{"spec": "seed"}])
    # "fn=10,fp=1" (--costs) or a [costs] table without deploy_prior; resolved by evaluation.resolve_costs.
    costs: str | dict[str, Any] | None = None
    # "spam=0.02" (--deploy-prior) or {label: p} ([costs] deploy_prior).
    deploy_prior: str | dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Keys of a study file's [costs] table: the cost matrix (evaluation.Costs.from_config) and the deployment prior.
_COST_KEYS = ("fn", "fp", "positive", "matrix", "labels", "deploy_prior")

_SECTIONS = {
    "data": {"dataset", "text_column", "label_column", "label_names", "encoding", "dedupe", "split_seed",
             "val_fraction", "test_fraction", "limit"},
    "training": {"backend", "model", "epochs", "batch_size", "lr", "max_length"},
    "study": {"seeds", "metric", "probes"},
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
        if section == "costs":
            config.costs, config.deploy_prior = _cost_section(value, path)
            continue
        if section not in _SECTIONS or not isinstance(value, dict):
            raise SpecError(f"unknown section [{section}] in {path}: allowed are {', '.join([*_SECTIONS, 'costs', 'techniques'])}")
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


def _cost_section(value: Any, path: Path) -> tuple[dict[str, Any] | None, Any]:
    """A [costs] table split into the costs (checked against the labels later) and the deployment prior."""
    if not isinstance(value, dict):
        raise SpecError(f"[costs] in {path} must be a table (fn = …, fp = … or matrix = […])")
    unknown = sorted(set(value) - set(_COST_KEYS))
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} in [costs] of {path}: allowed are {', '.join(_COST_KEYS)}")
    costs = {k: v for k, v in value.items() if k != "deploy_prior"}
    return costs or None, value.get("deploy_prior")


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
