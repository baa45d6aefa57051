"""Backend names -> classes, and the ``auto`` choice."""

from __future__ import annotations

import logging
from typing import Any

from ._finetune import FinetuneBackend
from ._frozen import FrozenBackend
from ._names import BACKEND_CHOICES, BACKEND_NAMES, resolve_backend_name
from ._protocol import Backend
from ._tfidf import TfidfBackend, TfidfSettings

__all__ = ["BACKENDS", "BACKEND_CHOICES", "make_backend", "resolve_backend_name"]

log = logging.getLogger(__name__)

BACKENDS: dict[str, type[Any]] = {b.name: b for b in (TfidfBackend, FrozenBackend, FinetuneBackend)}
assert tuple(BACKENDS) == BACKEND_NAMES


def make_backend(
    name: str,
    *,
    model_name: str | None = None,
    max_length: int = 128,
    pooling: str = "mean",
    tfidf: TfidfSettings | None = None,
) -> Backend:
    """Build an untrained backend.

    Args:
        name: ``auto``, ``tfidf``, ``frozen`` or ``finetune``.
        model_name: hub id or local path of the encoder (``frozen``/``finetune``); ``None`` is the
            bundled all-MiniLM-L6-v2. Ignored, with a warning, by ``tfidf``.
        max_length: tokens per text (``frozen``/``finetune``).
        pooling: ``mean`` or ``cls`` (``frozen``).
        tfidf: vectoriser settings (``tfidf``).

    Raises:
        ModelError: an unknown backend, pooling or model.
    """
    name = resolve_backend_name(name)
    if name == "tfidf":
        if model_name is not None:
            log.warning("the tfidf backend uses no pretrained model: ignoring model %s", model_name)
        return TfidfBackend(tfidf)
    if name == "frozen":
        return FrozenBackend(model_name, max_length=max_length, pooling=pooling)
    return FinetuneBackend(model_name, max_length=max_length)
