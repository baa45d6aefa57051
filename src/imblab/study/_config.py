"""A study's settings: data, backend, model, seeds, techniques, probes — from the CLI or a TOML file.

A study file (see ``examples/seed_study.toml``)::

    [data]
    dataset = "sms_spam"          # built-in name or a file path (relative to the TOML file)
    split_seed = 42
    # limit = 2000                # stratified subsample before splitting
    [training]
    backend = "auto"              # or the name of a backend (imblab.backends.backend_names())
    model = "roberta-base"
    epochs = 3
    [study]
    seeds = 3                     # or a list: [0, 1, 2]
    metric = "macro-f1"
    probes = ["Call to claim your prize!"]
    keep_models = "best"          # all | best | none (default: the backend's; a fine-tuned network: best)
    [costs]                       # optional: rank by expected cost (see examples/hate_speech_costs.toml)
    fn = 10                       # a missed spam costs 10 false alarms; or matrix = [[0, 1], [10, 0]] (true × predicted)
    fp = 1
    deploy_prior = { spam = 0.02 }  # the production class mix (default: the training prior)
    [[techniques]]
    name = "weighted"
    display_name = "weighted (spam=10)"
    params = { weights = { ham = 0.576, spam = 10 } }
"""

from __future__ import annotations

import sys
from dataclasses import field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import read_regular_bytes
from ..errors import SpecError
from ..settings import from_study_file, resolve_metric, settings_dataclass, split_options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["KEEP_MODELS", "StudyConfig", "build_study_config", "load_study_file", "resolve_keep_models", "resolve_metric"]

KEEP_MODELS = ("all", "best", "none")


def resolve_keep_models(value: str | None, backend: str) -> str:
    """``value``, checked; ``None`` is the backend's default.

    The default is the backend's (its ``BackendSpec.keep_models``): ``all`` for a linear head on fixed features
    (small), ``best`` for a fine-tuned network (each model the whole network: about 90 MB for MiniLM, 500 MB for
    roberta-base), as a study's statistics read only each run's predictions and metrics.

    Raises:
        SpecError: not one of all, best, none.
    """
    if value is None:  # several backends: the most frugal of their defaults
        from ..backends import backend_spec

        defaults = [backend_spec(name).keep_models for name in backend.split(",")]
        return next((policy for policy in ("none", "best") if policy in defaults), defaults[0])
    if value not in KEEP_MODELS:
        raise SpecError(f"keep_models must be one of {', '.join(KEEP_MODELS)}, not {value!r}")
    return value


@settings_dataclass(lambda s: s.section is not None)
class StudyConfig:
    """Everything that defines a comparison; stored as ``study.json`` with the results.

    The fields are every study-file setting of :data:`imblab.settings.SETTINGS` (``dataset``, ``limit``,
    ``backend``, ``epochs``, ``seeds``, ``metric``, ...), checked on construction, and the techniques.
    """

    # Each technique: {"spec": "focal:gamma=2"} or {"name": ..., "params": {...}, "display_name": ...}.
    techniques: list[dict[str, Any]] = field(default_factory=lambda: [{"spec": "seed"}])
    # Decisions, not training (never part of the fingerprint: a re-run with other costs retrains nothing):
    # "fn=10,fp=1" (--costs) or a [costs] table without deploy_prior; resolved by evaluation.resolve_costs.
    costs: str | dict[str, Any] | None = None
    # "spam=0.02" (--deploy-prior) or {label: p} ([costs] deploy_prior).
    deploy_prior: str | dict[str, Any] | None = None
    # The settings a registered backend declares of its own (imblab.backends.BackendSpec.settings).
    options: dict[str, Any] = field(default_factory=dict)

    if TYPE_CHECKING:  # the other fields come from the settings table
        def __init__(self, **settings: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_study_file(path: str | Path) -> StudyConfig:
    """Parse a TOML study file; unknown sections or keys and bad values are one-line errors.

    Raises:
        SpecError: naming the file, and the key and what it allows.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no such study file: {path}")
    try:
        doc = tomllib.loads(read_regular_bytes(path, SpecError, limit=1 << 24).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot parse {path}: {exc}") from None
    costs = doc.pop("costs", None)
    values, options = split_options(from_study_file(doc, path))
    if options:
        values["options"] = options
    if costs is not None:
        values["costs"], values["deploy_prior"] = _cost_section(costs, path)
    dataset = values.get("dataset")
    if dataset is not None and dataset not in ("sms_spam", "hate_speech") and (path.parent / dataset).exists():
        values["dataset"] = str(path.parent / dataset)
    techniques = doc.get("techniques")
    if techniques is not None:
        if not isinstance(techniques, list) or not techniques:
            raise SpecError(f"[[techniques]] in {path} must be a non-empty list of tables")
        parsed = []
        for t in techniques:
            unknown = set(t) - {"name", "params", "display_name", "spec"} if isinstance(t, dict) else {"?"}
            if unknown or not ("name" in t or "spec" in t):
                raise SpecError(f"each [[techniques]] entry in {path} takes name, params, display_name (or spec); "
                                f"got {sorted(t) if isinstance(t, dict) else t!r}")
            parsed.append(dict(t))
        values["techniques"] = parsed
    return StudyConfig(**values)


#: Keys of a study file's [costs] table: the cost matrix (evaluation.Costs.from_config) and the deployment prior.
_COST_KEYS = ("fn", "fp", "positive", "matrix", "labels", "deploy_prior")


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

    Raises:
        SpecError: a bad value (naming it and what it allows). TypeError: an unknown setting.
    """
    study = config if isinstance(config, StudyConfig) else load_study_file(config) if config else StudyConfig()
    known = {f.name for f in fields(study)}
    given: dict[str, Any] = {}
    overrides, options = split_options(overrides)
    if options:
        given["options"] = {**study.options, **options}
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in known:
            raise TypeError(f"unknown study setting {key!r}: allowed are {', '.join(sorted(known))}")
        if key == "techniques":
            specs = [value] if isinstance(value, str) else list(value)
            value = [{"spec": s} for s in specs]
        given[key] = value
    return replace(study, **given)  # checks every value
