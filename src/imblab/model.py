"""A trained classifier: technique + backend + post-hoc step, with save, load and predict.

``TrainedModel.fit`` fits the technique on the training split's class counts, trains the
backend with it through the one loop, and fits the technique's post-hoc part (thresholds,
temperature) on the validation split. Its probabilities can be given as trained ("raw"),
corrected to the training prior ("true", the default) or to any deployment prior
(Saerens, Latinne & Decaestecker, Neural Computation 2002).
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import softmax

from ._io import atomic_directory, read_json
from .backends import (Backend, FitData, FitSettings, HeadConfig, backend_class, backend_names, check_technique_backend,
                       make_backend, resolve_backend_name)
from .errors import DataError, ModelError, SpecError
from .evaluation import CostDecisions, Costs, CostSetting, parse_prior, resolve_costs
from ._model_dir import FORMAT, FORMAT_VERSION, METADATA_FILE, METADATA_LIMIT, check_model_dir, is_model_dir, resolve_model_dir
from ._version import package_version
from .data import minority_index
from .settings import resolve_metric, settings_dataclass
from .techniques import FittedTechnique, PostHoc, Technique, check_search_rows, correct_prior, parse_spec
from .training import LoopConfig

__all__ = ["TrainConfig", "TrainedModel", "load_model", "is_model_dir", "resolve_model_dir", "METADATA_FILE", "FORMAT"]

log = logging.getLogger(__name__)

Prior = str | Mapping[str, float]


@settings_dataclass(lambda s: s.train)
class TrainConfig:
    """Training settings of one run: every setting marked ``train`` in :data:`imblab.settings.SETTINGS`.

    ``None`` takes the backend's default (see each backend's docstring). The ``finetune`` backend
    trains with the SGD loop (``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``warmup_ratio``,
    ``max_grad_norm``, ``patience``, ``mixed_precision``); the ``tfidf`` and ``frozen`` heads are
    fitted to convergence (``C``: the inverse L2 strength, None chooses it on the validation split by
    ``metric``; ``epochs=0`` keeps them as initialised). ``max_length`` and ``pooling`` configure the
    transformer encoders; ``metric`` also scores fine-tuning's per-epoch validation when
    ``fit`` has an ``on_epoch`` listener (tuning's pruner). Every value is checked on construction (:class:`~imblab.errors.SpecError`).
    ``options`` holds the settings a registered backend declares of its own (``BackendSpec.settings``).
    """

    options: dict[str, Any] = field(default_factory=dict)

    if TYPE_CHECKING:  # the other fields come from the settings table
        def __init__(self, **settings: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

    def loop(self, defaults: LoopConfig | None) -> LoopConfig | None:
        """The backend's ``defaults`` with every field set here replacing it (None: no SGD loop)."""
        if defaults is None:
            return None
        names = {f.name for f in fields(LoopConfig)}
        overrides = {k: v for k, v in asdict(self).items() if k in names and v is not None}
        return replace(defaults, **overrides)


def _versions() -> dict[str, str]:
    versions = {package: package_version(package) or "not installed"
                for package in ("imblab", "torch", "transformers", "scikit-learn", "accelerate")}
    return {"python": platform.python_version(), **versions}


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
        costs: the costs given at training (``train --costs``), stored with the model; None if none.
        deploy_prior: (C,) the deployment prior given at training (``--deploy-prior``); None if none.
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
        costs: Costs | None = None,
        deploy_prior: np.ndarray | None = None,
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
        self.costs = costs
        self.deploy_prior = None if deploy_prior is None else np.asarray(deploy_prior, dtype=np.float64)

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
        check_technique_backend(tech, name)
        check_search_rows(fitted.sampler, np.bincount(y, minlength=len(labels)), config.sampler_max_rows,
                          tech.display_name)
        model = make_backend(name, model_name=model_name, max_length=config.max_length, pooling=config.pooling,
                             mixed_precision=config.mixed_precision, **config.options)
        loop = config.loop(model.default_loop())
        log.info("training %s on %s (%d texts, seed %d): %s", tech.display_name, name, len(y), seed, loop)
        head = HeadConfig(C=config.C, metric=resolve_metric(config.metric, labels), fit=config.epochs != 0)
        history = model.fit(FitData(list(train_texts), y, list(val_texts), vy), fitted,
                            FitSettings(seed=seed, loop=loop, head=head, progress=progress, on_epoch=on_epoch))
        posthoc = fitted.fit_posthoc(model.predict_logits(list(val_texts)), vy)
        return cls(labels=labels, fitted=fitted, posthoc=posthoc, backend=model, loop=loop, config=config, seed=seed,
                   history=history, fit_seconds=time.perf_counter() - started)

    @property
    def precision(self) -> str | None:
        """What the backend's transformer computes in (``bf16`` or ``no``); None for a backend without one."""
        return getattr(self.backend, "precision", None)

    # ------------------------------------------------------------------ prediction
    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(n, C) raw backend logits (before the post-hoc step)."""
        return self.backend.predict_logits(list(texts))

    def _technique_proba(self, logits: np.ndarray) -> np.ndarray:
        return softmax(self.posthoc.transform_logits(logits), axis=1)

    def prior_vector(self, prior: Prior) -> np.ndarray | None:
        """The target prior of ``predict_proba`` as a (C,) vector; ``None`` for "raw".

        Args:
            prior: "raw", "true" (the training prior), or a deployment prior as ``{label: p}`` or
                ``"spam=0.02"`` text, read by :func:`imblab.evaluation.parse_prior` (a distribution; one label
                may be left out and gets the rest).

        Raises:
            SpecError: an unknown keyword, a label not in the model, a value outside (0, 1], a sum other than 1.
        """
        if isinstance(prior, str) and "=" not in prior:
            if prior == "raw":
                return None
            if prior == "true":
                return self.true_prior
            raise SpecError(f"prior must be 'true', 'raw' or label=probability pairs, not {prior!r}")
        return parse_prior(prior, self.labels)

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

    def outputs(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(proba_from_logits(logits, "true"), decide(logits))`` from one pass over the logits (a server's
        answer to a gathered batch)."""
        proba = self._technique_proba(logits)
        decisions = np.asarray(self.posthoc.decide(proba), dtype=np.int64)
        return correct_prior(proba, self.effective_prior, self.true_prior), decisions

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The decided label of each text (thresholds applied)."""
        return [self.labels[i] for i in self.decide(self.predict_logits(texts))]

    # ------------------------------------------------------------------ decisions by cost
    def cost_setting(
        self, costs: Costs | str | Mapping[str, Any] | None = None, deploy_prior: Prior | np.ndarray | None = None
    ) -> CostSetting | None:
        """The costs and deployment prior decisions use: each argument, else what is stored with the model.

        Args:
            costs: ``"fn=10,fp=1[,positive=spam]"``, a ``[costs]`` table (``{"fn": 10, "fp": 1}`` or
                ``{"matrix": [[...]], "labels": [...]}``), a :class:`~imblab.evaluation.Costs`, or None.
            deploy_prior: ``"spam=0.02"``, ``{label: p}`` or None (the stored one, else the training prior).

        Returns:
            None when neither is given nor stored.

        Raises:
            SpecError: a bad cost or prior.
        """
        if isinstance(deploy_prior, str) and deploy_prior in ("true", "raw"):
            raise SpecError(f"a deployment prior is label=probability pairs, not {deploy_prior!r}")
        return resolve_costs(
            costs if costs is not None else self.costs,
            deploy_prior if deploy_prior is not None else self.deploy_prior,
            self.labels, self.fitted.class_counts,
        )

    def decide_by_cost(
        self,
        texts: Sequence[str] | None = None,
        *,
        logits: np.ndarray | None = None,
        costs: Costs | str | Mapping[str, Any] | None = None,
        deploy_prior: Prior | np.ndarray | None = None,
    ) -> CostDecisions:
        """The label of least expected cost for each text (Elkan 2001), at the deployment prior.

        The technique's probabilities are corrected from its effective prior to the deployment prior (Saerens
        et al. 2002), then each text gets argmin_j Σ_i p_i·C[i, j]. Costs and prior default to those stored
        with the model (``train --costs … --deploy-prior …``); with neither, every error costs 1 at the training
        prior (the most probable label). ``imblab predict`` and the HTTP server both decide through this.

        Args:
            texts: the texts; or ``logits`` already computed by :meth:`predict_logits` (one forward pass).
            logits: (n, C) raw backend logits instead of ``texts``.
            costs: see :meth:`cost_setting`.
            deploy_prior: see :meth:`cost_setting`.

        Raises:
            SpecError: a bad cost or prior.
        """
        if (texts is None) == (logits is None):
            raise ValueError("give texts or logits, not both")
        setting = self.cost_setting(costs, deploy_prior) or CostSetting(
            Costs.zero_one(self.labels, positive=self.labels[minority_index(self.true_prior)] if len(self.labels) == 2
                           else None),
            self.true_prior, self.true_prior, costs_given=False, prior_given=False)
        if logits is None:
            logits = self.predict_logits(list(texts or []))
        return setting.decide(self._technique_proba(logits), calibrated_to=self.effective_prior)

    def keep_costs(self, setting: CostSetting | None) -> None:
        """Store what the user gave of ``setting`` (costs, deployment prior) with the model (saved by :meth:`save`)."""
        if setting is None:
            self.costs, self.deploy_prior = None, None
            return
        if list(setting.labels) != self.labels:
            raise SpecError(f"the costs are for labels {', '.join(setting.labels)}; the model has {', '.join(self.labels)}")
        self.costs = setting.costs if setting.costs_given else None
        self.deploy_prior = setting.deploy_prior.copy() if setting.prior_given else None

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
            # A feature-space sampler's resampled rows per class: its effective prior (they depend on the data).
            "resampled_counts": None if self.fitted.sampler is None or self.fitted.sample_sizes is None
            else self.fitted.sample_sizes.tolist(),
            "posthoc": self.posthoc.to_dict(),
            "backend": {"name": self.backend_name, "settings": self.backend.settings()},
            "model_name": self.backend.settings().get("model_name"),
            "config": asdict(self.config),
            "loop": self.loop.to_dict() if self.loop is not None else None,
            "head": self.backend.fit_info,
            "seed": self.seed,
            "history": self.history,
            "versions": _versions(),
            # What train --costs / --deploy-prior gave: predict and serve decide with them by default.
            "costs": None if self.costs is None else self.costs.to_dict(),
            "deploy_prior": None if self.deploy_prior is None else dict(zip(self.labels, self.deploy_prior.tolist())),
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


def load_model(directory: str | Path) -> TrainedModel:
    """Load a model written by ``TrainedModel.save``.

    Only JSON and safetensors (and the TF-IDF ``.npz`` with ``allow_pickle=False``) are read: nothing
    is ever unpickled. Every field of ``imblab.json`` is checked (types, the number of labels against
    the class counts, offsets and the weights' outputs, the post-hoc step) before the model is used.

    Raises:
        ModelError: the directory is missing, is not an imblab model, or a file in it is damaged or
            inconsistent; the message names the file.
    """
    directory = check_model_dir(directory)
    meta_path = directory / METADATA_FILE
    meta = read_json(meta_path, ModelError, limit=METADATA_LIMIT)
    if meta.get("format") != FORMAT:
        raise ModelError(f"{directory} is not an imblab model directory ({METADATA_FILE} has no format {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{directory} has model format version {meta.get('format_version')}; "
                         f"this imblab reads version {FORMAT_VERSION}")
    try:
        labels, counts = _checked_labels(meta)
        technique = Technique.from_dict(_field(meta, "technique", dict), labels)
        fitted = technique.fit(counts, labels)
        if fitted.sampler is not None:
            resampled = meta.get("resampled_counts")
            if not isinstance(resampled, list) or len(resampled) != len(labels):
                raise ModelError(f"{METADATA_FILE} lacks the resampled counts of {technique.display_name}'s sampler")
            fitted.set_resampled_counts(resampled)
        posthoc = PostHoc.from_dict(_field(meta, "posthoc", dict))
        for name in ("offset", "decision_offset"):
            value = getattr(posthoc, name)
            if value is not None and value.shape != (len(labels),):
                raise ModelError(f"posthoc {name} has {value.size} values for {len(labels)} labels")
        backend_meta = _field(meta, "backend", dict)
        backend_name = backend_meta.get("name")
        if backend_name not in backend_names():
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
        costs = None if meta.get("costs") is None else Costs.from_dict(_field(meta, "costs", dict))
        if costs is not None and list(costs.labels) != labels:
            raise ModelError(f"costs are for labels {', '.join(costs.labels)}, the model has {', '.join(labels)}")
        deploy_prior = (None if meta.get("deploy_prior") is None
                        else parse_prior(_field(meta, "deploy_prior", dict), labels))
    except (ModelError, SpecError, DataError) as exc:
        raise ModelError(f"{meta_path} is damaged or foreign: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{meta_path} is damaged or foreign: {type(exc).__name__}: {exc}") from None
    backend = backend_class(backend_name).load(directory, _field(backend_meta, "settings", dict, meta_path))
    backend.fit_info = head
    outputs = _output_count(backend)
    if outputs is not None and outputs != len(labels):
        raise ModelError(f"{directory}: the weights have {outputs} outputs but {METADATA_FILE} names "
                         f"{len(labels)} labels ({', '.join(labels)})")
    return TrainedModel(labels=labels, fitted=fitted, posthoc=posthoc, backend=backend, loop=loop, config=config,
                        seed=seed, history=history, costs=costs, deploy_prior=deploy_prior)


def _field(meta: dict[str, Any], name: str, kind: type, where: Path | None = None) -> Any:
    value = meta.get(name)
    if not isinstance(value, kind):
        message = f"{name} must be a JSON {kind.__name__}, not {type(value).__name__}"
        raise ModelError(f"{where} is damaged or foreign: {message}" if where else message)
    return value


_MAX_COUNT = 10**15  # rows of one class: far beyond any data set, and exact in float64


def _checked_labels(meta: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    labels = meta.get("labels")
    if (not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels)
            or len(set(labels)) != len(labels)):
        raise ModelError("labels must be a list of at least 2 distinct, non-empty names")
    counts = meta.get("class_counts")
    if (not isinstance(counts, list) or len(counts) != len(labels)
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= _MAX_COUNT for n in counts)):
        shown = ", ".join(str(n)[:20] + ("…" if len(str(n)) > 20 else "") for n in counts) if isinstance(counts, list) else type(counts).__name__
        raise ModelError(f"class_counts must be {len(labels)} integers in [1, {_MAX_COUNT:.0e}] (one per label), "
                         f"not [{shown[:160]}]")
    return labels, np.asarray(counts, dtype=np.int64)


def _output_count(backend: Backend) -> int | None:
    """How many logits the loaded weights produce (a linear head's bias, or a transformer's num_labels)."""
    bias = getattr(getattr(backend, "head", None), "bias", None)
    if bias is not None:
        return int(bias.shape[0])
    num_labels = getattr(getattr(getattr(backend, "model", None), "config", None), "num_labels", None)
    return int(num_labels) if isinstance(num_labels, int) else None
