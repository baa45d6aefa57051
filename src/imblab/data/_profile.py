"""How imbalanced is a data set? Counts, weights, ratio, duplicates and text lengths."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._dataset import Dataset, minority_index
from ._split import PARTS, Split

__all__ = ["profile", "inverse_frequency_weights"]

LENGTH_PERCENTILES = (5, 25, 50, 75, 95, 99)


def inverse_frequency_weights(counts: np.ndarray) -> np.ndarray:
    """``N / (c · n_i)``: scikit-learn's "balanced" weights (King & Zeng 2001)."""
    counts = np.asarray(counts, dtype=float)
    return counts.sum() / (len(counts) * counts)


def profile(dataset: Dataset, split: Split | None = None) -> dict[str, Any]:
    """The imbalance profile of ``dataset`` as a JSON-ready dict.

    Keys: ``dataset``, ``n_rows``, ``dropped_rows``, ``duplicate_texts``, ``classes`` (label,
    count, fraction, inverse_frequency_weight), ``imbalance_ratio`` (largest / smallest class),
    ``length`` (characters and words, percentiles per class) and, with ``split``, the rows of
    each class in each part.
    """
    counts = dataset.class_counts
    n = int(counts.sum())
    weights = inverse_frequency_weights(counts)
    y = dataset.y
    chars = np.fromiter((len(t) for t in dataset.texts), dtype=np.int64, count=len(dataset))
    words = np.fromiter((len(t.split()) for t in dataset.texts), dtype=np.int64, count=len(dataset))
    out: dict[str, Any] = {
        "dataset": dataset.name,
        "source": dataset.source,
        "n_rows": n,
        "dropped_rows": dataset.dropped_rows,
        "duplicate_texts": dataset.duplicate_texts,
        "removed_duplicates": dataset.removed_duplicates,
        "n_classes": len(dataset.label_names),
        "classes": [
            {
                "label": label,
                "count": int(counts[c]),
                "fraction": round(float(counts[c] / n), 4),
                "inverse_frequency_weight": round(float(weights[c]), 4),
            }
            for c, label in enumerate(dataset.label_names)
        ],
        "imbalance_ratio": round(float(counts.max() / counts.min()), 2),
        "minority_label": dataset.label_names[minority_index(counts)],
        "length": {
            unit: {
                "percentiles": list(LENGTH_PERCENTILES),
                "per_class": {
                    label: _length_stats(values[y == c]) for c, label in enumerate(dataset.label_names)
                },
                "all": _length_stats(values),
            }
            for unit, values in (("characters", chars), ("words", words))
        },
    }
    if dataset.citation:
        out["citation"] = dataset.citation
        out["license"] = dataset.license
    if split is not None:
        out["split"] = {
            "seed": split.seed,
            "fractions": dict(zip(PARTS, (round(f, 4) for f in split.fractions))),
            "counts": {
                part: {label: int((y[split.indices(part)] == c).sum()) for c, label in enumerate(dataset.label_names)}
                for part in PARTS
            },
        }
    return out


def _length_stats(values: np.ndarray) -> dict[str, float]:
    stats = {f"p{p}": float(np.percentile(values, p)) for p in LENGTH_PERCENTILES}
    stats["mean"] = round(float(values.mean()), 1)
    stats["max"] = int(values.max())
    return stats
