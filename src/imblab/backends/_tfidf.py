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
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .._io import read_json, read_regular_bytes
from ..errors import ModelError
from ._features import HEAD_FILE, FeatureBackend
from ._heads import LinearHead
from ._protocol import texts_hash
from ._tfidf_settings import TfidfSettings

__all__ = ["TfidfBackend", "TfidfSettings"]

log = logging.getLogger(__name__)

_STATE = "tfidf.json"
_IDF = "tfidf_idf.npz"


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


class TfidfBackend(FeatureBackend):
    """Sparse TF-IDF rows -> :class:`LinearHead` fitted by ``fit_head``."""

    name: ClassVar[str] = "tfidf"

    def __init__(self, settings: TfidfSettings | None = None) -> None:
        self.tfidf = settings or TfidfSettings()
        self.vectorizers: list[TfidfVectorizer] | None = None
        self.head: LinearHead | None = None
        self.fit_info: dict[str, Any] | None = None
        self._fit_key: tuple[Any, ...] | None = None

    @classmethod
    def create(cls, *, model_name: str | None = None, **_: Any) -> TfidfBackend:
        if model_name is not None:
            log.warning("the tfidf backend uses no pretrained model: ignoring model %s", model_name)
        return cls()

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
        matrix = self.features(texts)
        log.info("TF-IDF: %d texts x %d features (%d non-zeros)", matrix.shape[0], matrix.shape[1], matrix.nnz)
        return matrix

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

    def features_key(self, texts: Sequence[str], val_texts: Sequence[str] | None) -> tuple[Any, ...]:
        # The vectoriser fit and the texts identify the features: a fit repeated with them is made once.
        return (self._fit_key, texts_hash(val_texts) if val_texts is not None else None)

    def settings(self) -> dict[str, Any]:
        return {"tfidf": asdict(self.tfidf)}

    def save_features(self, directory: Path) -> None:
        if self.vectorizers is None:
            raise ModelError("the TF-IDF backend is not fitted")
        state = _STATE_CACHE.get(self._fit_key) if self._fit_key is not None else None
        if state is None:
            state = self._state_bytes()
            if self._fit_key is not None:
                _remember(_STATE_CACHE, self._fit_key, state, _FIT_CACHE_SIZE)
        (directory / _STATE).write_bytes(state)
        idf = {f"idf_{i}": vec.idf_.astype(np.float64) for i, vec in enumerate(self.vectorizers)}
        np.savez(directory / _IDF, **idf)

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
    def from_settings(cls, settings: dict[str, Any], directory: Path) -> TfidfBackend:
        """The vectorisers from ``tfidf.json`` and ``tfidf_idf.npz`` (no pickle), each checked."""
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
        backend = cls(tfidf)
        backend.vectorizers = []
        for vector_params, terms, values in zip(params, vocabularies, idf):
            vec = TfidfVectorizer(**vector_params, vocabulary={term: j for j, term in enumerate(terms)})
            vec.idf_ = values
            backend.vectorizers.append(vec)
        return backend

    def check_loaded(self, directory: Path) -> None:
        assert self.head is not None and self.vectorizers is not None
        terms = sum(len(vec.vocabulary_) for vec in self.vectorizers)
        if self.head.n_features != terms:
            raise ModelError(f"{directory / HEAD_FILE} has weights for {self.head.n_features} features but the "
                             f"vocabulary in {_STATE} has {terms}")


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
