"""The plan of a study: its settings resolved against the data, and one task per technique × seed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data import BUILTINS, Dataset, Split, split_dataset
from ..errors import SpecError
from ..evaluation import CostSetting, resolve_costs
from ..settings import fingerprint, train_settings
from ..techniques import Technique, parse_techniques, technique_from_config
from ._config import StudyConfig, resolve_keep_models, resolve_metric
from ._reference import REFERENCE_FOLDER, ReferenceTask
from ._runs import RunKey, arm_name, run_folder
from ._tasks import DataSpec, RunTask, remember_data

__all__ = ["PreparedStudy", "prepare_study", "run_dir"]


@dataclass
class PreparedStudy:
    """A study resolved against its data: the split, techniques and runs to do."""

    config: StudyConfig
    data: DataSpec
    dataset: Dataset
    split: Split
    labels: list[str]
    techniques: list[Technique]
    backend: str  # the backend, or several joined by commas ("tfidf,hybrid"): every technique runs on each
    metric: str
    probes: list[str]
    training: dict[str, Any]  # TrainConfig fields given explicitly; the rest are the backend's defaults
    costs: CostSetting | None = None  # only the outputs depend on it, never a run

    keep_models: str = "all"  # which runs keep their model: all, best or none (see _models.py)
    # The techniques each backend runs when they differ by backend (compare --tune: each backend's tuned specs);
    # None: every backend runs ``techniques``.
    per_backend: dict[str, list[Technique]] | None = None

    @property
    def backends(self) -> list[str]:
        """The study's backends, in the order given."""
        return self.backend.split(",")

    def arms(self) -> list[tuple[str, Technique]]:
        """Each (backend, technique) the study runs, backend by backend. With several backends each technique is
        renamed ``<backend>/<technique>`` (:func:`~._runs.arm_name`): one name per run in every table."""
        def runs_on(backend: str) -> list[Technique]:
            return (self.per_backend or {}).get(backend, self.techniques)

        if len(self.backends) == 1:
            return [(self.backend, t) for t in runs_on(self.backend)]
        return [(b, replace(t, display_name=arm_name(b, t.display_name))) for b in self.backends for t in runs_on(b)]

    def run_dir(self, out: Path, technique: Technique, seed: int) -> Path:
        """``out/runs/<technique>__seed<k>``: where the run of ``technique`` with ``seed`` is stored."""
        return run_dir(out, technique.display_name, seed)

    def tasks(self, out: Path) -> list[RunTask]:
        """Every run of the study, technique by technique, seed by seed."""
        # "best" is decided once every run is finished: until then each run stores its model.
        keep = self.keep_models != "none"
        return [
            RunTask(data=self.data, split=self.split, technique=technique, seed=seed, backend=backend,
                    model=self.config.model, run_dir=self.run_dir(out, technique, seed), training=dict(self.training),
                    probes=tuple(self.probes), keep_model=keep)
            for backend, technique in self.arms() for seed in self.config.seeds
        ]

    def reference_task(self, out: Path) -> ReferenceTask | None:
        """The study's scikit-learn reference (``out/reference``), or None when the study has none."""
        if not self.config.reference:
            return None
        return ReferenceTask(data=self.data, split=self.split, metric=self.metric, run_dir=out / REFERENCE_FOLDER,
                             probes=tuple(self.probes))

    def run_key(self, task: RunTask) -> RunKey:
        """What a stored run must be to count as ``task``'s run."""
        return RunKey(technique=task.technique.display_name, spec=task.technique.spec, seed=task.seed,
                      labels=self.labels, backend=task.backend, data_sha256=self.split.data_hash,
                      test=self.split.test.tolist(), with_model=self.keep_models == "all",
                      precision=self.precision(task.backend))

    def precision(self, backend: str) -> str | None:
        """What ``backend``'s transformer computes in here (``bf16`` or ``no``); None for a backend without one."""
        from ..backends import backend_spec

        if "encoder" not in backend_spec(backend).uses:
            return None
        from ..training import resolve_mixed_precision  # torch: only for a study with a transformer

        return resolve_mixed_precision(self.config.mixed_precision)

    def metadata(self) -> dict[str, Any]:
        """What ``study.json`` holds: the settings, their fingerprint, labels, techniques (each with its backend),
        backend (several: joined by commas), metric, probes."""
        return {
            "config": self.config.to_dict(), "fingerprint": self.fingerprint(), "labels": self.labels,
            "techniques": [{**t.to_dict(), "backend": b} for b, t in self.arms()], "backend": self.backend,
            "metric": self.metric, "probes": self.probes,
            "precision": {b: self.precision(b) for b in self.backends},
        }

    def fingerprint(self) -> dict[str, Any]:
        """What a stored run's numbers depend on besides its technique and seed."""
        resolved = {**self.config.to_dict(), **self.training, "backend": self.backend}
        return {
            "dataset_sha256": self.split.data_hash,
            "split": {"seed": self.split.seed, "fractions": list(self.split.fractions), "test_rows": len(self.split.test)},
            **fingerprint(resolved, self.backend),
        }


def run_dir(out: Path, technique: str, seed: int) -> Path:
    """``out/runs/<technique>__seed<k>``: the run folder of the technique displayed as ``technique``
    (:func:`~._runs.run_folder`)."""
    return out / "runs" / run_folder(technique, seed)


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
    folders = [run_folder(n, 0) for n in names]
    clashes = sorted({n for n, f in zip(names, folders) if folders.count(f) > 1})
    if clashes:  # a hash collision of two display names: never two techniques in one folder
        raise SpecError(f"techniques {', '.join(map(repr, clashes))} would share a run folder: rename one")
    return techniques


def _resolve_backends(names: str) -> str:
    """``auto`` resolved, in each of a comma-joined list of backends (``auto,tfidf`` is ``tfidf`` once)."""
    from ..backends import resolve_backend_name  # the light registry: torch only to resolve auto

    return ",".join(dict.fromkeys(resolve_backend_name(name) for name in names.split(",")))


def prepare_study(config: StudyConfig) -> PreparedStudy:
    """Load the data, split it once, resolve techniques, backend, metric and probes."""
    data = DataSpec.from_settings(config.to_dict())
    dataset = data.load()
    split = split_dataset(dataset, validation=config.val_fraction, test=config.test_fraction, seed=config.split_seed)
    remember_data(data, dataset, split.data_hash)
    labels = list(dataset.label_names)
    probes = config.probes
    if probes is None:
        builtin = BUILTINS.get(config.dataset)
        probes = list(builtin.default_probes) if builtin else []
    metric = resolve_metric(config.metric, labels)
    # What the runs are trained with: the TrainConfig settings the study gives (the others are each
    # backend's defaults), and its metric, which chooses the linear heads' C.
    training = {**train_settings(config.to_dict()), "metric": metric}
    backend = _resolve_backends(config.backend)
    # Checked here, before anything is trained or written: a bad cost or prior is one line, exit 2.
    train_counts = np.bincount(dataset.y[split.train], minlength=len(labels))
    costs = resolve_costs(config.costs, config.deploy_prior, labels, train_counts)
    techniques = _resolve_techniques(config.techniques, labels)
    from ..backends import check_technique_backend
    from ..techniques import check_search_rows

    for name in backend.split(","):  # smote on finetune: one line, before anything is written
        for technique in techniques:
            check_technique_backend(technique, name)
    for technique in techniques:  # and a sampler whose neighbour search would run for hours
        check_search_rows(technique.fit(train_counts, labels).sampler, train_counts, config.sampler_max_rows,
                          technique.display_name)
    return PreparedStudy(
        config=config, data=data, dataset=dataset, split=split, labels=labels,
        techniques=techniques, backend=backend,
        metric=metric, probes=list(probes), training=training, costs=costs,
        keep_models=resolve_keep_models(config.keep_models, backend),
    )
