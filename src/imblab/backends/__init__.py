"""Backends: TF-IDF, frozen encoder and fine-tuning, behind one protocol and one registry
(:func:`register_backend`: a new backend is one module plus one registry line), each trained with a
technique's sampling plan, loss and bias init unchanged.

The names are loaded on first use (PEP 562): ``from imblab.backends import TfidfSettings`` reads a light
module, and only a backend that trains or predicts imports scikit-learn, torch or transformers — so that a
re-run with nothing to train, or a command that only reads a study, stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._convex import DEFAULT_CS, HeadConfig, HeadFit, fit_head, fit_linear_head
    from ._encoders import DEFAULT_MODEL, model_identity, resolve_model_name
    from ._finetune import FinetuneBackend
    from ._frozen import POOLINGS, FrozenBackend
    from ._protocol import Backend, FitData, FitSettings, texts_hash
    from ._features import FeatureBackend
    from ._names import (BackendSpec, backend_class, backend_names, backend_spec, check_technique_backend,
                         register_backend, resolve_backend_name, unregister_backend)
    from ._registry import make_backend
    from ._tfidf import TfidfBackend
    from ._tfidf_settings import TfidfSettings

_WHERE = {
    "DEFAULT_CS": "_convex", "HeadConfig": "_convex", "HeadFit": "_convex", "fit_head": "_convex",
    "fit_linear_head": "_convex",
    "DEFAULT_MODEL": "_encoders", "model_identity": "_encoders", "resolve_model_name": "_encoders",
    "FinetuneBackend": "_finetune",
    "POOLINGS": "_frozen", "FrozenBackend": "_frozen",
    "Backend": "_protocol", "FitData": "_protocol", "FitSettings": "_protocol", "texts_hash": "_protocol",
    "FeatureBackend": "_features",
    "BackendSpec": "_names", "backend_class": "_names", "backend_names": "_names", "backend_spec": "_names",
    "register_backend": "_names", "check_technique_backend": "_names", "resolve_backend_name": "_names", "unregister_backend": "_names",
    "make_backend": "_registry",
    "TfidfBackend": "_tfidf",
    "TfidfSettings": "_tfidf_settings",
}

__all__ = [
    "Backend",
    "BackendSpec",
    "FitData",
    "FitSettings",
    "FeatureBackend",
    "backend_class",
    "backend_names",
    "backend_spec",
    "register_backend",
    "unregister_backend",
    "DEFAULT_CS",
    "DEFAULT_MODEL",
    "FinetuneBackend",
    "FrozenBackend",
    "HeadConfig",
    "HeadFit",
    "POOLINGS",
    "TfidfBackend",
    "TfidfSettings",
    "fit_head",
    "fit_linear_head",
    "make_backend",
    "model_identity",
    "resolve_backend_name",
    "check_technique_backend",
    "resolve_model_name",
    "texts_hash",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
