"""``imblab.tune``: a technique at its best hyper-parameters, chosen on the validation split with Optuna."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import (MARKER_FILE, TEMP_FILE, atomic_write_json, check_output_dir, has_marker, holds_only, sqlite_files,
                    write_marker)
from ...data import Dataset, Split, split_dataset
from ...errors import SpecError
from ...techniques import Technique, given_params, parse_spec
from ...settings import MAX_SEEDS, split_options
from .._config import resolve_metric
from .._tasks import DataSpec
from ._driver import OnTrial, TuningPlan, make_study, optimise
from ._space import build_space
from ._storage import mask_url, open_storage, sqlite_url
from ._summary import best_technique, summarise
from ._trial import TuningData

if TYPE_CHECKING:
    import optuna

    from ..executors import Executor

__all__ = ["TuneResult", "check_tuning_out", "plan_tuning", "run_tuning", "tune", "default_tuning_dir"]

#: The SQLite database of a tuning folder (and of a ``compare --tune`` study folder).
STORAGE_FILE = "tuning.db"
#: Per storage study, its summary in a tuning folder: ``tuning/<study>.json``.
SUMMARY_DIR = "tuning"
#: The training settings a trial takes from the command line or study (the rest are the backend's defaults).
TRAINING_KEYS = ("epochs", "batch_size", "lr", "max_length")


@dataclass
class TuneResult:
    """A finished tuning study.

    Attributes:
        spec: the best trial's technique as a spec ``train`` and ``compare`` accept (``focal:gamma=1.3,alpha=0.4``).
        technique: the same as a ``Technique``.
        training: the tuned training settings of the best trial (``C`` or ``lr``; empty without ``tune_training``).
        value: the best trial's validation metric (mean over the seeds).
        metric: the flat metric name; ``direction`` ``maximize`` or ``minimize``.
        study: the Optuna study (in its storage).
        summary: JSON-ready: every trial, the tuning curve, the importances (see ``_summary.summarise``).
        storage: the storage URL, password masked.
        backend: the resolved backend.
        out: the folder written (None with a ``storage`` and no ``out``).
        seconds: wall time of the call.
    """

    spec: str
    technique: Technique
    training: dict[str, Any]
    value: float
    metric: str
    direction: str
    study: optuna.Study
    summary: dict[str, Any]
    storage: str
    backend: str = ""
    out: Path | None = None
    seconds: float = field(default=0.0)


_TUNING_ENTRIES = (MARKER_FILE, *sqlite_files(STORAGE_FILE), STORAGE_FILE + ".lock", SUMMARY_DIR)


def _is_tuning_dir(path: Path) -> bool:
    """A tuning folder imblab made: its marker (or, made before the marker, a ``tuning.db`` holding imblab's
    Optuna studies), and nothing a tuning folder does not hold."""
    if not holds_only(path, _TUNING_ENTRIES, temporary=TEMP_FILE):
        return False
    return has_marker(path, "tuning") or _holds_imblab_studies(path / STORAGE_FILE)


def _holds_imblab_studies(database: Path) -> bool:
    """Whether the SQLite file ``database`` is an Optuna storage whose studies imblab made (their identity attr)."""
    import sqlite3

    if database.is_symlink() or not database.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=2)) as db:
            found = db.execute("SELECT 1 FROM study_user_attributes WHERE key = 'imblab' LIMIT 1").fetchone()
    except sqlite3.Error:
        return False
    return found is not None


def check_tuning_out(out: str | Path) -> Path:
    """``out`` if tuning may write there: missing, empty, a tuning folder or a study folder, and writable.

    Raises:
        OutputError: ``out`` is a file, not writable, or a non-empty folder imblab did not make.
    """
    return check_output_dir(out, recognise=_is_tuning_dir, what="tuning folder", replace=False)


def default_tuning_dir(dataset: str, root: str | Path = "imblab-runs") -> Path:
    """``imblab-runs/<dataset>-tuning``: the same folder for the same data, so a re-run continues its studies."""
    stem = Path(dataset).stem if Path(dataset).suffix else Path(dataset).name
    return Path(root) / f"{stem}-tuning"


def _resolve_backend(name: str) -> str:
    from ...backends import resolve_backend_name  # the light registry: torch only to resolve auto

    return resolve_backend_name(name)


def plan_tuning(
    data: TuningData,
    technique: Technique,
    given: frozenset[str] | set[str],
    *,
    split: Split,
    seeds: Sequence[int],
    backend: str,
    model: str | None,
    metric: str,
    training: Mapping[str, Any],
    tune_training: bool = False,
) -> TuningPlan:
    """The plan of one tuning study: its search space (``given`` parameters fixed), seeds and training settings.

    Raises:
        SpecError: nothing to tune; a tuned training setting that is also fixed; no seeds.
    """
    if not seeds:
        raise SpecError("tuning needs at least one seed")
    what = None
    default_lr = None
    if tune_training:
        from ...backends import backend_spec, make_backend

        what = backend_spec(backend).tuned_training
        if what is None:
            raise SpecError(f"--tune-training: the {backend} backend has no training setting to tune")
        if training.get(what) is not None:
            raise SpecError(f"--tune-training tunes {what}: do not also fix it")
        if what == "lr":
            default_lr = make_backend(backend, model_name=model).default_loop().lr
    space = build_space(technique, frozenset(given), data.labels, data.class_counts, training=what,
                        default_lr=default_lr)
    return TuningPlan(data=data, space=space, seeds=tuple(int(s) for s in seeds), backend=backend, model=model,
                      metric=metric, training=dict(training),
                      split={"seed": split.seed, "fractions": [round(f, 10) for f in split.fractions]})


def run_tuning(
    plan: TuningPlan,
    *,
    trials: int,
    storage: str,
    study_name: str | None = None,
    sampler_seed: int = 0,
    on_trial: OnTrial | None = None,
    executor: Executor | None = None,
) -> tuple[optuna.Study, dict[str, Any]]:
    """Open (or continue) the storage study and run trials until it has ``trials`` finished ones (several at
    once on a parallel ``executor``).

    Returns:
        The Optuna study and its summary (``_summary.summarise``).

    Raises:
        SpecError: ``trials`` < 1, an unreachable storage, or a storage study made for something else.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise SpecError(f"--trials must be a whole number ≥ 1, got {trials}")
    shown = mask_url(storage)
    rdb = open_storage(storage)
    name = study_name or default_study_name(plan)
    study = make_study(rdb, name, plan, shown)
    optimise(study, rdb, plan, trials, sampler_seed=sampler_seed, on_trial=on_trial, executor=executor)
    return study, summarise(study, plan, trials, shown)


def default_study_name(plan: TuningPlan) -> str:
    """The technique's fixed part (``focal``, ``focal:posthoc=threshold``), marked when training is tuned too."""
    return plan.space.fixed_spec + (" +training" if plan.tune_training else "")


def summary_path(out: Path, study_name: str) -> Path:
    """``out/tuning/<study name as a file name>.json``."""
    slug = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", study_name).strip("_") or "study"
    return out / SUMMARY_DIR / f"{slug}.json"


def tune(
    dataset: str | Dataset = "sms_spam",
    technique: str = "focal",
    *,
    trials: int = 30,
    metric: str = "macro-f1",
    backend: str = "auto",
    model: str | None = None,
    seeds: int | Sequence[int] = 1,
    tune_training: bool = False,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | Path | None = None,
    split: Split | None = None,
    sampler_seed: int = 0, on_trial: OnTrial | None = None,
    limit: int | None = None, split_seed: int = 42, val_fraction: float = 0.1, test_fraction: float = 0.1,
    text_column: str | None = None, label_column: str | None = None, label_names: str | None = None,
    encoding: str = "utf-8", dedupe: bool = False,
    epochs: int | None = None, batch_size: int | None = None, lr: float | None = None, max_length: int | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> TuneResult:
    """Tune ``technique``'s parameters on the validation split (Optuna TPE, seeded) and return the best.

    Each trial sees only the training and validation parts (never the test part). The parameters the spec sets stay
    fixed (``focal:alpha=0.25`` tunes γ only); ``posthoc`` and ``bias_init`` are never searched (fix them in the
    spec). Re-running continues the storage study up to ``trials`` finished trials.

    Args:
        dataset: a built-in name, a file path, or a loaded ``Dataset``.
        technique: the spec to tune (see ``imblab techniques``: the ``tune`` range of each parameter).
        trials: finished trials the study ends with (counted across every process on the storage).
        metric: the metric to optimise (``macro-f1``, ``spam-recall``, ``ece``…; its direction is known).
        backend, model: ``auto``, ``tfidf``, ``frozen`` or ``finetune``; a Hugging Face id or path.
        seeds: a count (``2`` → seeds 0, 1) or the seeds each trial trains with (the objective is their mean).
        tune_training: also tune the linear heads' C (tfidf, frozen) or fine-tuning's learning rate.
        storage: an SQLAlchemy URL shared by several processes (default ``sqlite:///<out>/tuning.db``).
        study_name: the storage study (default: the technique's fixed part, e.g. ``focal``).
        out: the SQLite storage's and ``tuning/<study>.json``'s folder (default ``imblab-runs/<dataset>-tuning``).
        split: the split to use (default: ``split_dataset`` with ``split_seed`` and the fractions).
        sampler_seed, on_trial: seeds the TPE sampler; called as each trial of this process ends.
        limit, split_seed, val_fraction, test_fraction: the stratified subsample and the split.
        text_column, label_column, label_names, encoding, dedupe: how to read a file.
        epochs, batch_size, lr, max_length: training settings of every trial (default: the backend's).
        executor: runs several trials at once (``make_executor(workers=2)``, a Ray cluster).
        **options: the backend's own settings (its ``BackendSpec.settings``).

    Returns a :class:`TuneResult` (``result.spec``, ``result.study``).

    Raises:
        SpecError: an unknown technique or metric, nothing to tune, ``trials`` < 1, an unreachable storage or
            a storage study made for something else. DataError: unreadable data. OutputError: ``out`` cannot be written.
    """
    started = time.perf_counter()
    seed_list = _budget(trials, seeds)
    parse_spec(technique)  # an unknown technique or parameter fails before anything is read or written
    name = dataset.name if isinstance(dataset, Dataset) else str(dataset)
    folder = Path(out) if out is not None else (default_tuning_dir(name) if storage is None else None)
    if folder is not None:
        check_tuning_out(folder)
    data = dataset if isinstance(dataset, Dataset) else DataSpec(
        dataset=str(dataset), text_column=text_column, label_column=label_column, label_names=label_names,
        encoding=encoding, dedupe=dedupe, limit=limit, limit_seed=split_seed).load()
    split = _checked_split(data, split, val_fraction, test_fraction, split_seed)
    labels = list(data.label_names)
    training = _training(epochs=epochs, batch_size=batch_size, lr=lr, max_length=max_length, **options)
    plan = plan_tuning(TuningData.from_split(data, split), parse_spec(technique, labels), given_params(technique),
                       split=split, seeds=seed_list, backend=_resolve_backend(backend), model=model,
                       metric=resolve_metric(metric, labels), training=training, tune_training=tune_training)
    url = storage or sqlite_url(folder / STORAGE_FILE)  # type: ignore[operator]
    if folder is not None:
        write_marker(folder, "tuning")  # the first thing written: the folder is imblab's from now on
    study, summary = run_tuning(plan, trials=trials, storage=url, study_name=study_name, sampler_seed=sampler_seed,
                                on_trial=on_trial, executor=executor)
    if folder is not None:
        atomic_write_json(summary_path(folder, study.study_name), summary)
    best, best_training, frozen = best_technique(study, labels)
    return TuneResult(spec=best.spec, technique=best, training=best_training, value=float(frozen.value),
                      metric=plan.metric, direction=plan.direction, study=study, summary=summary,
                      storage=mask_url(url), backend=plan.backend, out=folder, seconds=time.perf_counter() - started)


def _budget(trials: int, seeds: int | Sequence[int]) -> list[int]:
    """The seeds of every trial, once ``trials`` and ``seeds`` are checked."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise SpecError(f"--trials must be a whole number ≥ 1, got {trials}")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if not 1 <= seeds <= MAX_SEEDS:
            raise SpecError(f"--seeds must be a count in [1, {MAX_SEEDS}], got {seeds}")
        return list(range(seeds))
    return list(seeds)


def _checked_split(data: Dataset, split: Split | None, val_fraction: float, test_fraction: float,
                   split_seed: int) -> Split:
    """``split`` if it was made for ``data``; a new one when None."""
    if split is None:
        return split_dataset(data, validation=val_fraction, test=test_fraction, seed=split_seed)
    if split.data_hash != data.content_hash():
        raise SpecError("the split was made for other data")
    return split


def _training(**given: Any) -> dict[str, Any]:
    """The training settings every trial takes: those given (not None), a backend's own ones under ``options``.

    Raises:
        TypeError: a keyword that is no setting.
    """
    table, options = split_options(given)
    unknown = sorted(set(table) - set(TRAINING_KEYS))
    if unknown:
        raise TypeError(f"tune() got an unexpected keyword argument {unknown[0]!r}")
    training = {k: v for k, v in table.items() if v is not None}
    return {**training, "options": options} if options else training
