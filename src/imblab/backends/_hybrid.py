"""TF-IDF rows and a frozen encoder's embeddings side by side, in one convex head.

The features are the tfidf backend's sparse rows ⊕ ``w`` × the frozen backend's L2-normalised pooled
embeddings (the same encoder setting and the same embedding cache). The head is the family's: each technique's
own loss with L2, C chosen on validation — so every technique keeps its meaning exactly as on tfidf. The dense
block's weight ``w`` is a setting (``--dense-weight``) or, by default, chosen on validation from
:data:`DENSE_WEIGHTS` alongside the C path, by the study's metric; ties go to the lower validation log-loss, then
the smaller weight, as the C path breaks them. ``w = 0`` is exactly the tfidf backend.

Lexical tasks gain little from the encoder and semantic ones a lot: the study can say which on validation
(``--backend tfidf,hybrid``); the README's table gives measured numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ..errors import ModelError
from ._convex import HeadConfig, fit_head
from ._features import FeatureBackend, apply_sampler
from ._frozen import FrozenBackend
from ._heads import LinearHead
from ._protocol import FitData, FitSettings
from ._tfidf import TfidfBackend

__all__ = ["DENSE_WEIGHTS", "HybridBackend"]

log = logging.getLogger(__name__)

DENSE_WEIGHTS = (0.5, 1.0, 2.0, 4.0)
"""The weights of the embedding block tried on validation when ``--dense-weight`` is not given."""


class HybridBackend(FeatureBackend):
    """TF-IDF ⊕ ``w`` · encoder embeddings -> :class:`LinearHead` fitted by ``fit_head``."""

    name: ClassVar[str] = "hybrid"

    @classmethod
    def create(cls, *, model_name: str | None = None, max_length: int = 128, pooling: str = "mean",
               dense_weight: float | None = None, mixed_precision: str | None = None, **_: Any) -> HybridBackend:
        return cls(model_name, max_length=max_length, pooling=pooling, dense_weight=dense_weight,
                   mixed_precision=mixed_precision)

    def __init__(self, model_name: str | None = None, *, max_length: int = 128, pooling: str = "mean",
                 dense_weight: float | None = None, mixed_precision: str | None = None) -> None:
        if dense_weight is not None and not (np.isfinite(dense_weight) and dense_weight >= 0):
            raise ModelError(f"dense_weight must be a finite number ≥ 0, not {dense_weight!r}")
        self.tfidf = TfidfBackend()
        self.frozen = FrozenBackend(model_name, max_length=max_length, pooling=pooling, mixed_precision=mixed_precision)
        self.dense_weight = dense_weight  # None: chosen on validation at fit
        self.weight: float | None = dense_weight
        self.head: LinearHead | None = None
        self.fit_info: dict[str, Any] | None = None

    @property
    def precision(self) -> str:
        """What the encoder computes in: ``bf16`` or ``no``."""
        return self.frozen.precision

    # ------------------------------------------------------------------ features
    def _join(self, sparse: sp.csr_matrix, dense: np.ndarray, weight: float) -> sp.csr_matrix:
        return _Joined(sparse, dense).at(weight)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self.weight is None:
            raise ModelError("the hybrid backend is not fitted")
        return self._join(self.tfidf.features(texts), self.frozen.embeddings(texts), self.weight)

    # ------------------------------------------------------------------ the fit: C and the weight on validation
    def fit(self, data: FitData, fitted: Any, how: FitSettings) -> list[dict[str, Any]]:
        """Fit the head; with no ``--dense-weight``, choose the weight on validation by a coordinate search: the
        whole C path at w = 1, then at each other weight the chosen C and its neighbours on the path (22 fits of
        the head where the whole grid would take 52); the best (metric, log-loss, smaller w) wins."""
        texts, val_texts = data.texts, data.val_texts
        train = _Joined(self.tfidf.fit_features(texts), self.frozen.embeddings(texts))
        y = np.asarray(data.y)
        # A feature-space sampler sees the rows joined at w = 1 (its neighbours); its synthetic rows interpolate
        # both blocks, so they are rows of the joined space at every weight.
        resampled, y, objective = apply_sampler(fitted, train.matrix, y, how.seed)
        if objective is not fitted:
            train = _Joined.of(resampled, train.sparse_columns)
        val = (_Joined(self.tfidf.features(val_texts), self.frozen.embeddings(val_texts))
               if val_texts is not None else None)
        config = how.head or HeadConfig()
        if self.dense_weight is not None or val is None:
            plan = [(self.dense_weight if self.dense_weight is not None else 1.0, config)]
        else:
            plan = [(1.0, config)]
        tried: list[dict[str, Any]] = []
        best: tuple[tuple[float, float, float], float, Any] | None = None
        while plan:
            weight, head = plan.pop(0)
            result = fit_head(train.at(weight), y, objective, seed=how.seed, config=head,
                              val_features=None if val is None else val.at(weight), val_y=data.val_y,
                              features_key=self._key(texts, val_texts, weight, head.Cs) if objective is fitted else None)
            chosen = next((row for row in result.path if row["C"] == result.C), {})
            score, nll = chosen.get("validation_score", np.nan), chosen.get("validation_log_loss", np.nan)
            tried.append({"weight": weight, "C": result.C, "validation_score": score, "validation_log_loss": nll})
            key = (round(float(np.nan_to_num(score, nan=-np.inf)), 12), -float(np.nan_to_num(nll, nan=np.inf)),
                   -weight)
            if best is None or key > best[0]:
                best = (key, weight, result)
            if weight == 1.0 and self.dense_weight is None and val is not None:
                around = _neighbours(config, result.C)
                plan = [(w, replace(config, Cs=around) if config.C is None else config)
                        for w in DENSE_WEIGHTS if w != 1.0]
        assert best is not None
        _, self.weight, result = best
        self.head = LinearHead(result.weight, result.bias)
        self.fit_info = {**result.summary(), "dense_weight": self.weight,
                         "dense_weight_chosen": self.dense_weight is None and len(tried) > 1, "weights": tried}
        log.info("hybrid: dense weight %g, C=%s (tried %s)", self.weight, result.C,
                 [(t["weight"], t["C"]) for t in tried])
        return result.path

    def _key(self, texts: Sequence[str], val_texts: Sequence[str] | None, weight: float,
             Cs: tuple[float, ...]) -> Hashable:
        return (self.tfidf.features_key(texts, val_texts), self.frozen.features_key(texts, val_texts), weight, Cs)

    # ------------------------------------------------------------------ saving and loading
    def settings(self) -> dict[str, Any]:
        return {"frozen": self.frozen.settings(), "dense_weight": self.weight,
                "dense_weight_given": self.dense_weight is not None}

    def save_features(self, directory: Path) -> None:
        self.tfidf.save_features(directory)  # the vocabulary; the encoder is referenced by its identity

    @classmethod
    def from_settings(cls, settings: dict[str, Any], directory: Path) -> HybridBackend:
        try:
            weight = float(settings["dense_weight"])
            frozen_settings = dict(settings["frozen"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{directory}: the hybrid backend's settings are damaged ({type(exc).__name__}: {exc})") from None
        if not (np.isfinite(weight) and weight >= 0):
            raise ModelError(f"{directory}: the hybrid backend's dense weight must be a finite number ≥ 0")
        backend = cls.__new__(cls)
        backend.tfidf = TfidfBackend.from_settings({}, directory)
        backend.frozen = FrozenBackend.from_settings(frozen_settings, directory)
        backend.dense_weight = weight if settings.get("dense_weight_given") else None
        backend.weight = weight
        backend.head, backend.fit_info = None, None
        return backend

    def check_loaded(self, directory: Path) -> None:
        assert self.head is not None and self.tfidf.vectorizers is not None
        self.frozen.check_loaded(directory)  # the encoder, loaded now
        terms = sum(len(vec.vocabulary_) for vec in self.tfidf.vectorizers)
        width = terms + int(self.frozen._encoder.config.hidden_size)
        if self.head.n_features != width:
            raise ModelError(f"{directory}: the head has weights for {self.head.n_features} features; the vocabulary "
                             f"and the encoder give {width}")


class _Joined:
    """TF-IDF rows ⊕ the dense block, joined once; :meth:`at` rescales the dense block's entries in a copy."""

    def __init__(self, sparse: sp.csr_matrix, dense: np.ndarray) -> None:
        matrix = sp.hstack([sparse, sp.csr_matrix(dense.astype(np.float32))], format="csr", dtype=np.float32)
        self._set(matrix, sparse.shape[1])

    def _set(self, matrix: sp.csr_matrix, sparse_columns: int) -> None:
        matrix.sort_indices()
        self.matrix = matrix
        self.sparse_columns = sparse_columns
        self.dense = matrix.indices >= sparse_columns  # which stored entries belong to the dense block

    @classmethod
    def of(cls, matrix: Any, sparse_columns: int) -> _Joined:
        """Rows already joined (at w = 1), the first ``sparse_columns`` columns TF-IDF's."""
        joined = cls.__new__(cls)
        joined._set(sp.csr_matrix(matrix, dtype=np.float32), sparse_columns)
        return joined

    def at(self, weight: float) -> sp.csr_matrix:
        out = self.matrix.copy()
        out.data[self.dense] *= np.float32(weight)
        return out


def _neighbours(config: HeadConfig, chosen: float | None) -> tuple[float, ...]:
    """The C chosen on the path and its neighbours on it (the whole path when C was not chosen)."""
    path = sorted(config.Cs)
    if chosen is None or chosen not in path:
        return tuple(path)
    i = path.index(chosen)
    return tuple(path[max(0, i - 1):i + 2])
