"""Backend names and the ``auto`` choice: a light module, so that a bad ``--backend`` fails (and a plan names its
backend) before scikit-learn or torch is imported."""

from __future__ import annotations

import logging

from ..errors import ModelError

__all__ = ["BACKEND_CHOICES", "BACKEND_NAMES", "resolve_backend_name"]

log = logging.getLogger(__name__)

BACKEND_NAMES = ("tfidf", "frozen", "finetune")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)


def resolve_backend_name(name: str) -> str:
    """``auto`` -> ``finetune`` when a CUDA GPU is present, else ``tfidf``; other names are checked.

    Raises:
        ModelError: an unknown backend name.
    """
    if name == "auto":
        import torch

        chosen = "finetune" if torch.cuda.is_available() else "tfidf"
        log.info("backend auto: %s (%s)", chosen, "CUDA GPU found" if chosen == "finetune" else "no CUDA GPU")
        return chosen
    if name not in BACKEND_NAMES:
        raise ModelError(f"unknown backend {name!r}: use one of {', '.join(BACKEND_CHOICES)}")
    return name
