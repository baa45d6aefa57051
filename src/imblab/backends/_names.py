"""Backend names and the ``auto`` choice: a light module, so that a bad ``--backend`` fails (and a plan names its
backend) before scikit-learn or torch is imported."""

from __future__ import annotations

import logging

from ..errors import ModelError

__all__ = ["BACKEND_CHOICES", "BACKEND_NAMES", "resolve_backend_name"]

log = logging.getLogger(__name__)

BACKEND_NAMES = ("tfidf", "frozen", "finetune")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)


def resolve_backend_name(name: str, *, cuda: bool | None = None) -> str:
    """``auto`` -> ``finetune`` when a CUDA GPU is present, else ``tfidf``; other names are checked.

    Args:
        name: a backend name or ``auto``.
        cuda: whether a CUDA GPU is present (default: ask torch).

    Raises:
        ModelError: an unknown backend name.
    """
    if name == "auto":
        if cuda is None:
            import torch

            cuda = torch.cuda.is_available()
        chosen = "finetune" if cuda else "tfidf"
        log.info("backend auto: %s (%s)", chosen, "CUDA GPU found" if chosen == "finetune" else "no CUDA GPU")
        return chosen
    if name not in BACKEND_NAMES:
        raise ModelError(f"unknown backend {name!r}: use one of {', '.join(BACKEND_CHOICES)}")
    return name
