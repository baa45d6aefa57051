"""``imblab.compare``: the whole study from Python."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._io import check_output_dir
from ..comparison import ComparisonResult
from ._config import StudyConfig, build_study_config
from .executors import Executor
from ._plan import PreparedStudy, prepare_study
from ._run import ProgressCallback, run_study
from ._store import StudyStore, check_study_layout, is_study_dir
from ._tuning._compare import CompareTuning

__all__ = ["check_study_out", "compare", "default_out_dir"]


def check_study_out(out: str | Path, study: PreparedStudy | None = None) -> Path:
    """``out`` if a study may be written there: missing, empty or a study folder imblab made, and writable;
    with ``study``, also a folder that holds no other study (reads only: nothing is written).

    Raises:
        OutputError: ``out`` is a file, not writable, or a non-empty folder that holds no study.
        SpecError: ``out`` holds runs of a study with other data, split or settings.
    """
    out = check_output_dir(out, recognise=is_study_dir, what="study", replace=False)
    check_study_layout(out)
    if study is not None:
        StudyStore(out).check(study)
    return out


def default_out_dir(dataset: str, root: str | Path = "imblab-runs") -> Path:
    """A new folder ``imblab-runs/<dataset>-<YYYYmmdd-HHMMSS>``."""
    stem = Path(dataset).stem if Path(dataset).suffix else dataset
    base = Path(root) / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def compare(
    dataset: str | None = None,
    *,
    techniques: str | Sequence[str] | None = None,
    seeds: int | Sequence[int] | None = None,
    backend: str | None = None,
    model: str | None = None,
    probes: Sequence[str] | None = None,
    metric: str | None = None,
    costs: str | dict[str, Any] | None = None,
    deploy_prior: str | dict[str, float] | None = None,
    config: str | Path | StudyConfig | None = None,
    out: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    executor: Executor | None = None,
    tune: int | CompareTuning | None = None,
    **settings: Any,
) -> ComparisonResult:
    """Train every technique × seed on one split and compare them.

    Args:
        dataset: built-in name or file path (default ``sms_spam``, or the study file's).
        techniques: ``"seed"`` (default), ``"all"``, ``"baseline,focal:gamma=2"`` or a list of specs.
        seeds: a count (``3`` → seeds 0, 1, 2) or explicit seeds.
        backend: ``auto`` (default), ``tfidf``, ``frozen``, ``hybrid``, ``finetune``, or several
            (``"tfidf,hybrid"`` or a list): every technique runs on each, on one split; ``result.chosen`` is the
            (backend, technique) best on validation.
        model: Hugging Face id or local path for ``frozen``/``finetune``.
        probes: texts whose predicted probabilities are tabulated (default for sms_spam: "Call to claim your prize!").
        metric: the metric that ranks techniques (default ``macro-f1``) — unless costs are given — and chooses
            the linear heads' ``C``.
        costs: ``"fn=10,fp=1[,positive=spam]"`` or a ``[costs]`` table (``{"matrix": [[...]], "labels": [...]}``,
            true × predicted): rank by expected cost per 1,000 texts (``result.cost``). Not part of the runs: a
            re-run with other costs retrains nothing.
        deploy_prior: the production class mix, ``"spam=0.02"`` or ``{"spam": 0.02}`` (default: the training prior).
        config: a TOML study file (``examples/seed_study.toml``); explicit arguments override it.
        out: where runs and reports go (default a new folder under ``./imblab-runs/``). Finished runs there are reused.
        on_progress: called as runs are kept, start and finish (see :data:`ProgressCallback`).
        executor: runs the training tasks (default: one after the other in this process;
            ``ProcessExecutor(2)``: two local processes; ``RayExecutor("auto")``: a Ray cluster).
        tune: tune each technique first with this many trials on the validation split (or a
            ``CompareTuning`` with a storage URL); its best spec joins the study as ``<technique> (tuned)``.
        **settings: other settings (:data:`imblab.settings.SETTINGS`: ``limit``, ``epochs``, ``split_seed``,
            ``lr``, ``C``, ``keep_models``: ``"all"``, ``"best"`` or ``"none"``, ...); each is checked before
            anything is written.

    Returns:
        The :class:`ComparisonResult`; its files are already written to ``out``.
    """
    study_config = build_study_config(
        config, dataset=dataset, techniques=techniques,
        seeds=list(seeds) if seeds is not None and not isinstance(seeds, int) else seeds,
        backend=backend, model=model, probes=probes, metric=metric, costs=costs, deploy_prior=deploy_prior,
        **settings,
    )
    tuning = CompareTuning(trials=tune) if isinstance(tune, int) else tune
    if out is not None:
        check_study_out(out)  # before reading the data
    study = prepare_study(study_config)
    if out is not None:
        check_study_out(out, study)
    out = Path(out) if out is not None else default_out_dir(study_config.dataset)
    return run_study(study, out, on_progress=on_progress, executor=executor, tune=tuning)
