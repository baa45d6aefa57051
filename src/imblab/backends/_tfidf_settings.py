"""The TF-IDF backend's vectoriser settings: a light module (numpy only), so that what a stored run or the
scikit-learn reference was made with can be checked without importing scikit-learn or torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TfidfSettings"]


@dataclass(frozen=True)
class TfidfSettings:
    """Vectoriser settings (see ``_tfidf``'s docstring for why these defaults)."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    sublinear_tf: bool = True
    word_lowercase: bool = False
    max_features: int | None = None

    def vectorizer_params(self) -> list[dict[str, Any]]:
        common = {"sublinear_tf": self.sublinear_tf, "min_df": self.min_df, "max_features": self.max_features,
                  "dtype": np.float32}
        return [
            {"analyzer": "word", "ngram_range": tuple(self.word_ngrams), "lowercase": self.word_lowercase,
             "token_pattern": r"(?u)\b\w+\b", **common},
            {"analyzer": "char_wb", "ngram_range": tuple(self.char_ngrams), "lowercase": True, **common},
        ]
