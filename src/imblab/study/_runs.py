"""A study's stored runs: the folder of each run, and whether what is stored there is that run.

A run's folder is ``runs/<technique>__seed<k>``. ``<technique>`` is the display name itself when that
is a plain folder name (lowercase letters, digits and ``_.=-``, at most 60 characters, starting with
a letter or digit); any other name becomes a slug and ``~`` and 8 hex digits of the name's SHA-256
(``weighted (spam=10)`` → ``weighted_spam=10~7c1e…``). So every display name has a folder of its own
(``w x`` and ``w!x`` slug alike but hash apart; ``Focal`` and ``focal`` differ on case-insensitive
file systems too), and keeps it from run to run. A study of several backends names each technique's runs
``<backend>/<technique>`` (:func:`arm_name`), stored in ``runs/<backend>.<technique>__seed<k>``.

A stored run counts only when it is complete and is the run the study asks for: its files read back
(:func:`imblab.run.read_run` checks them), and it has the study's technique, seed, labels, backend
and test rows. Anything else in its place is retrained when imblab made it (:func:`is_ours`) and
refused otherwise: imblab never replaces files it did not make.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..comparison import RunOutcome
from ..errors import ModelError, OutputError
from ..run import RUN_FILES, RunResult, is_complete_run, read_run

__all__ = ["RunKey", "arm_name", "legacy_folder", "outcome_from_run", "outcome_of", "read_stored_run", "run_folder",
           "split_arm", "technique_folder"]

_PLAIN = re.compile(r"[a-z0-9][a-z0-9_.=-]{0,59}")
_ARM = re.compile(r"([a-z0-9][a-z0-9_-]{0,39})/(.+)", re.DOTALL)
"""A technique's display name in a study of several backends: ``<backend>/<technique>``."""
_LEFTOVER = re.compile(r"\.(?P<run>.+?)(?:\.p\d+)?\.[a-z0-9_]{8}\.(?:partial|old)")
"""``atomic_directory``'s temporary folders (``tempfile.mkdtemp`` adds 8 characters of ``[a-z0-9_]``)."""


def arm_name(backend: str, technique: str) -> str:
    """How a study of several backends names a technique's runs on ``backend``: ``hybrid/weighted``."""
    return f"{backend}/{technique}"


def split_arm(name: str) -> tuple[str | None, str]:
    """``hybrid/weighted`` → ``("hybrid", "weighted")``; a name without a backend → ``(None, name)``."""
    match = _ARM.fullmatch(name)
    return (match.group(1), match.group(2)) if match else (None, name)


def technique_folder(display_name: str) -> str:
    """The folder name of a technique's runs: the name itself if plain, ``<backend>.<folder>`` for a technique
    on one of several backends (``hybrid/weighted`` → ``hybrid.weighted``), else a slug and a hash of it."""
    if _PLAIN.fullmatch(display_name):
        return display_name
    backend, technique = split_arm(display_name)
    if backend is not None:
        return f"{backend}.{technique_folder(technique)}"
    slug = re.sub(r"[^a-z0-9_.=-]+", "_", display_name.lower()).strip("._=-")[:40] or "technique"
    return f"{slug}~{hashlib.sha256(display_name.encode('utf-8')).hexdigest()[:8]}"


def run_folder(display_name: str, seed: int) -> str:
    """``focal__seed2``: the folder of a technique's run with ``seed`` under ``runs/``."""
    return f"{technique_folder(display_name)}__seed{seed}"


def legacy_folder(display_name: str, seed: int) -> str:
    """The folder imblab 0.1 gave the run (a slug alone: two names could share it); read, and moved to
    :func:`run_folder`, when it holds this very run."""
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", display_name).strip("_") or "technique"
    return f"{slug}__seed{seed}"


def leftover_run(name: str) -> str | None:
    """The run whose temporary folder (an interrupted write) ``name`` is, or None."""
    match = _LEFTOVER.fullmatch(name)
    return match.group("run") if match else None


def remove_leftovers(runs: Path, run: str) -> None:
    """Remove the temporary folders an interrupted write of ``run`` left (only while no process writes it)."""
    try:
        names = os.listdir(runs)
    except FileNotFoundError:
        return
    for name in names:
        if leftover_run(name) == run:
            shutil.rmtree(runs / name, ignore_errors=True)


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a folder holding only what imblab writes into a run folder (it may be replaced)."""
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        return set(os.listdir(path)) <= set(RUN_FILES)
    except OSError:
        return False


def check_replaceable(path: Path) -> None:
    """Raise unless ``path`` is missing or a run folder imblab made.

    Raises:
        OutputError: ``path`` holds something imblab did not make.
    """
    if (path.exists() or path.is_symlink()) and not is_ours(path):
        raise OutputError(
            f"{path} holds files imblab did not make: move them away (imblab never replaces your files), "
            "then run the same command again"
        )


def clear_damaged(path: Path) -> None:
    """Remove a damaged run folder imblab made (checked by :func:`check_replaceable` first), so it is retrained."""
    check_replaceable(path)
    if path.exists():
        shutil.rmtree(path)


@dataclass(frozen=True)
class RunKey:
    """What a stored run must be to count for a study."""

    technique: str
    spec: str
    seed: int
    labels: Sequence[str]
    backend: str
    data_sha256: str
    test: Sequence[int]
    with_model: bool = False  # the study keeps every model (``--keep-models all``): a run without one is retrained
    # What its transformer computed in: bf16, no, None (a backend without one); "any": not checked (reading a study).
    precision: str | None = "any"


def read_stored_run(path: Path, key: RunKey) -> RunOutcome:
    """The run stored in ``path`` if it is complete and the run ``key`` describes.

    Raises:
        ModelError: the folder is incomplete or damaged, or holds another run; the message says which.
    """
    if not is_complete_run(path, with_model=key.with_model):
        raise ModelError(f"{path} holds no {'model' if is_complete_run(path) else 'complete run'}")
    run = read_run(path)
    config, metrics = run.config, run.metrics
    split = config.get("split") if isinstance(config.get("split"), dict) else {}
    problems = [
        what for what, ok in (
            ("technique", (metrics["technique"], metrics["spec"]) == (key.technique, key.spec)),
            ("seed", metrics["seed"] == key.seed),
            ("labels", list(run.labels) == list(key.labels)),
            ("backend", config.get("backend") == key.backend),
            ("data", split.get("data_sha256") == key.data_sha256),
            ("test rows", split.get("test") == list(key.test) and len(run.predictions) == len(key.test)),
            ("precision", key.precision == "any" or _precision(metrics, key) == key.precision),
        ) if not ok
    ]
    if problems:
        raise ModelError(f"{path} holds a run with other {', '.join(problems)} than this study's")
    return outcome_of(run)


def _precision(metrics: dict[str, Any], key: RunKey) -> str | None:
    """What a stored run's transformer computed in; a run stored before imblab recorded it computed in fp32."""
    return metrics["precision"] if "precision" in metrics else ("no" if key.precision is not None else None)


def outcome_of(run: RunResult) -> RunOutcome:
    """A stored run as the comparison sees it."""
    arrays = run.arrays()
    timings = run.metrics.get("timings", {})
    validation = run.metrics.get("validation")
    backend = run.config.get("backend")
    return RunOutcome(
        technique=run.metrics["technique"], spec=run.metrics["spec"], seed=int(run.metrics["seed"]),
        metrics=run.metrics["test_flat"], report=run.metrics["test"]["report"], probes=run.metrics.get("probes", []),
        seconds=float(timings.get("train_seconds", 0.0) + timings.get("eval_seconds", 0.0)),
        fit=run.metrics.get("head"), **arrays, **(run.validation_arrays() or {}),
        backend=backend if isinstance(backend, str) else None,
        val_metrics=_validation_metrics(validation, run.labels),
    )


def _validation_metrics(validation: Any, labels: list[str]) -> dict[str, float]:
    """A run's flat validation metrics; none when it lacks them or they are damaged (nothing is chosen by them)."""
    from ..evaluation import flatten_metrics

    try:
        return flatten_metrics(validation, labels) if isinstance(validation, dict) else {}
    except (KeyError, TypeError, ValueError):
        return {}


def outcome_from_run(run_dir: str | Path) -> RunOutcome:
    """The run stored in ``run_dir`` as the comparison sees it."""
    return outcome_of(read_run(run_dir))
