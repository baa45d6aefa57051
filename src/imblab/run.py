"""One training run: train a technique on a split, evaluate it, store everything in a run directory.

``imblab train`` is one run; ``imblab compare`` is a grid of them, stored the same way. A run
directory is built under a temporary name and renamed into place when complete, so an
interrupted run leaves nothing behind and a finished one is never half-written::

    run_dir/
      config.json       resolved settings, versions, the split (row indices)
      metrics.json      validation and test metrics, probe probabilities, timings
      predictions.csv   test split: id, text, true label, decision, probabilities raw and prior-corrected
      validation.csv    validation split: id, true label, probabilities raw and prior-corrected (what a
                        cost-optimal threshold is tuned on at report time, for any costs)
      model/            the saved model (safetensors or npz/JSON + imblab.json), loadable by load_model;
                        absent from a study's runs whose model was not kept (``compare --keep-models``)
      train.log         one line per epoch
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._version import __version__, package_version
from ._io import (atomic_directory, check_output_dir, holds_only, read_json, read_regular_bytes, unescape_csv_cells,
                  write_csv_text)
from ._model_dir import METADATA_FILE, check_model_dir, is_model_dir, resolve_model_dir
from .data import Dataset, Split
from .errors import ModelError

if TYPE_CHECKING:  # the model stack imports torch: only a run that trains pays for it
    from .evaluation import CostSetting
    from .model import TrainConfig, TrainedModel
    from .techniques import Technique

__all__ = ["RunResult", "train_run", "read_run", "environment", "is_complete_run", "is_run_dir", "check_run_out",
           "RUN_FILES", "run_files", "store_run_files", "metrics_json_default", "METADATA_FILE", "resolve_model_dir",
           "check_model_dir", "estimate_prior", "run_validation"]

RUN_FILES = ("config.json", "metrics.json", "predictions.csv", "validation.csv", "model", "train.log")
"""What a run folder holds; a folder with anything else was not made by imblab and is never replaced."""

_RESULT_FILES = ("config.json", "metrics.json", "predictions.csv")
"""What a finished run holds at least: a study's statistics read nothing else (its model may not be kept)."""


@dataclass(frozen=True)
class RunResult:
    """What a stored run holds, read back from its directory."""

    run_dir: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    validation: pd.DataFrame | None = None  # None for runs made before validation.csv was stored

    @property
    def labels(self) -> list[str]:
        return list(self.config["labels"])

    def validation_arrays(self) -> dict[str, np.ndarray] | None:
        """val_y (label indices) and val_proba_corrected (m, C) of the validation split; None if not stored."""
        if self.validation is None:
            return None
        index = {label: i for i, label in enumerate(self.labels)}
        return {
            "val_y": self.validation["label"].map(index).to_numpy(dtype=np.int64),
            "val_proba_corrected": self.validation[[f"p:{label}" for label in self.labels]].to_numpy(dtype=np.float64),
        }

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


def _installed_versions() -> dict[str, str | None]:
    return {name: package_version(name) for name in ("torch", "transformers", "accelerate", "scikit-learn", "numpy")}


def environment() -> dict[str, Any]:
    """Package versions and machine, stored with every run and report (without importing torch)."""
    import sys

    torch = sys.modules.get("torch")  # CUDA is worth naming only where this process used torch
    return {
        "imblab": __version__,
        "python": platform.python_version(),
        **_installed_versions(),
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
    backend: str = "auto",
    model_name: str | None = None,
    seed: int = 0,
    config: TrainConfig | None = None,
    probes: Sequence[str] = (),
    out: str | Path,
    progress: bool = True,
    save_model: bool = True,
    costs: CostSetting | None = None,
) -> RunResult:
    """Train ``technique`` on ``split``'s train part, evaluate on validation and test, store in ``out``.

    Returns the stored run, as :func:`read_run` would read it back.

    ``save_model=False`` stores the run without its ``model/`` folder (a study that keeps only some models).

    With ``costs`` (resolved against the training split, :func:`imblab.evaluation.resolve_costs`), the model
    stores the costs and deployment prior given, and ``metrics.json`` gets the expected cost on test of the
    Bayes decisions, of the threshold tuned on validation and of the technique's own decisions.

    Raises:
        OutputError: ``out`` is a file, not writable, or a non-empty folder that is not an imblab run or
            model folder (checked before training: see :func:`imblab._io.check_output_dir`).
    """
    out = check_run_out(out)  # before importing torch and training
    from .evaluation import flatten_metrics
    from .model import TrainConfig, TrainedModel

    labels = list(dataset.label_names)
    if costs is not None and list(costs.labels) != labels:
        raise ValueError(f"costs for labels {list(costs.labels)}, the data has {labels}")
    train, val, test = (split.take(dataset, part) for part in ("train", "validation", "test"))
    config = config or TrainConfig()
    started = time.perf_counter()
    model = TrainedModel.fit(
        list(train.texts), train.y, list(val.texts), val.y, labels=labels, technique=technique,
        backend=backend, model_name=model_name, seed=seed, config=config, progress=progress,
    )
    train_seconds = time.perf_counter() - started

    started = time.perf_counter()
    evaluated = _Evaluated.of(model, val, test, labels, costs)
    eval_seconds = time.perf_counter() - started
    run_config = {
        "dataset": {"name": dataset.name, "source": dataset.source, "sha256": dataset.content_hash(),
                    "rows": len(dataset), "removed_duplicates": dataset.removed_duplicates},
        "labels": labels, "technique": technique.to_dict(), "technique_spec": technique.spec,
        "display_name": technique.display_name, "backend": model.backend_name, "model_name": model_name, "seed": seed,
        "training": model.resolved_config(), "probes": list(probes), "environment": environment(),
        "split": split.to_dict(),
    }
    metrics = {
        "technique": technique.display_name, "spec": technique.spec, "backend": model.backend_name, "seed": seed,
        **evaluated.results,
        "test_flat": flatten_metrics(evaluated.results["test"], labels),
        "head": model.backend.fit_info,  # the linear heads: the C chosen on validation and its path
        "precision": model.precision,  # what the transformer computed in: bf16, no, or None (no transformer)
        "probes": _probe_rows(model, probes),
        "timings": {"train_seconds": train_seconds, "eval_seconds": eval_seconds},
    }
    if evaluated.costs is not None:
        metrics["costs"] = evaluated.costs
    _store(out, model if save_model else None, run_config, metrics, evaluated, getattr(model, "history", None) or [])
    return read_run(out)


@dataclass(frozen=True)
class _Evaluated:
    """A trained model's validation and test results, and the prediction tables a run stores."""

    results: dict[str, Any]
    predictions: pd.DataFrame
    validation: pd.DataFrame
    costs: dict[str, Any] | None

    @classmethod
    def of(cls, model: TrainedModel, val: Any, test: Any, labels: list[str], costs: CostSetting | None) -> _Evaluated:
        from .evaluation import evaluate, run_costs

        results: dict[str, Any] = {}
        views: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, part in (("validation", val), ("test", test)):
            logits = model.predict_logits(list(part.texts))  # one forward pass for every view below
            views[name] = (logits, model.proba_from_logits(logits, prior="raw"), model.decide(logits))
            results[name] = evaluate(part.y, views[name][1], labels, pred=views[name][2])
        test_logits, raw, decisions = views["test"]
        corrected = model.proba_from_logits(test_logits, prior="true")
        results["test_prior_corrected"] = evaluate(test.y, corrected, labels)
        val_corrected = model.proba_from_logits(views["validation"][0], prior="true")
        cost_results = None
        if costs is not None:
            model.keep_costs(costs)
            cost_results = {"setting": costs.to_dict(), "described": costs.describe(),
                            **run_costs(costs, test.y, corrected, decisions, val.y, val_corrected).to_dict()}
        # Built in one go: a column added per label fragments the frame (a PerformanceWarning per run at 50 labels).
        predictions = pd.DataFrame({
            "id": list(test.row_ids), "text": list(test.texts), "label": list(test.labels),
            "predicted": [labels[k] for k in decisions],
            **{f"p_raw:{label}": raw[:, c] for c, label in enumerate(labels)},
            **{f"p:{label}": corrected[:, c] for c, label in enumerate(labels)},
        })
        validation = pd.DataFrame({
            "id": list(val.row_ids), "label": list(val.labels),
            **{f"p_raw:{label}": views["validation"][1][:, c] for c, label in enumerate(labels)},
            **{f"p:{label}": val_corrected[:, c] for c, label in enumerate(labels)},
        })
        return cls(results, predictions, validation, cost_results)


def _store(out: Path, model: TrainedModel | None, run_config: dict[str, Any], metrics: dict[str, Any],
           evaluated: _Evaluated, history: list[dict[str, Any]]) -> None:
    """Write the run folder ``out`` atomically (with ``model/`` unless ``model`` is None)."""
    with atomic_directory(out, recognise=_replaceable, what="run") as tmp:
        if model is not None:
            model.save(tmp / "model")
        (tmp / "config.json").write_text(json.dumps(run_config, indent=2, default=metrics_json_default) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=metrics_json_default) + "\n")
        (tmp / "predictions.csv").write_text(write_csv_text(evaluated.predictions, reversible=True), encoding="utf-8")
        (tmp / "validation.csv").write_text(write_csv_text(evaluated.validation, reversible=True), encoding="utf-8")
        (tmp / "train.log").write_text("".join(json.dumps(h, default=metrics_json_default) + "\n" for h in history))


def metrics_json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for run files: numpy values as lists/numbers, dataclasses as dicts."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return str(obj)


def _replaceable(path: Path) -> bool:
    return is_run_dir(path) or is_model_dir(path)


def check_run_out(out: str | Path) -> Path:
    """``out`` if a run may be written there: missing, empty, an imblab run or model folder, and writable.

    Raises:
        OutputError: ``out`` is a file, not writable, or a non-empty folder imblab did not make.
    """
    return check_output_dir(out, recognise=_replaceable, what="run")


def is_complete_run(run_dir: str | Path, *, with_model: bool = False) -> bool:
    """Whether ``run_dir`` holds a finished run: config.json, metrics.json and predictions.csv (all that a
    study's statistics read), and with ``with_model`` its ``model/`` folder too.

    The one rule for "finished": a study that does not keep every model (``compare --keep-models``) counts
    a run stored without its model as finished; a study's scikit-learn reference is stored this way too.
    """
    run_dir = Path(run_dir)
    return all((run_dir / name).exists() for name in _RESULT_FILES) and (not with_model or (run_dir / "model").is_dir())


def is_run_dir(path: str | Path) -> bool:
    """A run folder imblab made (so imblab may replace it): finished (with or without its model), its
    ``config.json`` imblab's (it names imblab's version and the labels), its ``model/`` (if any) a model folder
    imblab made, and nothing in it that imblab does not write there."""
    path = Path(path)
    if path.is_symlink() or not holds_only(path, RUN_FILES) or not is_complete_run(path):
        return False
    try:
        config = read_json(path / "config.json", ModelError, limit=1 << 28)
    except ModelError:
        return False
    environment = config.get("environment")
    if not (isinstance(environment, dict) and isinstance(environment.get("imblab"), str)
            and isinstance(config.get("labels"), list)):
        return False
    return not (path / "model").exists() or is_model_dir(path / "model")


def read_run(run_dir: str | Path) -> RunResult:
    """Read a stored run back.

    Raises:
        ModelError: the directory is not a complete run, or one of its files is damaged (truncated,
            not JSON/CSV, missing columns or labels); the message names the file.
    """
    run_dir = Path(run_dir)
    if not is_complete_run(run_dir):
        raise ModelError(f"{run_dir} is not a complete imblab run (config.json, metrics.json, predictions.csv)")
    config = read_json(run_dir / "config.json", ModelError)
    metrics = read_json(run_dir / "metrics.json", ModelError)
    labels = config.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise ModelError(f"{run_dir / 'config.json'} is damaged: no list of labels")
    missing = [key for key in _METRICS_KEYS if key not in metrics]
    if (missing or not isinstance(metrics.get("test"), dict) or not isinstance(metrics["test"].get("report"), dict)
            or not isinstance(metrics.get("test_flat"), dict)):
        raise ModelError(f"{run_dir / 'metrics.json'} is damaged: missing {', '.join(missing) or 'test metrics'}")
    _check_numbers(run_dir / "metrics.json", metrics)
    predictions = _read_predictions(run_dir / "predictions.csv", labels)
    validation_file = run_dir / "validation.csv"
    validation = _read_predictions(validation_file, labels, test=False) if validation_file.exists() else None
    return RunResult(run_dir=run_dir, config=config, metrics=metrics, predictions=predictions, validation=validation)


_MAY_BE_UNDEFINED = ("pr_auc", "roc_auc")  # NaN when the test split lacks a class's positives or negatives


def _check_numbers(path: Path, metrics: dict[str, Any]) -> None:
    """What the comparison computes with: every test metric a number (finite but for the two that may be
    undefined), the seed an integer, the timings finite numbers ≥ 0."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    bad = [name for name, value in metrics["test_flat"].items()
           if not number(value) or (not math.isfinite(value) and name not in _MAY_BE_UNDEFINED)]
    seed = metrics["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool):
        bad.append("seed")
    timings = metrics.get("timings", {})
    if not isinstance(timings, dict):
        bad.append("timings")
    else:
        bad += [f"timings.{k}" for k, v in timings.items() if not number(v) or not math.isfinite(v) or v < 0]
    if bad:
        raise ModelError(f"{path} is damaged: {', '.join(bad[:3])}{' and more' if len(bad) > 3 else ''} "
                         "not a valid number")


def run_files(run_dir: str | Path) -> dict[str, bytes]:
    """Every file of a stored run, by path relative to ``run_dir`` (what a remote worker sends back)."""
    run_dir = Path(run_dir)
    return {path.relative_to(run_dir).as_posix(): path.read_bytes()
            for path in sorted(run_dir.rglob("*")) if path.is_file()}


def store_run_files(out: str | Path, files: dict[str, bytes]) -> RunResult:
    """Write a run's files (from :func:`run_files`) into ``out`` atomically, as :func:`train_run` does; returns
    the stored run.

    Raises:
        OutputError: ``out`` is not a folder imblab may replace (see :func:`check_run_out`).
        ModelError: ``files`` would escape ``out`` or do not make a complete run.
    """
    out = Path(out)
    outside = [n for n in files if Path(n).is_absolute() or ".." in Path(n).parts or Path(n).parts[0] not in RUN_FILES]
    missing = [n for n in _RESULT_FILES if n not in files]
    if outside or missing:
        raise ModelError(f"not the files of an imblab run: {', '.join(outside) or 'no ' + ', '.join(missing)}")
    with atomic_directory(out, recognise=_replaceable, what="run") as tmp:
        for name, data in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
    return read_run(out)


# pandas 3 parses floats exactly by default (and deprecates the option); pandas 2 needs asking.
_ROUND_TRIP: dict[str, Any] = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
_METRICS_KEYS = ("technique", "spec", "seed", "test", "test_flat")


def _read_predictions(path: Path, labels: list[str], *, test: bool = True) -> pd.DataFrame:
    """predictions.csv (``test``) or validation.csv, checked: every column, a known label in every row,
    probabilities in [0, 1]."""
    data = read_regular_bytes(path, ModelError)
    try:
        frame = pd.read_csv(
            io.BytesIO(data), keep_default_na=False, dtype={"text": str, "label": str, "predicted": str},
            **_ROUND_TRIP,
        )
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"{path} is damaged: {first}") from None
    unescape_csv_cells(frame, ("text", "label", "predicted"))
    probabilities = [f"p_raw:{label}" for label in labels] + [f"p:{label}" for label in labels]
    columns = ("id", "text", "label", "predicted") if test else ("id", "label")
    absent = [c for c in (*columns, *probabilities) if c not in frame.columns]
    if absent:
        raise ModelError(f"{path} is damaged: no column {', '.join(absent[:3])}")
    known = set(labels)
    if not frame["label"].isin(known).all() or (test and not frame["predicted"].isin(known).all()):
        raise ModelError(f"{path} is damaged: a row has a label that is not one of {', '.join(labels)}")
    values = frame[probabilities].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values) & (values >= 0) & (values <= 1)):
        raise ModelError(f"{path} is damaged: a probability is missing or outside [0, 1]")
    frame[probabilities] = values
    return frame


def run_validation(run_dir: str | Path, model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A run's validation split as prior estimation uses it: probabilities at the training prior, labels, and the
    model's own decisions (its post-hoc rule on the technique's probabilities); None without ``validation.csv``."""
    run_dir = Path(run_dir)
    if not (run_dir / "validation.csv").is_file() or not is_complete_run(run_dir):
        return None
    stored = read_run(run_dir)
    arrays = stored.validation_arrays()
    if arrays is None or stored.validation is None or list(stored.labels) != list(model.labels):
        return None
    raw = stored.validation[[f"p_raw:{label}" for label in model.labels]].to_numpy(dtype=np.float64)
    decided = np.asarray(model.posthoc.decide(raw), dtype=np.int64)
    return arrays["val_proba_corrected"], arrays["val_y"], decided


def estimate_prior(
    model: Any,
    texts: Sequence[str],
    *,
    method: str = "auto",
    validation: tuple[np.ndarray, ...] | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> Any:  # -> PriorEstimate
    """The class prior of unlabelled ``texts`` as ``model`` sees them, with a 95 % bootstrap interval.

    Args:
        model: a :class:`~imblab.model.TrainedModel`, or a run or model folder (a run folder's ``validation.csv``
            gives BBSE its labelled validation split).
        texts: the unlabelled texts (a week of production traffic, say).
        method: ``auto`` (the default: ``bbse`` when labelled validation data with the model's decisions is known —
            a run folder's —, else ``em``), ``em`` (Saerens et al. 2002), ``bbse`` (Lipton et al. 2018) or
            ``naive`` (:mod:`imblab.evaluation._prior_shift`). BBSE was the more robust of the two under large
            shifts and on the 3-class data set (``benchmarks/prior_shift.py``).
        validation: (probabilities at the training prior (m, C), label indices (m,)[, the model's decisions (m,)])
            of labelled validation texts, for BBSE (and EM's recalibration) when ``model`` is not a run folder.
        n_boot: bootstrap replicates of the interval.
        seed: seeds the bootstrap.

    Returns:
        An :class:`~imblab.evaluation.PriorEstimate` (``.to_dict()``: prior, interval, method, n, training prior).

    Raises:
        DataError: fewer than 2 texts. SpecError: an unknown method, or BBSE without validation data.
        ModelError: no model there.
    """
    from .errors import DataError, SpecError
    from .evaluation import PRIOR_METHODS, estimate_prior_from_outputs

    if method not in (*PRIOR_METHODS, "auto"):
        raise SpecError(f"unknown prior estimation method {method!r}: use one of auto, {', '.join(PRIOR_METHODS)}")
    texts = list(texts)
    if len(texts) < 2:
        raise DataError(f"estimating a prior needs at least 2 texts, got {len(texts)}")
    if not hasattr(model, "predict_proba"):
        from .model import load_model

        folder = Path(model)
        model_dir = check_model_dir(resolve_model_dir(folder))
        model = load_model(model_dir)
        if validation is None:
            validation = run_validation(model_dir.parent if model_dir.name == "model" else folder, model)
    if method == "auto":
        method = "bbse" if validation is not None and len(validation) == 3 else "em"
    if method == "bbse" and validation is None:
        raise SpecError("bbse needs labelled validation data: give a run folder (imblab train's, with its "
                        "validation.csv), or use --method em")
    val_proba, val_y, val_pred = (*validation, None)[:3] if validation is not None else (None, None, None)
    logits = model.predict_logits(texts)  # one forward pass: the probabilities and the model's own decisions
    try:
        return estimate_prior_from_outputs(model.labels, model.proba_from_logits(logits, "true"), model.true_prior,
                                           method=method, val_proba=val_proba, val_y=val_y, val_pred=val_pred,
                                           pred=model.decide(logits), n_boot=n_boot, seed=seed)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
