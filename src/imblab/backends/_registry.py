"""Build an untrained backend from its registered class."""

from __future__ import annotations

from typing import Any

from ._names import backend_class, resolve_backend_name
from ._protocol import Backend

__all__ = ["make_backend"]


def make_backend(name: str, *, model_name: str | None = None, max_length: int = 128, pooling: str = "mean",
                 mixed_precision: str | None = None, **options: Any) -> Backend:
    """Build an untrained backend.

    Args:
        name: ``auto`` or a registered backend's name (``tfidf``, ``frozen``, ``finetune``, ...).
        model_name: hub id or local path of the encoder (the backends that take one); ``None`` is the bundled
            all-MiniLM-L6-v2.
        max_length: tokens per text (encoders).
        pooling: ``mean`` or ``cls`` (``frozen``).
        mixed_precision: ``auto`` (None), ``bf16`` or ``no``: what a transformer computes in
            (:mod:`imblab.training._precision`).
        **options: the backend's own settings (its ``BackendSpec.settings``).

    Raises:
        ModelError: an unknown backend, pooling or model.
    """
    return backend_class(resolve_backend_name(name)).create(model_name=model_name, max_length=max_length,
                                                            pooling=pooling, mixed_precision=mixed_precision, **options)
