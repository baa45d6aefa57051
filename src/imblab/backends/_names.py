"""The backend registry: one declaration per backend, read before scikit-learn or torch is imported.

A backend is one module (its class) plus one line here (:func:`register_backend` with its
:class:`BackendSpec`): its name, family, the groups of training settings it takes and any settings of its own
(which become flags and study-file keys), its ``--keep-models`` default, and what ``--tune-training`` tunes.
The settings table, the planner, tuning, keep-models and the CLI read these declarations; nothing else names a
backend. The class is imported on first use, so a bad ``--backend`` fails (and a plan names its backend) at once.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

from .. import settings as _settings
from ..errors import ModelError, SpecError

__all__ = ["BackendSpec", "backend_class", "backend_names", "backend_spec", "check_technique_backend",
           "register_backend", "resolve_backend_name", "unregister_backend"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendSpec:
    """What a backend declares.

    Attributes:
        name: ``--backend NAME``.
        backend: the class (a :class:`~._protocol.Backend`), or ``"module:Class"`` imported on first use.
        family: ``features`` (fixed features + the convex head: :class:`~._features.FeatureBackend`) or
            ``network`` (a network fine-tuned by the SGD loop, which reports its epochs).
        uses: the groups of training settings it takes: ``head`` (C, metric), ``encoder`` (model, max length),
            ``pooling``, ``sgd`` (the loop's settings).
        settings: settings of its own (``imblab.settings.Setting`` rows); their values reach its ``create``.
        keep_models: the ``--keep-models`` default of a study (``all``, ``best``, ``none``).
        tuned_training: the training setting ``--tune-training`` tunes (``C`` or ``lr``); None: none.
    """

    name: str
    backend: type[Any] | str
    family: Literal["features", "network"] = "features"
    uses: tuple[str, ...] = ("head",)
    settings: tuple[Any, ...] = ()
    keep_models: str = "all"
    tuned_training: str | None = "C"

    def load(self) -> type[Any]:
        """The backend's class."""
        if not isinstance(self.backend, str):
            return self.backend
        module, _, attribute = self.backend.partition(":")
        return getattr(importlib.import_module(module), attribute)


_REGISTRY: dict[str, BackendSpec] = {}


def register_backend(spec: BackendSpec) -> None:
    """Make ``spec``'s backend available everywhere: ``--backend``, study files, tuning, ``load_model``.

    Raises:
        SpecError: a name that is not a plain word, or a setting of its own that clashes with another.
    """
    if not spec.name.isidentifier() or spec.name == "auto":
        raise ModelError(f"a backend's name is a plain word other than auto, not {spec.name!r}")
    _settings.declare_backend(spec.name, spec.uses, spec.settings)
    _REGISTRY[spec.name] = spec


def unregister_backend(name: str) -> None:
    """Undo :func:`register_backend` (a test, a plugin unloaded); the built-in backends stay."""
    if name in _BUILT_IN:
        raise ModelError(f"the built-in backend {name!r} cannot be unregistered")
    _REGISTRY.pop(name, None)
    _settings.forget_backend(name)


def backend_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def backend_spec(name: str) -> BackendSpec:
    """The declaration of ``name`` (``auto`` resolved first).

    Raises:
        ModelError: an unknown backend name.
    """
    return _REGISTRY[resolve_backend_name(name)]


def backend_class(name: str) -> type[Any]:
    """The class of the backend ``name`` (imported now)."""
    return backend_spec(name).load()


def check_technique_backend(technique: Any, backend: str) -> None:
    """Refuse a technique that resamples feature vectors (``smote``, ``imblearn:…``) on a backend that trains on
    text (fine-tuning): one line saying why and which backends take it.

    Raises:
        SpecError: the pair cannot run.
    """
    from ..techniques import PRESETS

    preset = PRESETS.get(getattr(technique, "name", ""))
    if preset is None or not preset.feature_space or backend_spec(backend).family != "network":
        return
    takes = ", ".join(name for name in _REGISTRY if _REGISTRY[name].family != "network")
    raise SpecError(f"{technique.display_name} resamples the training rows' feature vectors; the {backend} backend "
                    f"trains on the texts themselves, so it cannot: use a backend with fixed features ({takes})")


def resolve_backend_name(name: str, *, cuda: bool | None = None) -> str:
    """``auto`` -> ``finetune`` when a CUDA GPU is present, else ``tfidf``; other names are checked.

    Args:
        name: a backend name or ``auto``.
        cuda: whether a CUDA GPU is present (default: ask torch).

    Raises:
        ModelError: an unknown backend name.
    """
    if "," in name:
        raise ModelError(f"one backend here, not {name!r}: imblab compare compares several backends in one study")
    if name == "auto":
        if cuda is None:
            import torch

            cuda = torch.cuda.is_available()
        chosen = "finetune" if cuda else "tfidf"
        log.info("backend auto: %s (%s)", chosen, "CUDA GPU found" if chosen == "finetune" else "no CUDA GPU")
        return chosen
    if name not in _REGISTRY:
        raise ModelError(f"unknown backend {name!r}: use one of {', '.join(('auto', *_REGISTRY))}")
    return name


# The built-in backends: one line each.
register_backend(BackendSpec("tfidf", "imblab.backends._tfidf:TfidfBackend"))
register_backend(BackendSpec("frozen", "imblab.backends._frozen:FrozenBackend", uses=("head", "encoder", "pooling")))
register_backend(BackendSpec("finetune", "imblab.backends._finetune:FinetuneBackend", family="network",
                             uses=("encoder", "sgd"), keep_models="best", tuned_training="lr"))
register_backend(BackendSpec("hybrid", "imblab.backends._hybrid:HybridBackend", uses=("head", "encoder", "pooling"),
                             settings=(_settings.Setting(
                                 "dense_weight", _settings.TRAINING, _settings.Real(at_least=0), None,
                                 "hybrid: the weight of the encoder's embeddings beside the TF-IDF rows (default: "
                                 "chosen on validation from 0.5, 1, 2, 4; 0 is tfidf)", _settings.TRAINING_EVERYWHERE,
                                 train=True, fingerprint=True),)))
_BUILT_IN = frozenset(_REGISTRY)
