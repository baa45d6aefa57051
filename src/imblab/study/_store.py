"""The run store: a study's folder, its stored runs, and what a re-run may reuse.

    DIR/
      study.json, split.json, profile.json    the resolved study, its split and the data profile
      runs/<technique>__seed<k>/              one folder per run, exactly as ``imblab train`` stores it
      results.csv, probes.csv, differences.csv, summary.md, report.html, .outputs.json

A complete run folder made with the same technique is never retrained, so re-running a study (after an
interruption or to add techniques) only trains what is missing. Each run folder is written atomically
(:func:`imblab.run.train_run`): an interruption loses only the runs in flight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import atomic_write_json, read_json
from ..comparison import ComparisonResult, RunOutcome
from ..data import profile
from ..errors import ModelError, SpecError
from ..run import RunResult, environment, is_complete_run, read_run, read_run_files
from ._outputs import write_outputs
from ._plan import PreparedStudy
from ._tasks import RunTask

__all__ = ["check_store", "is_finished", "load_study", "open_store", "outcome_from_run"]

# Settings that change what a stored run means: a folder made with others cannot be resumed.
_FINGERPRINT_KEYS = ("dataset_sha256", "split", "backend", "model", "training")
_OUTPUT_STATE = ".outputs.json"
_OUTPUT_FILES = ("results.csv", "probes.csv", "summary.md", "report.html")


def check_store(study: PreparedStudy, out: Path) -> None:
    """Check that ``out`` holds no study or this very study (before anything is trained or tuned there).

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings.
    """
    fingerprint = study.fingerprint()
    study_file = out / "study.json"
    if study_file.exists():
        previous = read_json(study_file, SpecError).get("fingerprint", {})
        changed = [k for k in _FINGERPRINT_KEYS if previous.get(k) != fingerprint.get(k)]
        if changed:
            raise SpecError(
                f"{out} holds a study with other {', '.join(changed)}: choose another --out, or remove {out}"
            )


def open_store(study: PreparedStudy, out: Path) -> None:
    """Create ``out`` (or check that it holds this very study) and write ``study.json``, ``split.json`` and
    ``profile.json``.

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings.
    """
    out.mkdir(parents=True, exist_ok=True)
    check_store(study, out)
    fingerprint = study.fingerprint()
    study_file = out / "study.json"
    atomic_write_json(study_file, {
        "config": study.config.to_dict(), "fingerprint": fingerprint, "labels": study.labels,
        "techniques": [t.to_dict() for t in study.techniques], "backend": study.backend, "metric": study.metric,
        "probes": study.probes,
    })
    atomic_write_json(out / "split.json", study.split.to_dict())
    atomic_write_json(out / "profile.json", profile(study.dataset, study.split))


def is_finished(task: RunTask) -> bool:
    """Whether the task's run folder holds a complete run of the same technique."""
    if not is_complete_run(task.run_dir):
        return False
    stored = read_json(task.run_dir / "config.json", ModelError).get("technique_spec")
    return bool(stored == task.technique.spec)


def outcome_from_run(run_dir: Path) -> RunOutcome:
    """A stored run as the comparison sees it."""
    return _outcome(read_run(run_dir))


def _read_reference(out: Path) -> RunOutcome | None:
    """The study's stored scikit-learn reference, or None when it was not fitted (``--no-reference``)."""
    folder = out / "reference"
    if not folder.is_dir():
        return None
    return _outcome(read_run_files(folder))


def _outcome(run: RunResult) -> RunOutcome:
    arrays = run.arrays()
    timings = run.metrics.get("timings", {})
    return RunOutcome(
        technique=run.metrics["technique"], spec=run.metrics["spec"], seed=int(run.metrics["seed"]),
        metrics=run.metrics["test_flat"], report=run.metrics["test"]["report"], probes=run.metrics.get("probes", []),
        seconds=float(timings.get("train_seconds", 0.0) + timings.get("eval_seconds", 0.0)),
        fit=run.metrics.get("head"), **arrays,
    )


def _read_outcomes(out: Path, techniques: list[str], seeds: list[int]) -> list[RunOutcome]:
    outcomes = []
    for run_dir in sorted((out / "runs").glob("*__seed*")):
        if not is_complete_run(run_dir):
            continue
        outcome = outcome_from_run(run_dir)
        if outcome.technique in techniques and outcome.seed in seeds:
            outcomes.append(outcome)
    if not outcomes:
        raise SpecError(f"{out} holds no finished runs yet: run imblab compare first")
    return sorted(outcomes, key=lambda o: (techniques.index(o.technique), o.seed))


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
    """
    out = Path(out)
    study_file = out / "study.json"
    if not study_file.is_file():
        raise SpecError(f"{out} is not an imblab study directory (no study.json)")
    meta: dict[str, Any] = read_json(study_file, SpecError)
    shape = (("techniques", list), ("labels", list), ("config", dict), ("metric", str), ("backend", str))
    if not all(isinstance(meta.get(k), t) for k, t in shape) or "seeds" not in meta["config"]:
        raise SpecError(f"{study_file} is damaged: it lacks {', '.join(k for k, _ in shape)} or seeds")
    wanted = techniques or [t.get("display_name") for t in meta["techniques"]]
    outcomes = _read_outcomes(out, wanted, seeds if seeds is not None else list(meta["config"]["seeds"]))
    config = {**meta["config"], "backend_resolved": meta["backend"], "labels": meta["labels"]}
    wants_reference = meta["config"].get("reference", True) if reference is None else reference
    reference_outcome = _read_reference(out) if wants_reference else None
    tuning = _read_tuning(out, {o.technique for o in outcomes})
    result = ComparisonResult(
        outcomes, meta["labels"], read_json(out / "profile.json", SpecError), config, environment(),
        baseline="baseline" if "baseline" in wanted else wanted[0], metric=meta["metric"], reference=reference_outcome,
        tuning=tuning,
    )
    # The outputs are a pure function of the runs: when they were made from these very runs, a re-run
    # (write=None) only reads them back. `imblab report DIR` re-renders unconditionally.
    runs = [f"{o.technique}__seed{o.seed}" for o in outcomes]
    state = {"imblab": __version__, "runs": runs, "metric": meta["metric"],
             "reference": reference_outcome.fit if reference_outcome is not None else None,
             "tuning": [[e["tuned"], e["spec"], e["summary"]["complete"]] for e in tuning["techniques"]] if tuning else None}
    state_file = out / _OUTPUT_STATE
    current = (
        state_file.is_file() and _read_state(state_file) == state
        and all((out / name).is_file() for name in _OUTPUT_FILES)
    )
    if write or (write is None and not current):
        write_outputs(result, out)
        atomic_write_json(state_file, state)
    return result


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


def _read_state(path: Path) -> Any:
    try:  # only decides whether the outputs are rewritten: a damaged one just means "rewrite"
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
