"""Backends: TF-IDF, frozen encoder and fine-tuning, behind one protocol, all trained by
``imblab.training.train`` with a technique's sampling plan, loss and bias init unchanged.

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
    from ._protocol import Backend, texts_hash
    from ._names import BACKEND_CHOICES, BACKEND_NAMES, resolve_backend_name
    from ._registry import BACKENDS, make_backend
    from ._tfidf import TfidfBackend
    from ._tfidf_settings import TfidfSettings

_WHERE = {
    "DEFAULT_CS": "_convex", "HeadConfig": "_convex", "HeadFit": "_convex", "fit_head": "_convex",
    "fit_linear_head": "_convex",
    "DEFAULT_MODEL": "_encoders", "model_identity": "_encoders", "resolve_model_name": "_encoders",
    "FinetuneBackend": "_finetune",
    "POOLINGS": "_frozen", "FrozenBackend": "_frozen",
    "Backend": "_protocol", "texts_hash": "_protocol",
    "BACKEND_CHOICES": "_names", "BACKEND_NAMES": "_names", "resolve_backend_name": "_names",
    "BACKENDS": "_registry", "make_backend": "_registry",
    "TfidfBackend": "_tfidf",
    "TfidfSettings": "_tfidf_settings",
}

__all__ = [
    "BACKENDS",
    "BACKEND_CHOICES",
    "BACKEND_NAMES",
    "Backend",
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
