"""The model a server answers with, and what ``GET /info`` says about it."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import read_json
from .._version import package_version
from ..errors import ModelError
from ..model import METADATA_FILE, TrainedModel, load_model, resolve_model_dir
from ..run import environment, run_validation
from ..techniques import correct_prior

__all__ = ["ServedModel", "load_served_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    """A loaded model with where it came from.

    Attributes:
        model: the ``TrainedModel``.
        model_dir: its folder (``None`` for a model built in this process).
        run_dir: the run directory holding ``model_dir``, when served from one.
        test_metrics: the run's ``test`` and ``test_prior_corrected`` metrics (metrics.json), when known.
        trained_with: package versions recorded when the model was saved.
        validation: the run's validation split (probabilities at the training prior, label indices), when served
            from a run folder: the live prior estimate recalibrates on it.
    """

    model: TrainedModel
    model_dir: Path | None = None
    run_dir: Path | None = None
    test_metrics: dict[str, Any] | None = None
    trained_with: dict[str, Any] | None = None
    validation: tuple[np.ndarray, ...] | None = None

    def info(self) -> dict[str, Any]:
        """The model part of ``GET /info``, JSON-ready."""
        model = self.model
        labels = model.labels
        settings = model.backend.settings()
        return _finite({
            "labels": labels,
            "backend": model.backend_name,
            "model_name": settings.get("model_name"),
            "max_length": settings.get("max_length"),
            "technique": model.technique.to_dict(),
            "training_prior": dict(zip(labels, model.true_prior.tolist())),
            "effective_prior": dict(zip(labels, model.effective_prior.tolist())),
            "posthoc": {"kind": model.posthoc.kind, "temperature": model.posthoc.temperature,
                        "scale": model.posthoc.scale, "details": model.posthoc.details},
            "thresholds": _thresholds(model),
            "costs": None if model.cost_setting() is None else model.cost_setting().to_dict(),
            "test_metrics": self.test_metrics,
            "source": {"model_dir": _str(self.model_dir), "run_dir": _str(self.run_dir)},
            "versions": {"trained_with": self.trained_with, "serving": _serving_versions()},
        })


def load_served_model(path: str | Path) -> ServedModel:
    """Load the model of a run directory (its ``model/``, with the run's test metrics) or of a model folder.

    Raises:
        ModelError: ``path`` holds no imblab model.
    """
    path = Path(path)
    model_dir = resolve_model_dir(path)
    model = load_model(model_dir)
    run_dir = path if model_dir != path else None
    trained_with = _read_json(model_dir / METADATA_FILE).get("versions")
    test_metrics = validation = None
    if run_dir is not None:
        metrics = _read_json(run_dir / "metrics.json")
        test_metrics = {key: metrics[key] for key in ("test", "test_prior_corrected") if key in metrics} or None
        validation = _validation(run_dir, model)
    return ServedModel(model=model, model_dir=model_dir, run_dir=run_dir, test_metrics=test_metrics,
                       trained_with=trained_with, validation=validation)


def _validation(run_dir: Path, model: TrainedModel) -> tuple[np.ndarray, ...] | None:
    """The run's validation probabilities (at the training prior), labels and the model's decisions; None when
    absent or damaged."""
    try:
        return run_validation(run_dir, model)
    except ModelError as exc:
        log.warning("%s: the live prior estimate uses EM without recalibration", exc)
        return None


def _thresholds(model: TrainedModel) -> dict[str, Any]:
    """The decision rule in numbers.

    The label is argmax_c(log p_c + d_c) over the technique's ("raw") probabilities p and tuned
    offsets d (zero without threshold tuning). With two labels that is "label k iff its raw
    probability exceeds t_k = sigmoid(d_j − d_k)"; the same cut-off on the prior-corrected
    ("true") probabilities is t_k mapped by the prior correction, which is monotone.
    """
    labels = model.labels
    offsets = model.posthoc.decision_offset
    d = np.zeros(len(labels)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    out: dict[str, Any] = {"decision_offset": None if offsets is None else dict(zip(labels, d.tolist())),
                           "raw": None, "true": None}
    if len(labels) == 2:
        raw = [1.0 / (1.0 + math.exp(d[k] - d[1 - k])) for k in (0, 1)]

        def corrected(k: int) -> float:
            point = np.empty(2)
            point[k], point[1 - k] = raw[k], 1.0 - raw[k]
            return float(correct_prior(point, model.effective_prior, model.true_prior)[k])

        out["raw"], out["true"] = dict(zip(labels, raw)), {label: corrected(k) for k, label in enumerate(labels)}
    return out


def _serving_versions() -> dict[str, Any]:
    return {**environment(), **{package: package_version(package) for package in ("fastapi", "uvicorn", "pydantic")}}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path, ModelError, limit=1 << 28)
    except ModelError as exc:
        log.warning("%s: /info leaves it out", exc)
        return {}
    return data


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has no such numbers; metrics can be undefined)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
