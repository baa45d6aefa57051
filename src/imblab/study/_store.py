"""The run store: a study's folder, its stored runs, and what a re-run may reuse.

    DIR/
      study.json, split.json, profile.json    the resolved study, its split and the data profile
      runs/<technique>__seed<k>/              one folder per run, exactly as ``imblab train`` stores it
      results.csv, probes.csv, differences.csv, summary.md, report.html, .outputs.json
      .locks/                                 the study's locks (:mod:`._locks`)
      costs.csv, cost_curves.svg              with costs (--costs, --deploy-prior or [costs])

Runs are found by the study's plan, never by listing ``runs/`` (:mod:`._runs` names their folders and
says whether a stored run counts). A complete run of the same technique is never retrained, so
re-running a study (after an interruption or to add techniques) only trains what is missing (a run stored
without its model counts unless the study keeps every model: ``_models.py``). Each
run folder is written atomically (:func:`imblab.run.train_run`): an interruption, even SIGKILL,
loses only the runs in flight, and their temporary folders are removed once no process owns them. Costs and
the deployment prior are not part of the fingerprint: they change the outputs, never a run, so a re-run with
other costs retrains nothing and rewrites the outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._version import __version__
from .._io import (MARKER_FILE, TEMP_FILE, atomic_write_json, has_marker, holds_only, read_json, sqlite_files,
                   write_marker)
from ..comparison import ComparisonResult, RunOutcome
from ..data import profile
from ..errors import ModelError, OutputError, SpecError
from ..evaluation import CostSetting, resolve_costs
from ..run import environment
from ..settings import fingerprint as settings_fingerprint
from ._locks import LOCK_DIR, StudyLocks
from ._reference import REFERENCE_FOLDER, read_reference
from ._outputs import write_outputs
from ._plan import PreparedStudy
from ._runs import (
    RunKey,
    check_replaceable,
    is_ours,
    leftover_run,
    legacy_folder,
    read_stored_run,
    remove_leftovers,
    run_folder,
    split_arm,
)
from ._tasks import RunTask

__all__ = ["StudyStore", "is_study_dir", "load_study", "check_study_layout"]

log = logging.getLogger(__name__)

_OUTPUT_STATE = ".outputs.json"
_OUTPUT_FILES = ("results.csv", "probes.csv", "summary.md", "report.html")
_COST_FILES = ("costs.csv", "cost_curves.svg")


_STUDY_ENTRIES = (MARKER_FILE, "study.json", "split.json", "profile.json", "runs", REFERENCE_FOLDER, "differences.csv",
                  _OUTPUT_STATE, LOCK_DIR, "tuning.json", *sqlite_files("tuning.db"), "tuning.db.lock", "chosen-model",
                  *_OUTPUT_FILES, *_COST_FILES)
"""Everything imblab writes into a study folder (``chosen-model``: where the printed ``imblab train`` command rebuilds
the chosen model of a study that kept none; SQLite's own files beside the tuning database, a journal left by a
process killed mid-write included): a folder holding anything else is not one imblab made."""
_STUDY_FOLDERS = (LOCK_DIR, "runs", REFERENCE_FOLDER)


def is_study_dir(path: Path) -> bool:
    """Whether ``path`` is a study folder imblab made: it carries imblab's study marker (or, made by an imblab
    before the marker, a ``study.json`` of imblab's shape), and holds nothing a study does not."""
    if not holds_only(path, _STUDY_ENTRIES, temporary=TEMP_FILE):
        return False
    if has_marker(path, "study"):
        return True
    if (path / "study.json").exists():
        return _is_study_json(path / "study.json")
    # An imblab from before the marker, interrupted before it wrote study.json: only its locks and temporary files.
    return all(name == LOCK_DIR or TEMP_FILE.fullmatch(name) for name in _listdir(path))


_STUDY_SHAPE = (("techniques", list), ("labels", list), ("config", dict), ("metric", str), ("backend", str))
"""What ``study.json`` holds, by type (imblab's study.json, whatever its version)."""


def _is_study_json(path: Path) -> bool:
    try:
        meta = read_json(path, SpecError, limit=1 << 28)
    except SpecError:
        return False
    return all(isinstance(meta.get(k), t) for k, t in (*_STUDY_SHAPE, ("fingerprint", dict)))


def check_study_layout(out: Path) -> None:
    """Refuse a study folder whose ``.locks``, ``runs`` or ``reference`` is not a plain folder (a file, a link).

    Raises:
        OutputError: naming the entry.
    """
    for name in _STUDY_FOLDERS:
        entry = out / name
        if entry.is_symlink() or (entry.exists() and not entry.is_dir()):
            raise OutputError(f"{entry} is {'a link' if entry.is_symlink() else 'a file'}, where imblab keeps the "
                              f"study's {name.strip('.')} in a folder: move it away, then run the same command again")


class StudyStore:
    """The study folder ``out`` as one process sees it: its locks, metadata and stored runs."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.runs = out / "runs"
        self.locks = StudyLocks(out)

    # ------------------------------------------------------------------ the study
    def check(self, study: PreparedStudy) -> None:
        """Refuse ``out`` if it holds a study made with other data, split or settings, or files imblab did
        not make where the study's runs go (reads only).

        A folder that holds no run yet (an earlier attempt failed before its first run) takes the new
        settings. Call under the study lock to be sure; without, it is an early, cheap check.

        Raises:
            SpecError: naming the settings that differ. OutputError: naming the run folder.
        """
        check_study_layout(self.out)
        for task in study.tasks(self.out):
            check_replaceable(task.run_dir)
        study_file = self.out / "study.json"
        if not study_file.is_file():
            return
        previous = _comparable(read_json(study_file, SpecError).get("fingerprint"))
        current = _comparable(study.fingerprint())
        changed = [k for k in dict.fromkeys([*previous, *current]) if previous.get(k) != current.get(k)]
        if not changed or not self._holds_runs():
            return
        def shown(value: Any) -> str:
            return "the default" if value is None else repr(value)

        parts = [
            {"dataset_sha256": "data", "split": "split"}.get(k) or f"{k} ({shown(previous.get(k))} there, "
            f"{shown(current.get(k))} here)" for k in changed
        ]
        raise SpecError(
            f"{self.out} holds a study with other {', '.join(parts)}: choose another --out, or remove {self.out}"
        )

    def claim(self) -> None:
        """Make the folder (if missing) and mark it as imblab's study folder: the first thing written into it."""
        check_study_layout(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        write_marker(self.out, "study")

    def _holds_runs(self) -> bool:
        try:
            stored = [n for n in os.listdir(self.runs) if not n.startswith(".")]
        except FileNotFoundError:
            stored = []
        return bool(stored) or bool(self.locks.busy())

    def open(self, study: PreparedStudy, tasks: list[RunTask]) -> dict[str, RunOutcome]:
        """Check the folder, then write ``study.json``, ``split.json`` and ``profile.json``; call under the
        study lock.

        Returns:
            The stored runs that count, by run folder name.

        Raises:
            SpecError: ``out`` holds a study made with other data, split or settings.
            OutputError: a run's place holds files imblab did not make.
        """
        self.check(study)
        kept = self.stored(study, tasks)  # before writing anything: it may refuse a run folder
        self.adopt_legacy(study, [t for t in tasks if t.run_dir.name not in kept], kept)
        self.remove_leftovers()
        atomic_write_json(self.out / "study.json", study.metadata())
        atomic_write_json(self.out / "split.json", study.split.to_dict())
        atomic_write_json(self.out / "profile.json", profile(study.dataset, study.split))
        return kept

    def stored(self, study: PreparedStudy, tasks: Iterable[RunTask]) -> dict[str, RunOutcome]:
        """The tasks' runs stored in ``out`` that count (see :func:`stored_run`)."""
        kept = {}
        for task in tasks:
            outcome = self.stored_run(study.run_key(task), task.run_dir)
            if outcome is not None:
                kept[task.run_dir.name] = outcome
        return kept

    @staticmethod
    def stored_run(key: RunKey, path: Path, *, say: bool = True) -> RunOutcome | None:
        """The run in ``path`` if it counts for ``key``; None if missing, incomplete, damaged or another run.

        Raises:
            OutputError: ``path`` holds files imblab did not make (never replaced).
        """
        if not (path.exists() or path.is_symlink()):
            return None
        check_replaceable(path)
        try:
            return read_stored_run(path, key)
        except ModelError as exc:
            if say:
                log.warning("%s; it is trained again", exc)
            return None

    def adopt_legacy(self, study: PreparedStudy, tasks: list[RunTask], kept: dict[str, RunOutcome]) -> None:
        """Move runs stored under imblab 0.1's folder names to today's, when they are these very runs."""
        for task in tasks:
            legacy = self.runs / legacy_folder(task.technique.display_name, task.seed)
            if legacy == task.run_dir or not legacy.is_dir() or task.run_dir.exists() or not is_ours(legacy):
                continue
            try:
                outcome = read_stored_run(legacy, study.run_key(task))
            except ModelError:
                continue  # another technique's run (two names shared the folder), or damaged: left as it is
            os.rename(legacy, task.run_dir)
            kept[task.run_dir.name] = outcome

    def remove_leftovers(self) -> None:
        """Remove what interrupted writes left: temporary files of the study's own files (written only
        under the study lock, which the caller holds), and temporary run folders no process owns."""
        for name in _listdir(self.out):
            if TEMP_FILE.fullmatch(name):
                (self.out / name).unlink(missing_ok=True)
        for run in sorted({r for r in map(leftover_run, _listdir(self.runs)) if r is not None}):
            if self.locks.claim(run):  # nobody writes it now
                try:
                    remove_leftovers(self.runs, run)
                finally:
                    self.locks.release(run)

    # ------------------------------------------------------------------ outputs
    def write_outputs(self, result: ComparisonResult, outcomes: list[RunOutcome], *, write: bool | None) -> None:
        """Write the outputs: always (``write=True``), never (False), or when not made from these very runs (None).

        Call under the study lock.
        """
        names = [run_folder(o.technique, o.seed) for o in outcomes]
        costs = result.cost_setting
        state = {"imblab": __version__, "metric": result.metric, "runs": {n: _stamp(self.runs / n) for n in names},
                 "reference": _stamp(self.out / REFERENCE_FOLDER) if result.reference is not None else None,
                 "costs": None if costs is None else costs.to_dict(),
                 "tuning": [[e["tuned"], e["spec"], e["summary"]["complete"]] for e in result.tuning["techniques"]]
                 if result.tuning else None}
        state_file = self.out / _OUTPUT_STATE
        previous = _read_state(state_file) if state_file.is_file() else None
        expected = _OUTPUT_FILES + (_COST_FILES if costs is not None else ())
        current = previous == state and all((self.out / name).is_file() for name in expected)
        if write or (write is None and not current):
            write_outputs(result, self.out)
            if costs is None and isinstance(previous, dict) and previous.get("costs") is not None:
                for name in _COST_FILES:  # imblab wrote them for the costs it no longer has: they would mislead
                    (self.out / name).unlink(missing_ok=True)
            atomic_write_json(state_file, state)


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _stamp(run_dir: Path) -> list[int]:
    """When and how big the run's metrics.json is: a retrained run has another stamp."""
    try:
        info = (run_dir / "metrics.json").stat()
    except OSError:
        return [0, 0]
    return [info.st_mtime_ns, info.st_size]


def _comparable(fingerprint: Any) -> dict[str, Any]:
    """A stored fingerprint in today's form: data, split, and the settings that apply to its backend
    and differ from their defaults (a study.json of imblab 0.1 kept its training settings apart)."""
    if not isinstance(fingerprint, Mapping):
        return {}
    flat = {k: v for k, v in fingerprint.items() if k != "training"}
    flat.update(fingerprint.get("training") or {})
    fixed = {k: flat[k] for k in ("dataset_sha256", "split") if k in flat}
    return {**fixed, **settings_fingerprint(flat, str(flat.get("backend")))}


def _read_state(path: Path) -> Any:
    try:  # only decides whether the outputs are rewritten: a damaged one just means "rewrite"
        return read_json(path, SpecError, limit=1 << 26)
    except SpecError:
        return None


def load_study(
    out: str | Path, *, techniques: list[str] | None = None, seeds: list[int] | None = None, write: bool | None = True,
    reference: bool | None = None,
) -> ComparisonResult:
    """Rebuild the comparison from the runs stored in ``out`` and write its report files.

    Args:
        out: the study folder.
        techniques: display names of the techniques to compare (default: the study's).
        seeds: the seeds to compare (default: the study's).
        write: True: write the outputs; None: only when they were not made from exactly these runs; False: never.
        reference: show the study's scikit-learn reference (default: when the study has one and it is stored).

    Raises:
        SpecError: ``out`` is not a study folder, or holds no finished run. ModelError: a stored run is
            damaged or another study's (the message names it; ``imblab compare`` retrains it).
    """
    out = Path(out)
    study_file = out / "study.json"
    if not study_file.is_file():
        raise SpecError(f"{out} is not an imblab study directory (no study.json)")
    meta: dict[str, Any] = read_json(study_file, SpecError)
    shape = _STUDY_SHAPE
    if (not all(isinstance(meta.get(k), t) for k, t in shape) or "seeds" not in meta["config"]
            or not all(isinstance(t, dict) and "display_name" in t and "spec" in t for t in meta["techniques"])):
        raise SpecError(f"{study_file} is damaged: it lacks {', '.join(k for k, _ in shape)} or seeds")
    split = read_json(out / "split.json", SpecError)
    if not isinstance(split.get("test"), list) or not isinstance(split.get("data_sha256"), str):
        raise SpecError(f"{out / 'split.json'} is damaged: it lacks the test rows or the data's hash")
    specs = {t["display_name"]: t["spec"] for t in meta["techniques"]}
    backends = {t["display_name"]: str(t.get("backend") or meta["backend"]) for t in meta["techniques"]}
    wanted = techniques or list(specs)
    unknown = [t for t in wanted if t not in specs]
    if unknown:
        raise SpecError(f"{out} has no technique {', '.join(map(repr, unknown))}: it has {', '.join(specs)}")
    outcomes = []
    for name in wanted:
        for seed in seeds if seeds is not None else list(meta["config"]["seeds"]):
            key = RunKey(technique=name, spec=specs[name], seed=seed, labels=meta["labels"], backend=backends[name],
                         data_sha256=split["data_sha256"], test=split["test"])
            path = out / "runs" / run_folder(name, seed)
            if path.exists():
                try:
                    outcomes.append(read_stored_run(path, key))
                except ModelError as exc:
                    raise ModelError(f"{exc} (imblab compare trains it again)") from None
            elif (out / "runs" / legacy_folder(name, seed)).is_dir():  # a study of imblab 0.1
                with contextlib.suppress(ModelError):  # the run of another name that slugs alike
                    outcomes.append(read_stored_run(out / "runs" / legacy_folder(name, seed), key))
    wants_reference = meta["config"].get("reference", True) if reference is None else reference
    store = StudyStore(out)
    with store.locks.study():
        return comparison(store, meta, outcomes, write=write,
                          reference=read_reference(out / REFERENCE_FOLDER) if wants_reference else None)


def comparison(store: StudyStore, meta: Mapping[str, Any], outcomes: list[RunOutcome], *,
               write: bool | None, reference: RunOutcome | None = None,
               costs: CostSetting | None | bool = True) -> ComparisonResult:
    """The comparison of ``outcomes`` (in study order) and the study's scikit-learn ``reference``, its outputs
    written as ``write`` says (under the study lock). ``costs``: the study's, as its plan resolved them (None:
    none); True: resolve them from ``study.json`` (a study read back from its folder)."""
    if not outcomes:
        raise SpecError(f"{store.out} holds no finished runs yet: run imblab compare first")
    names = list(dict.fromkeys(o.technique for o in outcomes))
    config = {**meta["config"], "backend_resolved": meta["backend"], "labels": meta["labels"]}
    if isinstance(meta.get("precision"), dict) and any(meta["precision"].values()):  # a transformer's: bf16 or no
        config["precision_resolved"] = ", ".join(f"{b}: {p}" for b, p in meta["precision"].items() if p)
    profile_data = read_json(store.out / "profile.json", SpecError)
    result = ComparisonResult(
        outcomes, meta["labels"], profile_data, config, environment(),
        baseline=_baseline(names), metric=meta["metric"], reference=reference,
        costs=_study_costs(meta, profile_data, store.out) if costs is True else costs,
        tuning=_read_tuning(store.out, set(names)),
    )
    # The outputs are a pure function of the runs: when they were made from these very runs, a re-run
    # (write=None) only reads them back. `imblab report DIR` re-renders unconditionally.
    store.write_outputs(result, outcomes, write=write)
    return result


def _baseline(names: list[str]) -> str:
    """What every technique is compared with: ``baseline`` (with several backends, the first backend's), else the
    first technique."""
    return next((name for name in names if split_arm(name)[1] == "baseline"), names[0])


def _study_costs(meta: Mapping[str, Any], profile_data: dict[str, Any], out: Path) -> CostSetting | None:
    """The study's costs and deployment prior (study.json), resolved against its labels and training counts."""
    config = meta["config"]
    if config.get("costs") is None and config.get("deploy_prior") is None:
        return None
    labels = meta["labels"]
    train = profile_data.get("split", {}).get("counts", {}).get("train")
    if not isinstance(train, dict) or not all(isinstance(train.get(label), int) for label in labels):
        raise SpecError(f"{out / 'profile.json'} is damaged: no training counts per label, needed for the costs")
    return resolve_costs(config.get("costs"), config.get("deploy_prior"), labels, [train[label] for label in labels])


def _read_tuning(out: Path, techniques: set[str]) -> dict[str, Any] | None:
    """``tuning.json`` of a ``compare --tune`` study, with the techniques tuned whose default and tuned runs are
    both compared (None without one)."""
    path = out / "tuning.json"
    if not path.is_file():
        return None
    document = read_json(path, SpecError)
    entries = document.get("techniques")
    if not isinstance(entries, list):
        raise SpecError(f"{path} is damaged: it lacks its list of techniques")
    kept = [e for e in entries if isinstance(e, dict) and e.get("tuned") in techniques and e.get("default") in techniques
            and isinstance(e.get("summary"), dict)]
    return {**document, "techniques": kept} if kept else None
