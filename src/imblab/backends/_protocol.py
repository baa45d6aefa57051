"""What every backend provides, and the pieces they share."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from ..evaluation import macro_f1

from ..training import LoopConfig

if TYPE_CHECKING:
    from ..techniques import FittedTechnique
    from ._convex import HeadConfig

__all__ = ["Backend", "FitData", "FitSettings", "texts_hash", "macro_f1_scorer"]


@dataclass(frozen=True)
class FitData:
    """The rows a backend is fitted on: training texts and class indices, and the validation split (which chooses
    the heads' C and scores fine-tuning's epochs)."""

    texts: Sequence[str]
    y: np.ndarray
    val_texts: Sequence[str] | None = None
    val_y: np.ndarray | None = None


@dataclass(frozen=True)
class FitSettings:
    """How a backend is fitted.

    Attributes:
        seed: seeds model initialisation, sampling, batch order and dropout.
        loop: the SGD loop's settings (None: the backend fits a convex head).
        head: the convex head's settings (C, the validation metric); fine-tuning scores its epochs by its metric.
        progress: show a progress bar.
        on_epoch: hears each epoch's history row of an SGD loop, validation score included (the study's metric,
            higher is better); it may raise to stop training (tuning's pruning).
    """

    seed: int
    loop: LoopConfig | None = None
    head: HeadConfig | None = None
    progress: bool = True
    on_epoch: Callable[[dict[str, Any]], None] | None = None


class Backend(Protocol):
    """A way to turn texts into logits, trained with a technique.

    A backend is built with its settings (``make_backend``), fitted once, and then predicts,
    saves, and is rebuilt from a saved directory with ``load``. Fine-tuning trains with the SGD
    loop (``imblab.training.train``); the linear heads on fixed features are fitted as convex
    problems (``_convex.fit_head``).
    """

    name: ClassVar[str]
    fit_info: dict[str, Any] | None  # what the fit chose (the heads: C and the path), for metrics.json

    @classmethod
    def create(cls, *, model_name: str | None = None, max_length: int = 128, pooling: str = "mean",
               mixed_precision: str | None = None, **options: Any) -> Backend:
        """An untrained backend from the study's settings (a backend ignores those it does not take) and its own
        ``options`` (its ``BackendSpec.settings``)."""
        ...

    def default_loop(self) -> LoopConfig | None:
        """The SGD loop's defaults of this backend (a ``TrainConfig`` overrides fields); None: no loop."""
        ...

    def fit(self, data: FitData, fitted: FittedTechnique, how: FitSettings) -> list[dict[str, Any]]:
        """Train on ``texts``/``y`` with ``fitted``; returns the history (epochs, or the head's C path).

        ``on_epoch`` hears each epoch's history row of an SGD loop, validation score included (the study's
        metric, ``head.metric``, higher is better); it may raise to stop training (tuning's pruning).
        """
        ...

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(n, C) float32 logits."""
        ...

    def settings(self) -> dict[str, Any]:
        """The resolved, JSON-ready settings that rebuild this backend."""
        ...

    def save(self, directory: Path) -> None:
        """Write the trained state into an existing ``directory`` (no pickle)."""
        ...

    @classmethod
    def load(cls, directory: Path, settings: dict[str, Any]) -> Backend:
        """Rebuild a trained backend from ``save``'s files."""
        ...


def texts_hash(texts: Sequence[str]) -> str:
    """sha256 of the texts in order: identifies a list of texts in caches."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def macro_f1_scorer(predict_logits: Callable[[], np.ndarray], y: np.ndarray) -> Callable[[Any], float]:
    """A ``validate`` callable for the loop: macro F1 of the argmax decisions on validation data."""

    def score(_model: Any) -> float:
        logits = predict_logits()
        return macro_f1(y, logits.argmax(axis=1), logits.shape[1])

    return score
