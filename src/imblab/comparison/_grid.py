"""Run a study: every technique × every seed on one split, each run stored and resumable.

Runs live in ``DIR/runs/<technique>__seed<k>/`` exactly as ``imblab train`` stores them. A
complete run directory is never retrained, so re-running a study (after an interruption or to
add techniques) only trains what is missing. Each run is written atomically: a SIGINT/SIGTERM
loses only the run in flight.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import atomic_write_json, read_json
from ..data import BUILTINS, Dataset, Split, load_dataset, profile, split_dataset, stratified_subsample
from ..errors import ModelError, SpecError
from ..run import environment, is_complete_run, read_run
from ..techniques import Technique, parse_techniques, technique_from_config
from ._outcome import RunOutcome
from ._result import ComparisonResult
from ._study import StudyConfig, normalise_metric

__all__ = ["PreparedStudy", "prepare_study", "run_study", "load_study", "outcome_from_run"]

log = logging.getLogger(__name__)

# Settings that change what a stored run means: a directory made with others cannot be resumed.
_FINGERPRINT_KEYS = ("dataset_sha256", "split", "backend", "model", "training")


@dataclass
class PreparedStudy:
    """A study resolved against its data: the split, techniques and runs to do."""

    config: StudyConfig
    dataset: Dataset
    split: Split
    labels: list[str]
    techniques: list[Technique]
    backend: str
    metric: str
    probes: list[str]
    training: dict[str, Any]  # TrainConfig fields given explicitly; the rest are the backend's defaults

    def run_dir(self, out: Path, technique: Technique, seed: int) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", technique.display_name).strip("_") or "technique"
        return out / "runs" / f"{slug}__seed{seed}"

    def plan(self) -> list[tuple[Technique, int]]:
        return [(t, seed) for t in self.techniques for seed in self.config.seeds]

    def fingerprint(self) -> dict[str, Any]:
        return {
            "dataset_sha256": self.dataset.content_hash(),
            "split": {"seed": self.split.seed, "fractions": list(self.split.fractions), "test_rows": len(self.split.test)},
            "backend": self.backend,
            "model": self.config.model,
            "training": {k: self.training.get(k) for k in ("epochs", "batch_size", "lr", "max_length")},
        }


def _resolve_techniques(entries: list[dict[str, Any]], labels: list[str]) -> list[Technique]:
    techniques: list[Technique] = []
    for entry in entries:
        if "spec" in entry:
            found = parse_techniques(str(entry["spec"]), labels)
            if entry.get("display_name"):
                if len(found) != 1:
                    raise SpecError(f"display_name {entry['display_name']!r} needs a single technique, not {entry['spec']!r}")
                found = [technique_from_config(found[0].name, found[0].params, labels, entry["display_name"])]
            techniques.extend(found)
        else:
            techniques.append(technique_from_config(entry["name"], entry.get("params") or {}, labels, entry.get("display_name")))
    names = [t.display_name for t in techniques]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"techniques {', '.join(duplicates)} appear twice: give each a distinct display_name")
    return techniques


def prepare_study(config: StudyConfig) -> PreparedStudy:
    """Load the data, split it once, resolve techniques, backend, metric and probes."""
    dataset = load_dataset(
        config.dataset, text_column=config.text_column, label_column=config.label_column,
        label_names=config.label_names, encoding=config.encoding, dedupe=config.dedupe,
    )
    if config.limit is not None:
        dataset = stratified_subsample(dataset, int(config.limit), seed=config.split_seed)
    split = split_dataset(dataset, validation=config.val_fraction, test=config.test_fraction, seed=config.split_seed)
    labels = list(dataset.label_names)
    if not config.seeds:
        raise SpecError("a study needs at least one seed")
    probes = config.probes
    if probes is None:
        builtin = BUILTINS.get(config.dataset)
        probes = list(builtin.default_probes) if builtin else []
    training = {k: v for k, v in (("epochs", config.epochs), ("batch_size", config.batch_size), ("lr", config.lr),
                                  ("max_length", config.max_length)) if v is not None}
    return PreparedStudy(
        config=config, dataset=dataset, split=split, labels=labels,
        techniques=_resolve_techniques(config.techniques, labels), backend=_resolve_backend(config.backend),
        metric=normalise_metric(config.metric, labels), probes=list(probes), training=training,
    )


def _stored_spec(run_dir: Path) -> str | None:
    return read_json(run_dir / "config.json", ModelError).get("technique_spec")


def _resolve_backend(name: str) -> str:
    if name in ("tfidf", "frozen", "finetune"):
        return name  # no need to import torch to know that
    from ..backends import resolve_backend_name

    return resolve_backend_name(name)


def outcome_from_run(run_dir: Path) -> RunOutcome:
    """A stored run as the comparison sees it."""
    run = read_run(run_dir)
    arrays = run.arrays()
    timings = run.metrics.get("timings", {})
    return RunOutcome(
        technique=run.metrics["technique"], spec=run.metrics["spec"], seed=int(run.metrics["seed"]),
        metrics=run.metrics["test_flat"], report=run.metrics["test"]["report"], probes=run.metrics.get("probes", []),
        seconds=float(timings.get("train_seconds", 0.0) + timings.get("eval_seconds", 0.0)), **arrays,
    )


ProgressCallback = Callable[[str, int, int, str], None]  # (event, done, total, run name)


def run_study(study: PreparedStudy, out: str | Path, *, on_progress: ProgressCallback | None = None) -> ComparisonResult:
    """Train every missing (technique, seed) run into ``out/runs`` and write the report files.

    Raises:
        SpecError: ``out`` holds a study made with other data, split, backend, model or training settings.
    """
    out = Path(out)
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

    plan = study.plan()
    trained = 0
    train_config = None
    notify = on_progress or (lambda *args: None)
    for done, (technique, seed) in enumerate(plan):
        run_dir = study.run_dir(out, technique, seed)
        name = f"{technique.display_name} · seed {seed}"
        if is_complete_run(run_dir) and _stored_spec(run_dir) == technique.spec:
            notify("skipped", done + 1, len(plan), name)
            continue
        notify("start", done, len(plan), name)
        if train_config is None:  # the model stack (torch) is imported only when something needs training
            from ..model import TrainConfig
            from ..run import train_run

            train_config = TrainConfig(**study.training)
        started = time.perf_counter()
        train_run(
            study.dataset, study.split, technique, backend=study.backend, model_name=study.config.model, seed=seed,
            config=train_config, probes=study.probes, out=run_dir, progress=False,
        )
        trained += 1
        log.info("%s done in %.1f s", name, time.perf_counter() - started)
        notify("done", done + 1, len(plan), name)
    # Nothing trained and the outputs were made from these very runs: they are up to date (a pure function
    # of the runs), so a re-run only reads them back. `imblab report DIR` re-renders unconditionally.
    return load_study(out, techniques=[t.display_name for t in study.techniques], seeds=list(study.config.seeds),
                      write=trained > 0 or None)


def _read_state(path: Path) -> Any:
    try:  # only decides whether the outputs are rewritten: a damaged one just means "rewrite"
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


_OUTPUT_STATE = ".outputs.json"
_OUTPUT_FILES = ("results.csv", "probes.csv", "summary.md", "report.html")


def load_study(
    out: str | Path, *, techniques: list[str] | None = None, seeds: list[int] | None = None, write: bool | None = True,
) -> ComparisonResult:
    """Rebuild the comparison from the runs stored in ``out`` and write its report files.

    Args:
        write: True: write the outputs; None: only when they were not made from exactly these runs.
    """
    out = Path(out)
    study_file = out / "study.json"
    if not study_file.is_file():
        raise SpecError(f"{out} is not an imblab study directory (no study.json)")
    meta = read_json(study_file, SpecError)
    shape = (("techniques", list), ("labels", list), ("config", dict), ("metric", str), ("backend", str))
    if not all(isinstance(meta.get(k), t) for k, t in shape) or "seeds" not in meta["config"]:
        raise SpecError(f"{study_file} is damaged: it lacks {', '.join(k for k, _ in shape)} or seeds")
    study_techniques = [t.get("display_name") for t in meta["techniques"]]
    wanted = techniques or study_techniques
    wanted_seeds = seeds if seeds is not None else list(meta["config"]["seeds"])
    outcomes = []
    for run_dir in sorted((out / "runs").glob("*__seed*")):
        if not is_complete_run(run_dir):
            continue
        outcome = outcome_from_run(run_dir)
        if outcome.technique in wanted and outcome.seed in wanted_seeds:
            outcomes.append(outcome)
    if not outcomes:
        raise SpecError(f"{out} holds no finished runs yet: run imblab compare first")
    outcomes.sort(key=lambda o: (wanted.index(o.technique), o.seed))
    config = {**meta["config"], "backend_resolved": meta["backend"], "labels": meta["labels"]}
    baseline = "baseline" if "baseline" in wanted else wanted[0]
    result = ComparisonResult(
        outcomes, meta["labels"], read_json(out / "profile.json", SpecError), config, environment(),
        baseline=baseline, metric=meta["metric"],
    )
    state = {"imblab": __version__, "runs": [f"{o.technique}__seed{o.seed}" for o in outcomes], "metric": meta["metric"]}
    state_file = out / _OUTPUT_STATE
    current = (
        state_file.is_file() and _read_state(state_file) == state
        and all((out / name).is_file() for name in _OUTPUT_FILES)
    )
    if write or (write is None and not current):
        result.write(out)
        atomic_write_json(state_file, state)
    return result
