"""The plan of a study: its settings resolved against the data, and one task per technique × seed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import BUILTINS, Dataset, Split, split_dataset
from ..errors import SpecError
from ..evaluation import CostSetting, resolve_costs
from ..techniques import Technique, parse_techniques, technique_from_config
from ._config import StudyConfig, resolve_metric
from ._tasks import DataSpec, RunTask, remember_data

__all__ = ["PreparedStudy", "prepare_study"]

# The training settings a study sets; the others are each backend's defaults.
_TRAINING_KEYS = ("epochs", "batch_size", "lr", "max_length")


@dataclass
class PreparedStudy:
    """A study resolved against its data: the split, techniques and runs to do."""

    config: StudyConfig
    data: DataSpec
    dataset: Dataset
    split: Split
    labels: list[str]
    techniques: list[Technique]
    backend: str
    metric: str
    probes: list[str]
    training: dict[str, Any]  # TrainConfig fields given explicitly; the rest are the backend's defaults
    costs: CostSetting | None = None  # only the outputs depend on it, never a run

    def run_dir(self, out: Path, technique: Technique, seed: int) -> Path:
        """``out/runs/<technique>__seed<k>``: where the run of ``technique`` with ``seed`` is stored."""
        slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", technique.display_name).strip("_") or "technique"
        return out / "runs" / f"{slug}__seed{seed}"

    def tasks(self, out: Path) -> list[RunTask]:
        """Every run of the study, technique by technique, seed by seed."""
        return [
            RunTask(data=self.data, split=self.split, technique=technique, seed=seed, backend=self.backend,
                    model=self.config.model, run_dir=self.run_dir(out, technique, seed), training=dict(self.training),
                    probes=tuple(self.probes))
            for technique in self.techniques for seed in self.config.seeds
        ]

    def fingerprint(self) -> dict[str, Any]:
        """What a stored run's numbers depend on besides its technique and seed."""
        return {
            "dataset_sha256": self.split.data_hash,
            "split": {"seed": self.split.seed, "fractions": list(self.split.fractions), "test_rows": len(self.split.test)},
            "backend": self.backend,
            "model": self.config.model,
            "training": {k: self.training.get(k) for k in _TRAINING_KEYS},
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


def _resolve_backend(name: str) -> str:
    if name in ("tfidf", "frozen", "finetune"):
        return name  # no need to import torch to know that
    from ..backends import resolve_backend_name

    return resolve_backend_name(name)


def prepare_study(config: StudyConfig) -> PreparedStudy:
    """Load the data, split it once, resolve techniques, backend, metric and probes."""
    data = DataSpec(
        dataset=config.dataset, text_column=config.text_column, label_column=config.label_column,
        label_names=config.label_names, encoding=config.encoding, dedupe=config.dedupe, limit=config.limit,
        limit_seed=config.split_seed,
    )
    dataset = data.load()
    split = split_dataset(dataset, validation=config.val_fraction, test=config.test_fraction, seed=config.split_seed)
    remember_data(data, dataset, split.data_hash)
    labels = list(dataset.label_names)
    if not config.seeds:
        raise SpecError("a study needs at least one seed")
    probes = config.probes
    if probes is None:
        builtin = BUILTINS.get(config.dataset)
        probes = list(builtin.default_probes) if builtin else []
    training = {key: getattr(config, key) for key in _TRAINING_KEYS if getattr(config, key) is not None}
    # Checked here, before anything is trained or written: a bad cost or prior is one line, exit 2.
    train_counts = np.bincount(dataset.y[split.train], minlength=len(labels))
    costs = resolve_costs(config.costs, config.deploy_prior, labels, train_counts)
    return PreparedStudy(
        config=config, data=data, dataset=dataset, split=split, labels=labels,
        techniques=_resolve_techniques(config.techniques, labels), backend=_resolve_backend(config.backend),
        metric=resolve_metric(config.metric, labels), probes=list(probes), training=training, costs=costs,
    )
