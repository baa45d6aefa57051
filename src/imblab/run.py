"""One training run: train a technique on a split, evaluate it, store everything in a run directory.

``imblab train`` is one run; ``imblab compare`` is a grid of them, stored the same way. A run
directory is built under a temporary name and renamed into place when complete, so an
interrupted run leaves nothing behind and a finished one is never half-written::

    run_dir/
      config.json       resolved settings, versions, the split (row indices)
      metrics.json      validation and test metrics, probe probabilities, timings
      predictions.csv   test split: id, text, true label, decision, probabilities raw and prior-corrected
      model/            the saved model (safetensors or npz/JSON + imblab.json), loadable by load_model
      train.log         one line per epoch
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__
from ._io import atomic_directory
from .data import Dataset, Split
from .errors import ModelError

if TYPE_CHECKING:  # the model stack imports torch: only a run that trains pays for it
    from .model import TrainConfig, TrainedModel
    from .techniques import Technique

__all__ = ["RunResult", "train_run", "read_run", "environment", "is_complete_run"]


@dataclass(frozen=True)
class RunResult:
    """What a stored run holds, read back from its directory."""

    run_dir: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    predictions: pd.DataFrame

    @property
    def labels(self) -> list[str]:
        return list(self.config["labels"])

    def arrays(self) -> dict[str, np.ndarray]:
        """y_true, pred (label indices) and proba / proba_corrected (n, C) of the test split."""
        index = {label: i for i, label in enumerate(self.labels)}
        frame = self.predictions
        return {
            "y_true": frame["label"].map(index).to_numpy(dtype=np.int64),
            "pred": frame["predicted"].map(index).to_numpy(dtype=np.int64),
            "proba": frame[[f"p_raw:{label}" for label in self.labels]].to_numpy(dtype=np.float64),
            "proba_corrected": frame[[f"p:{label}" for label in self.labels]].to_numpy(dtype=np.float64),
        }


def environment() -> dict[str, Any]:
    """Package versions and machine, stored with every run and report (without importing torch)."""
    import os
    import sys
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    torch = sys.modules.get("torch")  # CUDA is worth naming only where this process used torch
    return {
        "imblab": __version__,
        "python": platform.python_version(),
        **{name: installed(name) for name in ("torch", "transformers", "accelerate", "scikit-learn", "numpy")},
        "machine": f"{platform.system()} {platform.machine()}",
        "cpu_count": os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch is not None and torch.cuda.is_available() else None,
    }


def _probe_rows(model: TrainedModel, probes: Sequence[str]) -> list[dict[str, Any]]:
    if not probes:
        return []
    logits = model.predict_logits(list(probes))
    raw = model.proba_from_logits(logits, prior="raw")
    corrected = model.proba_from_logits(logits, prior="true")
    return [
        {
            "text": text,
            "raw": dict(zip(model.labels, map(float, raw[i]))),
            "corrected": dict(zip(model.labels, map(float, corrected[i]))),
        }
        for i, text in enumerate(probes)
    ]


def train_run(
    dataset: Dataset,
    split: Split,
    technique: Technique,
    *,
    backend: str = "tfidf",
    model_name: str | None = None,
    seed: int = 0,
    config: TrainConfig | None = None,
    probes: Sequence[str] = (),
    out: str | Path,
    progress: bool = True,
) -> RunResult:
    """Train ``technique`` on ``split``'s train part, evaluate on validation and test, store in ``out``.

    Returns the stored run, as :func:`read_run` would read it back.
    """
    from .evaluation import evaluate, flatten_metrics
    from .model import TrainConfig, TrainedModel

    out = Path(out)
    labels = list(dataset.label_names)
    train, val, test = (split.take(dataset, part) for part in ("train", "validation", "test"))
    config = config or TrainConfig()
    started = time.perf_counter()
    model = TrainedModel.fit(
        list(train.texts), train.y, list(val.texts), val.y, labels=labels, technique=technique,
        backend=backend, model_name=model_name, seed=seed, config=config, progress=progress,
    )
    train_seconds = time.perf_counter() - started

    started = time.perf_counter()
    results: dict[str, Any] = {}
    views: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, part in (("validation", val), ("test", test)):
        logits = model.predict_logits(list(part.texts))  # one forward pass for every view below
        views[name] = (logits, model.proba_from_logits(logits, prior="raw"), model.decide(logits))
        results[name] = evaluate(part.y, views[name][1], labels, pred=views[name][2])
    test_logits, raw, decisions = views["test"]
    corrected = model.proba_from_logits(test_logits, prior="true")
    results["test_prior_corrected"] = evaluate(test.y, corrected, labels)
    eval_seconds = time.perf_counter() - started

    predictions = pd.DataFrame({"id": list(test.row_ids), "text": list(test.texts), "label": list(test.labels)})
    predictions["predicted"] = [labels[k] for k in decisions]
    for c, label in enumerate(labels):
        predictions[f"p_raw:{label}"] = raw[:, c]
    for c, label in enumerate(labels):
        predictions[f"p:{label}"] = corrected[:, c]

    run_config = {
        "dataset": {"name": dataset.name, "source": dataset.source, "sha256": dataset.content_hash(),
                    "rows": len(dataset), "removed_duplicates": dataset.removed_duplicates},
        "labels": labels,
        "technique": technique.to_dict(),
        "technique_spec": technique.spec,
        "display_name": technique.display_name,
        "backend": model.backend_name,
        "model_name": model_name,
        "seed": seed,
        "training": model.resolved_config(),
        "probes": list(probes),
        "environment": environment(),
        "split": split.to_dict(),
    }
    metrics = {
        "technique": technique.display_name,
        "spec": technique.spec,
        "backend": model.backend_name,
        "seed": seed,
        **results,
        "test_flat": flatten_metrics(results["test"], labels),
        "head": model.backend.fit_info,  # the linear heads: the C chosen on validation and its path
        "probes": _probe_rows(model, probes),
        "timings": {"train_seconds": train_seconds, "eval_seconds": eval_seconds},
    }
    history = getattr(model, "history", None) or []
    with atomic_directory(out) as tmp:
        model.save(tmp / "model")
        (tmp / "config.json").write_text(json.dumps(run_config, indent=2, default=_default) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_default) + "\n")
        predictions.to_csv(tmp / "predictions.csv", index=False)
        (tmp / "train.log").write_text("".join(json.dumps(h, default=_default) + "\n" for h in history))
    return read_run(out)


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return str(obj)


def is_complete_run(run_dir: str | Path) -> bool:
    run_dir = Path(run_dir)
    return all((run_dir / name).exists() for name in ("config.json", "metrics.json", "predictions.csv", "model"))


def read_run(run_dir: str | Path) -> RunResult:
    """Read a stored run back (ModelError if the directory is not a complete run)."""
    run_dir = Path(run_dir)
    if not is_complete_run(run_dir):
        raise ModelError(f"{run_dir} is not a complete imblab run (config.json, metrics.json, predictions.csv, model/)")
    return RunResult(
        run_dir=run_dir,
        config=json.loads((run_dir / "config.json").read_text()),
        metrics=json.loads((run_dir / "metrics.json").read_text()),
        predictions=pd.read_csv(
            run_dir / "predictions.csv", keep_default_na=False, float_precision="round_trip",
            dtype={"text": str, "label": str, "predicted": str},
        ),
    )
