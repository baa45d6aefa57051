"""A trained classifier: technique + backend + post-hoc step, with save, load and predict.

``TrainedModel.fit`` fits the technique on the training split's class counts, trains the
backend with it through the one loop, and fits the technique's post-hoc part (thresholds,
temperature) on the validation split. Its probabilities can be given as trained ("raw"),
corrected to the training prior ("true", the default) or to any deployment prior
(Saerens, Latinne & Decaestecker, Neural Computation 2002).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax

from ._io import atomic_directory, read_json
from .backends import BACKENDS, Backend, HeadConfig, make_backend, resolve_backend_name
from .errors import DataError, ModelError, SpecError
from .techniques import FittedTechnique, PostHoc, Technique, correct_prior, parse_spec
from .training import LoopConfig

__all__ = ["TrainConfig", "TrainedModel", "load_model", "is_model_dir", "resolve_model_dir", "METADATA_FILE", "FORMAT"]

log = logging.getLogger(__name__)

METADATA_FILE = "imblab.json"
FORMAT = "imblab-model"
FORMAT_VERSION = 1
Prior = str | Mapping[str, float]


@dataclass
class TrainConfig:
    """Training settings; ``None`` takes the backend's default (see each backend's docstring).

    The ``finetune`` backend trains with the SGD loop (epochs, batch size, learning rate, ...); the
    ``tfidf`` and ``frozen`` heads are fitted to convergence (``C`` and ``metric``; ``epochs=0`` keeps
    them as initialised, other loop settings do not apply to them).

    Attributes:
        epochs: passes over the training data; 0 evaluates the model as initialised.
        batch_size: examples per step.
        lr: peak learning rate (AdamW, linear warm-up and decay).
        weight_decay: AdamW weight decay.
        warmup_ratio: share of steps for the linear warm-up (default 0.06).
        max_grad_norm: gradient clipping norm (default 1.0).
        patience: early stopping on validation macro F1 after this many epochs without gain.
        mixed_precision: "auto", "bf16" or "no" (default: "auto" for finetune).
        max_length: tokens per text (frozen, finetune).
        pooling: "mean" or "cls" (frozen).
        C: inverse L2 strength of the linear heads (scikit-learn's ``C``); None chooses it on the
            validation split from a path of values.
        metric: the validation metric (a flat metric name, e.g. ``macro_f1``): it chooses ``C``, and scores
            fine-tuning's per-epoch validation when ``fit`` has an ``on_epoch`` listener.
    """

    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    warmup_ratio: float | None = None
    max_grad_norm: float | None = None
    patience: int | None = None
    mixed_precision: str | None = None
    max_length: int = 128
    pooling: str = "mean"
    C: float | None = None
    metric: str = "macro_f1"

    def __post_init__(self) -> None:
        checks = (
            ("epochs", self.epochs, lambda v: v >= 0, "≥ 0"),
            ("batch_size", self.batch_size, lambda v: v >= 1, "≥ 1"),
            ("lr", self.lr, lambda v: v > 0, "> 0"),
            ("weight_decay", self.weight_decay, lambda v: v >= 0, "≥ 0"),
            ("warmup_ratio", self.warmup_ratio, lambda v: 0 <= v < 1, "in [0, 1)"),
            ("max_grad_norm", self.max_grad_norm, lambda v: v > 0, "> 0"),
            ("patience", self.patience, lambda v: v >= 1, "≥ 1"),
            ("max_length", self.max_length, lambda v: v >= 2, "≥ 2"),
            ("C", self.C, lambda v: math.isfinite(v) and v > 0, "a positive number"),
        )
        for name, value, ok, rule in checks:
            if value is not None and not ok(value):
                raise SpecError(f"{name} must be {rule}, got {value}")

    def loop(self, defaults: LoopConfig | None) -> LoopConfig | None:
        """The backend's ``defaults`` with every field set here replacing it (None: no SGD loop)."""
        if defaults is None:
            return None
        names = {f.name for f in fields(LoopConfig)}
        overrides = {k: v for k, v in asdict(self).items() if k in names and v is not None}
        return replace(defaults, **overrides)


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("imblab", "torch", "transformers", "scikit-learn", "accelerate"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


class TrainedModel:
    """A technique trained on a backend, ready to predict.

    Attributes:
        labels: class names; logits and probabilities follow this order.
        technique: the ``Technique``.
        fitted: the ``FittedTechnique`` (training counts, priors, bias, loss).
        posthoc: the ``PostHoc`` step fitted on validation (the identity for most techniques).
        true_prior: (C,) class prior of the training split.
        effective_prior: (C,) the prior the technique's probabilities are calibrated to.
        backend: the trained backend; ``backend_name`` its name.
        history: per-epoch rows of the training loop (loss, samples/s, seconds, ...).
    """

    def __init__(
        self,
        *,
        labels: Sequence[str],
        fitted: FittedTechnique,
        posthoc: PostHoc,
        backend: Backend,
        loop: LoopConfig | None,
        config: TrainConfig,
        seed: int,
        history: list[dict[str, Any]],
        fit_seconds: float | None = None,
    ) -> None:
        self.labels = list(labels)
        self.fitted = fitted
        self.technique: Technique = fitted.technique
        self.posthoc = posthoc
        self.backend = backend
        self.backend_name: str = backend.name
        self.loop = loop
        self.config = config
        self.seed = seed
        self.history = history
        self.fit_seconds = fit_seconds

    @property
    def true_prior(self) -> np.ndarray:
        return self.fitted.true_prior

    @property
    def effective_prior(self) -> np.ndarray:
        return self.fitted.effective_prior

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(
        cls,
        train_texts: Sequence[str],
        train_y: Sequence[int] | np.ndarray,
        val_texts: Sequence[str],
        val_y: Sequence[int] | np.ndarray,
        *,
        labels: Sequence[str],
        technique: Technique | str = "baseline",
        backend: str = "auto",
        model_name: str | None = None,
        seed: int = 0,
        config: TrainConfig | None = None,
        progress: bool = True,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
    ) -> TrainedModel:
        """Train ``technique`` on ``backend`` and fit its post-hoc step on the validation split.

        Args:
            train_texts, train_y: training texts and class indices into ``labels``.
            val_texts, val_y: validation texts and class indices (post-hoc fitting, early stopping).
            labels: class names.
            technique: a ``Technique`` or a spec such as ``"focal:gamma=2"``.
            backend: ``auto`` (finetune with a CUDA GPU, else tfidf), ``tfidf``, ``frozen`` or ``finetune``.
            model_name: hub id or local path of the encoder (frozen, finetune); default the bundled MiniLM.
            seed: seeds model initialisation, sampling, batch order and dropout.
            config: training settings; ``None`` fields take the backend's defaults.
            progress: show a progress bar on stderr.
            on_epoch: called with each fine-tuning epoch's history row, its ``validation_score`` the
                ``config.metric`` on the validation split (signed: higher is better); it may raise to stop
                training (tuning prunes unpromising trials so). The linear heads have no epochs.

        Raises:
            SpecError: a bad technique spec or setting. DataError: a class without training rows.
            ModelError: an unknown backend or a model that cannot be loaded.
        """
        started = time.perf_counter()
        labels = list(labels)
        config = config or TrainConfig()
        tech = parse_spec(technique, labels) if isinstance(technique, str) else technique
        y = np.asarray(train_y, dtype=np.int64)
        vy = np.asarray(val_y, dtype=np.int64)
        if len(y) != len(train_texts) or len(vy) != len(val_texts):
            raise ValueError("texts and labels differ in length")
        fitted = tech.fit(np.bincount(y, minlength=len(labels)), labels)
        name = resolve_backend_name(backend)
        model = make_backend(name, model_name=model_name, max_length=config.max_length, pooling=config.pooling)
        loop = config.loop(model.default_loop())
        log.info("training %s on %s (%d texts, seed %d): %s", tech.display_name, name, len(y), seed, loop)
        head = HeadConfig(C=config.C, metric=config.metric, fit=config.epochs != 0)
        history = model.fit(list(train_texts), y, fitted, loop=loop, seed=seed, val_texts=list(val_texts), val_y=vy,
                            progress=progress, head=head, on_epoch=on_epoch)
        posthoc = fitted.fit_posthoc(model.predict_logits(list(val_texts)), vy)
        return cls(labels=labels, fitted=fitted, posthoc=posthoc, backend=model, loop=loop, config=config, seed=seed,
                   history=history, fit_seconds=time.perf_counter() - started)

    # ------------------------------------------------------------------ prediction
    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(n, C) raw backend logits (before the post-hoc step)."""
        return self.backend.predict_logits(list(texts))

    def _technique_proba(self, logits: np.ndarray) -> np.ndarray:
        return softmax(self.posthoc.transform_logits(logits), axis=1)

    def prior_vector(self, prior: Prior) -> np.ndarray | None:
        """The target prior of ``predict_proba`` as a (C,) vector; ``None`` for "raw".

        Raises:
            ModelError: an unknown keyword, a label not in the model, or a non-positive value.
        """
        if isinstance(prior, str):
            if prior == "raw":
                return None
            if prior == "true":
                return self.true_prior
            raise ModelError(f"prior must be 'true', 'raw' or {{label: probability}}, not {prior!r}")
        unknown = set(prior) - set(self.labels)
        missing = set(self.labels) - set(prior)
        if unknown or missing:
            raise ModelError(
                f"the prior must give every label of the model ({', '.join(self.labels)}); "
                + (f"unknown: {', '.join(sorted(unknown))}" if unknown else f"missing: {', '.join(sorted(missing))}")
            )
        try:
            vector = np.array([float(prior[label]) for label in self.labels])
        except (TypeError, ValueError):
            raise ModelError("every prior probability must be a number") from None
        if not np.all(np.isfinite(vector) & (vector > 0)):
            bad = ", ".join(f"{label}={v:g}" for label, v in zip(self.labels, vector) if not (np.isfinite(v) and v > 0))
            raise ModelError(f"every prior probability must be a finite number > 0 (got {bad})")
        return vector / vector.sum()

    def predict_proba(self, texts: Sequence[str], prior: Prior = "true") -> np.ndarray:
        """(n, C) class probabilities, post-hoc transform (temperature, logit adjustment) applied.

        Args:
            texts: the texts.
            prior: "true" (default): corrected from the technique's effective prior to the training
                prior, so they estimate real-world frequencies; "raw": as the technique trained them;
                ``{label: p}``: corrected to that deployment prior.
        """
        return self.proba_from_logits(self.predict_logits(texts), prior)

    def proba_from_logits(self, logits: np.ndarray, prior: Prior = "true") -> np.ndarray:
        """:meth:`predict_proba` for logits already computed (one forward pass serves several views)."""
        target = self.prior_vector(prior)
        proba = self._technique_proba(logits)
        return proba if target is None else correct_prior(proba, self.effective_prior, target)

    def decide(self, logits: np.ndarray) -> np.ndarray:
        """Decisions (class indices) from raw logits: the post-hoc step's rule on the technique's probabilities."""
        return np.asarray(self.posthoc.decide(self._technique_proba(logits)), dtype=np.int64)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The decided label of each text (thresholds applied)."""
        return [self.labels[i] for i in self.decide(self.predict_logits(texts))]

    # ------------------------------------------------------------------ persistence
    def resolved_config(self) -> dict[str, Any]:
        """Every setting that produced this model, JSON-ready (for a run's config.json)."""
        return {
            "technique": self.technique.to_dict(),
            "backend": self.backend_name,
            "backend_settings": self.backend.settings(),
            "seed": self.seed,
            "loop": self.loop.to_dict() if self.loop is not None else None,
            "head": self.backend.fit_info,
            "max_length": self.config.max_length,
            "pooling": self.config.pooling,
            "versions": _versions(),
        }

    def metadata(self) -> dict[str, Any]:
        """The contents of ``imblab.json``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "labels": self.labels,
            "class_counts": self.fitted.class_counts.tolist(),
            "class_prior": dict(zip(self.labels, self.true_prior.tolist())),
            "technique": self.technique.to_dict(),
            "effective_prior": dict(zip(self.labels, self.effective_prior.tolist())),
            "posthoc": self.posthoc.to_dict(),
            "backend": {"name": self.backend_name, "settings": self.backend.settings()},
            "model_name": self.backend.settings().get("model_name"),
            "config": asdict(self.config),
            "loop": self.loop.to_dict() if self.loop is not None else None,
            "head": self.backend.fit_info,
            "seed": self.seed,
            "history": self.history,
            "versions": _versions(),
        }

    def save(self, directory: str | Path) -> Path:
        """Write the model to ``directory`` atomically (replacing an existing imblab model folder).

        ``imblab.json`` holds the metadata; weights are safetensors; a TF-IDF vocabulary is JSON
        and its idf an ``.npz`` array. Nothing is pickled. An interruption leaves ``directory``
        as it was.

        Raises:
            OutputError: ``directory`` is a file, not writable, or a non-empty folder that is not an
                imblab model (a folder imblab did not make is never replaced).
        """
        directory = Path(directory)
        with atomic_directory(directory, recognise=is_model_dir, what="model") as tmp:
            self.backend.save(tmp)
            (tmp / METADATA_FILE).write_text(json.dumps(self.metadata(), indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        log.info("saved model to %s", directory)
        return directory


def is_model_dir(directory: str | Path) -> bool:
    """Whether ``directory`` holds an imblab model (its ``imblab.json`` names the format)."""
    try:
        meta = json.loads((Path(directory) / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def resolve_model_dir(path: str | Path) -> Path:
    """The model folder of ``path``: a run directory's ``model/`` folder, or ``path`` itself.

    ``imblab train`` and ``imblab compare`` store a run with its model in ``model/``; a user may
    name the run or the model folder. Whether the result holds a model is :func:`load_model`'s
    to check.
    """
    path = Path(path)
    if (path / "model" / METADATA_FILE).is_file():
        return path / "model"
    return path


def load_model(directory: str | Path) -> TrainedModel:
    """Load a model written by ``TrainedModel.save``.

    Only JSON and safetensors (and the TF-IDF ``.npz`` with ``allow_pickle=False``) are read: nothing
    is ever unpickled. Every field of ``imblab.json`` is checked (types, the number of labels against
    the class counts, offsets and the weights' outputs, the post-hoc step) before the model is used.

    Raises:
        ModelError: the directory is missing, is not an imblab model, or a file in it is damaged or
            inconsistent; the message names the file.
    """
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"model directory {directory} does not exist")
    meta_path = directory / METADATA_FILE
    if not directory.is_dir() or not meta_path.is_file():
        raise ModelError(f"{directory} is not an imblab model directory (no {METADATA_FILE})")
    meta = read_json(meta_path, ModelError)
    if meta.get("format") != FORMAT:
        raise ModelError(f"{directory} is not an imblab model directory ({METADATA_FILE} has no format {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{directory} has model format version {meta.get('format_version')}; "
                         f"this imblab reads version {FORMAT_VERSION}")
    try:
        labels, counts = _checked_labels(meta)
        technique = Technique.from_dict(_field(meta, "technique", dict), labels)
        fitted = technique.fit(counts, labels)
        posthoc = PostHoc.from_dict(_field(meta, "posthoc", dict))
        for name in ("offset", "decision_offset"):
            value = getattr(posthoc, name)
            if value is not None and value.shape != (len(labels),):
                raise ModelError(f"posthoc {name} has {value.size} values for {len(labels)} labels")
        backend_meta = _field(meta, "backend", dict)
        backend_name = backend_meta.get("name")
        if backend_name not in BACKENDS:
            raise ModelError(f"unknown backend {backend_name!r}")
        config = TrainConfig(**_field(meta, "config", dict))
        loop = LoopConfig(**_field(meta, "loop", dict)) if meta.get("loop") is not None else None
        head = meta.get("head")
        if head is not None and not isinstance(head, dict):
            raise ModelError("head must be an object")
        seed = meta.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ModelError(f"seed must be an integer, not {seed!r}")
        history = meta.get("history", [])
        if not isinstance(history, list):
            raise ModelError("history must be a list")
    except (ModelError, SpecError, DataError) as exc:
        raise ModelError(f"{meta_path} is damaged or foreign: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{meta_path} is damaged or foreign: {type(exc).__name__}: {exc}") from None
    backend = BACKENDS[backend_name].load(directory, _field(backend_meta, "settings", dict, meta_path))
    backend.fit_info = head
    outputs = _output_count(backend)
    if outputs is not None and outputs != len(labels):
        raise ModelError(f"{directory}: the weights have {outputs} outputs but {METADATA_FILE} names "
                         f"{len(labels)} labels ({', '.join(labels)})")
    return TrainedModel(labels=labels, fitted=fitted, posthoc=posthoc, backend=backend, loop=loop, config=config,
                        seed=seed, history=history)


def _field(meta: dict[str, Any], name: str, kind: type, where: Path | None = None) -> Any:
    value = meta.get(name)
    if not isinstance(value, kind):
        message = f"{name} must be a JSON {kind.__name__}, not {type(value).__name__}"
        raise ModelError(f"{where} is damaged or foreign: {message}" if where else message)
    return value


def _checked_labels(meta: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    labels = meta.get("labels")
    if (not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels)
            or len(set(labels)) != len(labels)):
        raise ModelError("labels must be a list of at least 2 distinct, non-empty names")
    counts = meta.get("class_counts")
    if (not isinstance(counts, list) or len(counts) != len(labels)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in counts)):
        raise ModelError(f"class_counts must be {len(labels)} positive integers (one per label), not {counts!r}"[:200])
    return labels, np.asarray(counts, dtype=np.int64)


def _output_count(backend: Backend) -> int | None:
    """How many logits the loaded weights produce (a linear head's bias, or a transformer's num_labels)."""
    bias = getattr(getattr(backend, "head", None), "bias", None)
    if bias is not None:
        return int(bias.shape[0])
    num_labels = getattr(getattr(getattr(backend, "model", None), "config", None), "num_labels", None)
    return int(num_labels) if isinstance(num_labels, int) else None
