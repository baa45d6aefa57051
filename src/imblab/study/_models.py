"""Which trained models a study keeps (``--keep-models all|best|none``), and how to get the chosen one.

A study's statistics read only each run's predictions and metrics; a model is what a user deploys
afterwards, and for fine-tuning each is the whole network (about 90 MB for MiniLM, 500 MB for roberta-base:
27 runs would store 27 copies). So a study keeps

* ``all``: every run's ``model/`` (the default for tfidf and frozen, whose models are a linear head);
* ``best``: only the model of the *chosen run* — the median seed (by the study's metric) of the technique
  with the best mean (with several backends: the (backend, technique) best on validation,
  :attr:`~imblab.comparison.ComparisonResult.chosen`) — decided once every run is finished; the other runs' ``model/`` folders, which imblab
  wrote, are removed (the default for finetune);
* ``none``: no model.

A run stored without its model still counts as finished (:func:`imblab.run.is_complete_run`). Whatever the
policy, :func:`chosen_model` names the chosen run's model, or the ``imblab train`` command that rebuilds it
with the study's settings and seed (same numbers on CPU).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import atomic_remove, read_json
from ..comparison import ComparisonResult
from ..data import BUILTINS
from ..errors import SpecError
from ..evaluation import higher_is_better
from ..run import is_complete_run
from ._plan import run_dir

__all__ = ["ChosenModel", "chosen_model", "prune_models"]


@dataclass(frozen=True)
class ChosenModel:
    """The chosen run of a study: the best technique by the study's metric, its median seed.

    Attributes:
        technique: the technique's display name.
        seed: the median seed.
        run_dir: the run's folder.
        model_dir: its ``model/`` folder, or ``None`` when the study did not keep it.
        command: the ``imblab train`` command that rebuilds this run, model included.
    """

    technique: str
    seed: int
    run_dir: Path
    model_dir: Path | None
    command: str

    def hint(self) -> str:
        """One line for the user: where the chosen model is, or how to rebuild it."""
        where = f"{self.technique}, seed {self.seed}"
        if self.model_dir is not None:
            return f"Model ({where}): {self.model_dir}"
        return f"Model ({where}) not kept; rebuild it with: {self.command}"


def _best_technique(result: ComparisonResult) -> str:
    """The chosen technique: with several backends, the (backend, technique) best on validation
    (:attr:`ComparisonResult.chosen`); with one, the best mean on test, as the report ranks them."""
    if len(result.backends) > 1 and result.chosen is not None:
        return result.chosen.technique
    sign = 1.0 if higher_is_better(result.metric) else -1.0
    means = [(t, result.stat(t, result.metric)["mean"]) for t in result.techniques]
    finite = [(t, m) for t, m in means if m is not None and math.isfinite(m)]
    # Ties (and an all-NaN metric): the first technique in the study's order.
    return max(finite, key=lambda tm: sign * tm[1])[0] if finite else result.techniques[0]


def chosen_model(out: str | Path, result: ComparisonResult) -> ChosenModel:
    """The chosen run of the study in ``out`` (see the module docstring) and how to get its model.

    Raises:
        SpecError: ``out`` holds no readable ``study.json``.
    """
    out = Path(out)
    technique = _best_technique(result)
    seed = int(result.median_run(technique).seed)
    folder = run_dir(out, technique, seed)
    has_model = is_complete_run(folder, with_model=True)
    return ChosenModel(technique, seed, folder, folder / "model" if has_model else None,
                       rebuild_command(out, folder, out / "chosen-model"))


def prune_models(out: str | Path, result: ComparisonResult, policy: str) -> ChosenModel:
    """Apply the study's ``policy`` to the runs of ``result`` stored in ``out``; returns the chosen run.

    ``best`` removes every ``model/`` folder but the chosen run's, ``none`` every one; each removal is atomic
    (whole or gone). Only the runs of ``result`` are touched: their folders are imblab's own.
    """
    out = Path(out)
    if policy in ("best", "none"):
        keep = chosen_model(out, result).run_dir if policy == "best" else None
        for outcome in result.outcomes:
            folder = run_dir(out, outcome.technique, int(outcome.seed))
            if folder != keep:
                atomic_remove(folder / "model")
    return chosen_model(out, result)


def rebuild_command(out: Path, folder: Path, target: Path) -> str:
    """The ``imblab train`` command that trains the run stored in ``folder`` again, with the study's data,
    split, backend, model and training settings (every setting ``train`` takes, from the settings table),
    into ``target``."""
    from ..settings import to_arguments

    meta = read_json(out / "study.json", SpecError)
    config: dict[str, Any] = dict(meta.get("config", {}))
    stored = read_json(folder / "config.json", SpecError)
    dataset = str(config.get("dataset", "sms_spam"))
    probes = list(meta.get("probes") or [])
    builtin = BUILTINS.get(dataset)
    default_probes = list(builtin.default_probes) if builtin else []
    config["probes"] = probes if probes != default_probes else None
    config["backend"] = stored.get("backend", meta.get("backend", config.get("backend")))  # the run's own
    args = ["imblab", "train", dataset, "--technique", str(stored["technique_spec"]), "--seed", str(stored["seed"]),
            *to_arguments({k: v for k, v in config.items() if k != "dataset"}, "train"), "--out", str(target)]
    return shlex.join(args)
