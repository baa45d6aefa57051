"""TF-IDF features (word and character n-grams) with a linear head fitted as a convex problem.

Features, chosen on SMS spam (validation split) and kept general: word 1-2-grams (case kept: "FREE"
and "free" differ in spam) plus ``char_wb`` 2-5-grams (lower-cased; robust to misspellings and
digits), both with sublinear tf (1 + log tf), smoothed idf, L2-normalised rows and ``min_df=2``; the
two blocks are stacked side by side and stay sparse end to end.

The head is fitted to convergence by full-batch L-BFGS with L2 regularisation, its strength chosen on
the validation split (``_convex.py``): on the same features this is scikit-learn's
``LogisticRegression`` with the technique's loss, so the techniques are compared on a head that is as
strong as the usual yardstick. (Until 0.1 the head was trained by AdamW for 5 epochs at lr 0.1 with no
L2, tuned on SMS only; on hate speech it trailed ``LogisticRegression(class_weight="balanced")`` by 7
points of macro-F1.)
"""

from __future__ import annotations

import io
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .._io import read_json, read_regular_bytes
from ..errors import ModelError
from ..training import LoopConfig
from ._convex import HeadConfig, fit_head
from ._heads import LinearHead
from ._protocol import texts_hash
from ._tfidf_settings import TfidfSettings

if TYPE_CHECKING:
    from ..techniques import FittedTechnique

__all__ = ["TfidfBackend", "TfidfSettings"]

log = logging.getLogger(__name__)

_STATE = "tfidf.json"
_IDF = "tfidf_idf.npz"
_HEAD = "head.safetensors"


# Fitting the vectorisers dominates a TF-IDF run; several techniques and seeds on one split
# share them. Keyed by (settings, training texts); the transform cache by (fit key, texts).
_FIT_CACHE: OrderedDict[tuple[Any, ...], list[TfidfVectorizer]] = OrderedDict()
_TRANSFORM_CACHE: OrderedDict[tuple[Any, ...], sp.csr_matrix] = OrderedDict()
# Every run of a comparison saves the same vocabulary: its JSON is serialised once per fit key.
_STATE_CACHE: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_FIT_CACHE_SIZE, _TRANSFORM_CACHE_SIZE = 4, 16


def _remember(cache: OrderedDict, key: Any, value: Any, size: int) -> None:  # type: ignore[type-arg]
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def _stack(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    matrix = sp.hstack(blocks, format="csr", dtype=np.float32)
    matrix.sort_indices()
    return matrix


class TfidfBackend:
    """Sparse TF-IDF rows -> :class:`LinearHead` fitted by ``fit_head``."""

    name: ClassVar[str] = "tfidf"

    def __init__(self, settings: TfidfSettings | None = None) -> None:
        self.tfidf = settings or TfidfSettings()
        self.vectorizers: list[TfidfVectorizer] | None = None
        self.head: LinearHead | None = None
        self.fit_info: dict[str, Any] | None = None
        self._fit_key: tuple[Any, ...] | None = None

    def default_loop(self) -> LoopConfig | None:
        return None  # a convex fit, not the SGD loop

    # ------------------------------------------------------------------ features
    def fit_features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Fit the vectorisers on ``texts`` (or re-use a fit on the same texts) and return their rows."""
        key = (asdict(self.tfidf).__repr__(), texts_hash(texts))
        if key in _FIT_CACHE:
            log.info("re-using TF-IDF vectorisers fitted on these %d texts", len(texts))
            self.vectorizers = _FIT_CACHE[key]
            _FIT_CACHE.move_to_end(key)
        else:
            self.vectorizers = [TfidfVectorizer(**p) for p in self.tfidf.vectorizer_params()]
            # fit_transform counts the texts once (fit, then transform, counts them twice); its
            # rows come with unsorted columns, sorted here to equal ``transform``'s exactly.
            blocks = [vec.fit_transform(texts) for vec in self.vectorizers]
            matrix = _stack(blocks)
            _remember(_FIT_CACHE, key, self.vectorizers, _FIT_CACHE_SIZE)
            _remember(_TRANSFORM_CACHE, (key, key[1]), matrix, _TRANSFORM_CACHE_SIZE)
        self._fit_key = key
        return self.features(texts)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(n, n_features) float32 CSR TF-IDF rows of ``texts``."""
        if self.vectorizers is None:
            raise ModelError("the TF-IDF backend is not fitted")
        key = (self._fit_key, texts_hash(texts)) if self._fit_key is not None else None
        if key is not None and key in _TRANSFORM_CACHE:
            _TRANSFORM_CACHE.move_to_end(key)
            return _TRANSFORM_CACHE[key]
        matrix = _stack([vec.transform(texts) for vec in self.vectorizers])
        if key is not None:
            _remember(_TRANSFORM_CACHE, key, matrix, _TRANSFORM_CACHE_SIZE)
        return matrix

    # ------------------------------------------------------------------ protocol
    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        fitted: FittedTechnique,
        *,
        loop: LoopConfig | None,
        seed: int,
        val_texts: Sequence[str] | None = None,
        val_y: np.ndarray | None = None,
        progress: bool = True,
        head: HeadConfig | None = None,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        # A convex head is fitted to convergence in one go: there are no epochs for ``on_epoch`` to hear of.
        matrix = self.fit_features(texts)
        log.info("TF-IDF: %d texts x %d features (%d non-zeros)", matrix.shape[0], matrix.shape[1], matrix.nnz)
        val_matrix = self.features(val_texts) if val_texts is not None else None
        # The vectoriser fit and the texts identify the features: a fit repeated with them is made once.
        features_key = (self._fit_key, texts_hash(val_texts) if val_texts is not None else None)
        result = fit_head(matrix, np.asarray(y), fitted, seed=seed, config=head or HeadConfig(),
                          val_features=val_matrix, val_y=val_y, features_key=features_key)
        self.head = LinearHead(result.weight, result.bias)
        self.fit_info = result.summary()
        return result.path

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        if self.head is None:
            raise ModelError("the TF-IDF backend is not fitted")
        return self.head.logits(self.features(texts))

    def settings(self) -> dict[str, Any]:
        return {"tfidf": asdict(self.tfidf)}

    def save(self, directory: Path) -> None:
        if self.head is None or self.vectorizers is None:
            raise ModelError("the TF-IDF backend is not fitted")
        state = _STATE_CACHE.get(self._fit_key) if self._fit_key is not None else None
        if state is None:
            state = self._state_bytes()
            if self._fit_key is not None:
                _remember(_STATE_CACHE, self._fit_key, state, _FIT_CACHE_SIZE)
        (directory / _STATE).write_bytes(state)
        idf = {f"idf_{i}": vec.idf_.astype(np.float64) for i, vec in enumerate(self.vectorizers)}
        np.savez(directory / _IDF, **idf)
        self.head.save(directory / _HEAD)

    def _state_bytes(self) -> bytes:
        """``tfidf.json``: the settings and each vectoriser's terms in column order."""
        assert self.vectorizers is not None
        vocabularies = []
        for vec in self.vectorizers:
            terms = [""] * len(vec.vocabulary_)
            for term, column in vec.vocabulary_.items():
                terms[column] = term
            vocabularies.append(terms)
        state = {"settings": asdict(self.tfidf), "vocabularies": vocabularies}
        return json.dumps(state, ensure_ascii=False).encode("utf-8")

    @classmethod
    def load(cls, directory: Path, settings: dict[str, Any]) -> TfidfBackend:
        """Rebuild from ``tfidf.json``, ``tfidf_idf.npz`` (no pickle) and ``head.safetensors``, each checked.

        Raises:
            ModelError: a file is missing, damaged or inconsistent with the others (named in the message).
        """
        state = read_json(directory / _STATE, ModelError)
        try:
            raw = state["settings"]
            tfidf = TfidfSettings(**{**raw, "word_ngrams": tuple(raw["word_ngrams"]),
                                     "char_ngrams": tuple(raw["char_ngrams"])})
            vocabularies = state["vocabularies"]
            params = tfidf.vectorizer_params()
            if (not isinstance(vocabularies, list) or len(vocabularies) != len(params)
                    or not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in vocabularies)):
                raise ValueError(f"{len(params)} vocabularies of terms expected")
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{directory / _STATE} is damaged or foreign ({type(exc).__name__}: {exc})") from None
        idf = _read_idf(directory / _IDF, [len(v) for v in vocabularies])
        head = LinearHead.load(directory / _HEAD)
        if head.n_features != sum(len(v) for v in vocabularies):
            raise ModelError(f"{directory / _HEAD} has weights for {head.n_features} features but the vocabulary "
                             f"in {_STATE} has {sum(len(v) for v in vocabularies)}")
        backend = cls(tfidf)
        backend.vectorizers = []
        for vector_params, terms, values in zip(params, vocabularies, idf):
            vec = TfidfVectorizer(**vector_params, vocabulary={term: j for j, term in enumerate(terms)})
            vec.idf_ = values
            backend.vectorizers.append(vec)
        backend.head = head
        return backend


def _read_idf(path: Path, sizes: list[int]) -> list[np.ndarray]:
    """The idf vectors, one per vocabulary: float, finite, of the vocabulary's length (never unpickled)."""
    data = read_regular_bytes(path, ModelError)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = [np.asarray(npz[f"idf_{i}"]) for i in range(len(sizes))]
    except (OSError, ValueError, KeyError, EOFError) as exc:  # object arrays raise ValueError here
        raise ModelError(f"{path} is damaged or foreign ({type(exc).__name__}: {exc})") from None
    for i, (values, size) in enumerate(zip(arrays, sizes)):
        if values.dtype.kind != "f" or values.shape != (size,) or not np.all(np.isfinite(values)):
            raise ModelError(f"{path}: idf_{i} must be {size} finite floats, not {values.dtype} {values.shape}")
    return [values.astype(np.float64) for values in arrays]
