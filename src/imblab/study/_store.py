"""The run store: a study's folder, its stored runs, and what a re-run may reuse.

    DIR/
      study.json, split.json, profile.json    the resolved study, its split and the data profile
      runs/<technique>__seed<k>/              one folder per run, exactly as ``imblab train`` stores it
      results.csv, probes.csv, differences.csv, summary.md, report.html, .outputs.json
      costs.csv, cost_curves.svg              with costs (--costs, --deploy-prior or [costs])

A complete run folder made with the same technique is never retrained, so re-running a study (after an
interruption or to add techniques) only trains what is missing. Each run folder is written atomically
(:func:`imblab.run.train_run`): an interruption loses only the runs in flight. Costs and the deployment prior are not part of the fingerprint:
they change the outputs, never a run, so a re-run with other costs retrains nothing and rewrites the outputs.
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
from ..evaluation import CostSetting, resolve_costs
from ..run import environment, is_complete_run, read_run
from ._outputs import write_outputs
from ._plan import PreparedStudy
from ._tasks import RunTask

__all__ = ["is_finished", "load_study", "open_store", "outcome_from_run"]

# Settings that change what a stored run means: a folder made with others cannot be resumed.
_FINGERPRINT_KEYS = ("dataset_sha256", "split", "backend", "model", "training")
_OUTPUT_STATE = ".outputs.json"
_OUTPUT_FILES = ("results.csv", "probes.csv", "summary.md", "report.html")
_COST_FILES = ("costs.csv", "cost_curves.svg")


def open_store(study: PreparedStudy, out: Path) -> None:
    """Create ``out`` (or check that it holds this very study) and write ``study.json``, ``split.json`` and
    ``profile.json``.

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings.
    """
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = study.fingerprint()
    study_file = out / "study.json"
    if study_file.exists():
        previous = read_json(study_file, SpecError).get("fingerprint", {})
        changed = [k for k in _FINGERPRINT_KEYS if previous.get(k) != fingerprint.get(k)]
        if changed:
            raise SpecError(
                f"{out} holds a study with other {', '.join(changed)}: choose another --out, or remove {out}"
            )
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
    run = read_run(run_dir)
    arrays = run.arrays()
    timings = run.metrics.get("timings", {})
    return RunOutcome(
        technique=run.metrics["technique"], spec=run.metrics["spec"], seed=int(run.metrics["seed"]),
        metrics=run.metrics["test_flat"], report=run.metrics["test"]["report"], probes=run.metrics.get("probes", []),
        seconds=float(timings.get("train_seconds", 0.0) + timings.get("eval_seconds", 0.0)), **arrays,
        **(run.validation_arrays() or {}),
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
) -> ComparisonResult:
    """Rebuild the comparison from the runs stored in ``out`` and write its report files.

    Args:
        out: the study folder.
        techniques: display names of the techniques to compare (default: the study's).
        seeds: the seeds to compare (default: the study's).
        write: True: write the outputs; None: only when they were not made from exactly these runs; False: never.
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
    profile_data = read_json(out / "profile.json", SpecError)
    costs = _study_costs(meta, profile_data, out)
    result = ComparisonResult(
        outcomes, meta["labels"], profile_data, config, environment(),
        baseline="baseline" if "baseline" in wanted else wanted[0], metric=meta["metric"], costs=costs,
    )
    # The outputs are a pure function of the runs and the costs: when they were made from these very runs
    # with these costs, a re-run (write=None) only reads them back. `imblab report DIR` re-renders unconditionally.
    runs = [f"{o.technique}__seed{o.seed}" for o in outcomes]
    state = {"imblab": __version__, "runs": runs, "metric": meta["metric"],
             "costs": None if costs is None else costs.to_dict()}
    state_file = out / _OUTPUT_STATE
    previous = _read_state(state_file) if state_file.is_file() else None
    expected = _OUTPUT_FILES + (_COST_FILES if costs is not None else ())
    current = previous == state and all((out / name).is_file() for name in expected)
    if write or (write is None and not current):
        write_outputs(result, out)
        if costs is None and isinstance(previous, dict) and previous.get("costs") is not None:
            for name in _COST_FILES:  # imblab wrote them for the costs it no longer has: they would mislead
                (out / name).unlink(missing_ok=True)
        atomic_write_json(state_file, state)
    return result


def _study_costs(meta: dict[str, Any], profile_data: dict[str, Any], out: Path) -> CostSetting | None:
    """The study's costs and deployment prior (study.json), resolved against its labels and training counts."""
    config = meta["config"]
    if config.get("costs") is None and config.get("deploy_prior") is None:
        return None
    labels = meta["labels"]
    train = profile_data.get("split", {}).get("counts", {}).get("train")
    if not isinstance(train, dict) or not all(isinstance(train.get(label), int) for label in labels):
        raise SpecError(f"{out / 'profile.json'} is damaged: no training counts per label, needed for the costs")
    return resolve_costs(config.get("costs"), config.get("deploy_prior"), labels, [train[label] for label in labels])


def _read_state(path: Path) -> Any:
    try:  # only decides whether the outputs are rewritten: a damaged one just means "rewrite"
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
