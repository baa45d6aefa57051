"""Backends: TF-IDF, frozen encoder and fine-tuning, behind one protocol, all trained by
``imblab.training.train`` with a technique's sampling plan, loss and bias init unchanged."""

from ._convex import DEFAULT_CS, HeadConfig, HeadFit, fit_head, fit_linear_head
from ._encoders import DEFAULT_MODEL, model_identity, resolve_model_name
from ._finetune import FinetuneBackend
from ._frozen import POOLINGS, FrozenBackend
from ._protocol import Backend, texts_hash
from ._registry import BACKEND_CHOICES, BACKENDS, make_backend, resolve_backend_name
from ._tfidf import TfidfBackend, TfidfSettings

__all__ = [
    "DEFAULT_CS",
    "HeadConfig",
    "HeadFit",
    "fit_head",
    "fit_linear_head",
    "BACKENDS",
    "BACKEND_CHOICES",
    "Backend",
    "DEFAULT_MODEL",
    "FinetuneBackend",
    "FrozenBackend",
    "POOLINGS",
    "TfidfBackend",
    "TfidfSettings",
    "make_backend",
    "model_identity",
    "resolve_backend_name",
    "resolve_model_name",
    "texts_hash",
]
