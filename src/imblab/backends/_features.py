"""The family of backends with fixed features and a convex linear head (tfidf, frozen, and any registered one).

A :class:`FeatureBackend` turns texts into a feature matrix (sparse or dense); the head is fitted on it as a
convex problem by :func:`~._convex.fit_head` (each technique's own loss, L2, C chosen on validation), so every
technique keeps its meaning exactly across these backends. A subclass writes only its features: how they are
fitted on the training texts, computed for any texts, what identifies them (so that a repeated fit is made
once), and how they are saved and loaded.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import ModelError
from ..training import LoopConfig
from ._convex import HeadConfig, fit_head
from ._heads import LinearHead
from ._protocol import FitData, FitSettings

if TYPE_CHECKING:
    from ..techniques import FittedTechnique

__all__ = ["FeatureBackend", "HEAD_FILE", "apply_sampler"]

HEAD_FILE = "head.safetensors"


def apply_sampler(fitted: FittedTechnique, matrix: Any, y: np.ndarray, seed: int) -> tuple[Any, np.ndarray, Any]:
    """A feature-space sampler's technique (``smote``, ``tomek-links``, ``imblearn:…``): the training rows'
    features resampled (seeded by the run's seed; only these rows are seen), the technique told its resampled
    counts (its effective prior), and the objective the head is fitted with on them (plain cross-entropy, every
    row once). Any other technique: everything unchanged."""
    if fitted.sampler is None:
        return matrix, np.asarray(y), fitted
    from ..techniques import resample

    matrix, y = resample(fitted.sampler, matrix, np.asarray(y), seed, fitted.labels)
    counts = np.bincount(y, minlength=len(fitted.labels))
    fitted.set_resampled_counts(counts)
    return matrix, y, fitted.head_objective(counts)


class FeatureBackend:
    """Fixed features and a convex linear head: the head's fit, prediction, saving and loading.

    Subclasses set ``name`` and implement :meth:`fit_features`, :meth:`features`, :meth:`settings` and
    :meth:`from_settings` (and, when the features have state of their own, :meth:`save_features` and
    :meth:`load_features`).
    """

    name: ClassVar[str]
    #: ``nn.Linear``'s (classes, features) layout in ``head.safetensors`` instead of (features, classes).
    head_transposed: ClassVar[bool] = False

    head: LinearHead | None = None
    fit_info: dict[str, Any] | None = None

    # ------------------------------------------------------------------ what a subclass writes
    @classmethod
    def create(cls, *, model_name: str | None = None, max_length: int = 128, pooling: str = "mean",
               mixed_precision: str | None = None, **options: Any) -> FeatureBackend:
        """An untrained backend: ``cls(**options)`` (its own settings); a subclass that takes an encoder or other
        study settings overrides this."""
        return cls(**options)

    def fit_features(self, texts: Sequence[str]) -> Any:
        """Fit the features on the training texts (a vocabulary, say); their (n, d) matrix."""
        return self.features(texts)

    def features(self, texts: Sequence[str]) -> Any:
        """The (n, d) feature matrix of ``texts``, sparse or dense."""
        raise NotImplementedError

    def features_key(self, texts: Sequence[str], val_texts: Sequence[str] | None) -> Hashable | None:
        """What identifies the training and validation features (after :meth:`fit_features`), so that a head fit
        repeated on them is made once per process; None: never reuse."""
        return None

    def settings(self) -> dict[str, Any]:
        """The resolved, JSON-ready settings that rebuild the untrained features (stored in ``imblab.json``)."""
        raise NotImplementedError

    @classmethod
    def from_settings(cls, settings: dict[str, Any], directory: Path) -> FeatureBackend:
        """The backend with its features rebuilt from :meth:`settings` (and its saved files in ``directory``)."""
        raise NotImplementedError

    def save_features(self, directory: Path) -> None:
        """Write the features' own state (a vocabulary) into ``directory``; nothing by default."""

    # ------------------------------------------------------------------ the protocol, once for the family
    def default_loop(self) -> LoopConfig | None:
        return None  # a convex fit, not the SGD loop

    def fit(self, data: FitData, fitted: FittedTechnique, how: FitSettings) -> list[dict[str, Any]]:
        texts, y, val_texts, val_y = data.texts, data.y, data.val_texts, data.val_y
        # A convex head is fitted to convergence in one go: no loop, and no epochs for ``on_epoch`` to hear of.
        seed, head = how.seed, how.head
        matrix = self.fit_features(texts)
        val_matrix = self.features(val_texts) if val_texts is not None else None
        matrix, y, objective = apply_sampler(fitted, matrix, np.asarray(y), seed)
        key = self.features_key(texts, val_texts) if objective is fitted else None  # resampled rows: their own
        result = fit_head(matrix, y, objective, seed=seed, config=head or HeadConfig(),
                          val_features=val_matrix, val_y=val_y, features_key=key)
        self.head = LinearHead(result.weight, result.bias)
        self.fit_info = result.summary()
        return result.path

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        if self.head is None:
            raise ModelError(f"the {self.name} backend is not fitted")
        return self.head.logits(self.features(texts))

    def save(self, directory: Path) -> None:
        if self.head is None:
            raise ModelError(f"the {self.name} backend is not fitted")
        self.save_features(directory)
        self.head.save(directory / HEAD_FILE, transposed=self.head_transposed)

    @classmethod
    def load(cls, directory: Path, settings: dict[str, Any]) -> FeatureBackend:
        """Rebuild a trained backend: its features from ``settings`` (and files), then its head, each checked.

        Raises:
            ModelError: a file is missing, damaged or inconsistent with the others (named in the message).
        """
        backend = cls.from_settings(settings, directory)
        backend.head = LinearHead.load(directory / HEAD_FILE, transposed=cls.head_transposed)
        backend.check_loaded(directory)
        return backend

    def check_loaded(self, directory: Path) -> None:
        """A check of the loaded features against the loaded head (their widths); nothing by default."""
