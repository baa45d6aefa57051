"""``imblab compare --tune N``: tune every technique with the same budget, then compare default and tuned.

Each technique with something to tune gets its own storage study (in ``DIR/tuning.db`` unless a storage is
given) of N trials on the validation split, with the study's first seed; its best spec then joins the study
as ``<technique> (tuned)`` beside the technique at its defaults, and both are run over the study's seeds and
tested like every other technique (so the report can show default against tuned with a paired bootstrap).
A technique's parameters that differ from their defaults stay fixed (``focal:posthoc=threshold`` tunes γ and α
with the threshold step kept); a technique with nothing to tune runs at its defaults only.

``DIR/tuning.json`` records, per technique, the storage study, its identity and its summary (trials, tuning
curve, importances); a re-run whose studies are already complete reads it and does not open the storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import atomic_write_json, read_json
from ...errors import SpecError
from ...techniques import PRESETS, Technique, check_unique
from ._api import STORAGE_FILE, default_study_name, plan_tuning, run_tuning
from ._storage import mask_url, sqlite_url
from .._runs import arm_name
from ._trial import TuningData

if TYPE_CHECKING:
    from ..executors import Executor
    from .._plan import PreparedStudy

__all__ = ["CompareTuning", "TUNING_FILE", "TUNED_SUFFIX", "tune_study"]

TUNING_FILE = "tuning.json"
TUNED_SUFFIX = " (tuned)"

OnTune = Callable[[str, int, int], None]
"""(technique, finished trials, budget) as trials finish."""


@dataclass(frozen=True)
class CompareTuning:
    """How ``compare --tune`` tunes.

    Attributes:
        trials: the budget of every technique (finished trials of its storage study).
        storage: an SQLAlchemy URL (default: ``sqlite:///<study folder>/tuning.db``).
        sampler_seed: seeds each study's TPE sampler.
    """

    trials: int
    storage: str | None = None
    sampler_seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.trials, bool) or not isinstance(self.trials, int) or self.trials < 1:
            raise SpecError(f"--tune must be a whole number of trials ≥ 1, got {self.trials}")


def _given(technique: Technique) -> frozenset[str]:
    """The parameters a study's technique fixes: those that differ from the preset's defaults."""
    preset = PRESETS[technique.name]
    return frozenset(q.name for q in preset.params
                     if q.name in technique.params and technique.params[q.name] != q.default)


def _previous(out: Path) -> dict[str, Any]:
    path = out / TUNING_FILE
    if not path.is_file():
        return {}
    try:
        return {e["default"]: e for e in read_json(path, SpecError).get("techniques", []) if "default" in e}
    except (SpecError, TypeError, AttributeError):
        return {}  # a damaged file only means the storage is read again


def tune_study(
    study: PreparedStudy, out: Path, settings: CompareTuning, on_tune: OnTune | None = None,
    executor: Executor | None = None,
) -> tuple[dict[str, list[Technique]], dict[str, Any]]:
    """Tune each technique of ``study`` on each of its backends (its trials on the study's ``executor``); returns
    per backend the techniques with the tuned ones after their defaults, and what ``tuning.json`` holds.

    Raises:
        SpecError: an unreachable storage, or a storage study made for something else.
    """
    url = settings.storage or sqlite_url(out / STORAGE_FILE)
    data = TuningData.from_split(study.dataset, study.split)
    context = _Context(study, out, settings, url, data, _previous(out), on_tune, executor)
    per_backend: dict[str, list[Technique]] = {}
    entries: list[dict[str, Any]] = []
    for backend in study.backends:
        per_backend[backend] = []
        for technique in study.techniques:
            per_backend[backend].append(technique)
            tuned, entry = _tune_one(context, backend, technique)
            entries.append(entry)
            if tuned is not None:
                per_backend[backend].append(tuned)
        check_unique(per_backend[backend])  # a listed technique called "<name> (tuned)" would collide
    document = {"trials": settings.trials, "storage": mask_url(url), "metric": study.metric,
                "seeds": context.seeds, "techniques": entries}
    return per_backend, document


@dataclass(frozen=True)
class _Context:
    """What tuning every technique of a study shares."""

    study: PreparedStudy
    out: Path
    settings: CompareTuning
    url: str
    data: TuningData
    previous: dict[str, Any]
    on_tune: OnTune | None
    executor: Executor | None

    @property
    def seeds(self) -> list[int]:
        return [self.study.config.seeds[0]]


def _tune_one(context: _Context, backend: str, technique: Technique) -> tuple[Technique | None, dict[str, Any]]:
    """Tune ``technique`` on ``backend`` (or read its finished tuning); returns the tuned technique (None when
    there is nothing to tune) and its ``tuning.json`` entry, named as the study's tables name it."""
    study, settings, shown = context.study, context.settings, mask_url(context.url)
    several = len(study.backends) > 1

    def shown_as(display: str) -> str:
        return arm_name(backend, display) if several else display

    try:
        plan = plan_tuning(context.data, technique, _given(technique), split=study.split, seeds=context.seeds,
                           backend=backend, model=study.config.model, metric=study.metric, training=study.training)
    except SpecError as exc:  # nothing to tune: the technique runs at its defaults only
        return None, {"default": shown_as(technique.display_name), "tuned": None, "reason": str(exc)}
    name = shown_as(default_study_name(plan))  # one storage study per backend
    identity = plan.identity()
    cached = context.previous.get(shown_as(technique.display_name))
    summary = None
    if (cached and cached.get("identity") == identity and cached.get("study") == name
            and cached.get("storage") == shown and isinstance(cached.get("summary"), dict)
            and cached["summary"].get("budget") == settings.trials
            and cached["summary"].get("complete", 0) + cached["summary"].get("pruned", 0) >= settings.trials):
        summary = cached["summary"]
    if summary is None:
        context.out.mkdir(parents=True, exist_ok=True)

        def progress(info: dict[str, Any], shown_name: str = shown_as(technique.display_name)) -> None:
            if context.on_tune is not None:
                context.on_tune(shown_name, int(info["done"]), int(info["budget"]))

        _, summary = run_tuning(plan, trials=settings.trials, storage=context.url, study_name=name,
                                sampler_seed=settings.sampler_seed, on_trial=progress, executor=context.executor)
    best = Technique.from_dict(summary["best"]["technique"], study.labels)
    tuned = Technique(best.name, best.params, technique.display_name + TUNED_SUFFIX)
    return tuned, {"default": shown_as(technique.display_name), "tuned": shown_as(tuned.display_name),
                   "spec": tuned.spec, "study": name, "storage": shown, "identity": identity, "summary": summary}


def write_tuning(out: Path, document: dict[str, Any]) -> Path:
    """``DIR/tuning.json``, atomically."""
    return atomic_write_json(out / TUNING_FILE, document)
