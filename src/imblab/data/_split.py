"""Stratified, duplicate-aware train / validation / test splits and subsamples.

A split is a pure function of (data, fractions, seed): the same inputs give the same
indices on every machine. Identical texts always land in the same part, so a
message repeated in the data cannot leak from train into test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ._dataset import Dataset

__all__ = ["Split", "split_dataset", "stratified_subsample", "PARTS"]

PARTS = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    """Row indices of each part, with what produced them."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    seed: int
    fractions: tuple[float, float, float]
    data_hash: str

    def indices(self, part: str) -> np.ndarray:
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; parts are {PARTS}")
        return getattr(self, part)

    def take(self, dataset: Dataset, part: str) -> Dataset:
        return dataset.take(self.indices(part))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "fractions": dict(zip(PARTS, self.fractions)),
            "data_sha256": self.data_hash,
            **{part: self.indices(part).tolist() for part in PARTS},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Split:
        return cls(
            **{part: np.asarray(d[part], dtype=np.int64) for part in PARTS},
            seed=int(d["seed"]),
            fractions=tuple(float(d["fractions"][p]) for p in PARTS),  # type: ignore[arg-type]
            data_hash=str(d["data_sha256"]),
        )


def _text_groups(dataset: Dataset) -> tuple[list[list[int]], np.ndarray]:
    """Rows grouped by identical text (first-occurrence order) and each group's majority class."""
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(dataset.texts):
        groups.setdefault(text, []).append(i)
    y = dataset.y
    members = list(groups.values())
    n_classes = len(dataset.label_names)
    majority = np.array([np.bincount(y[rows], minlength=n_classes).argmax() for rows in members], dtype=np.int64)
    return members, majority


def split_dataset(dataset: Dataset, *, validation: float = 0.1, test: float = 0.1, seed: int = 42) -> Split:
    """Split ``dataset`` into stratified train / validation / test parts.

    Every class appears in every part; identical texts stay together. Per class, the
    text groups are shuffled with ``np.random.default_rng(seed)`` and dealt to test,
    then validation, until each reaches its share of the class's rows; the rest is train.

    Raises:
        DataError: bad fractions, or a class with too few distinct texts to appear in all parts.
    """
    train = 1.0 - validation - test
    for name, value in (("validation", validation), ("test", test), ("train", train)):
        if not 0.0 < value < 1.0:
            raise DataError(f"{name} fraction {value:g} must be between 0 and 1 (fractions: train = 1 - validation - test)")
    members, majority = _text_groups(dataset)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {p: [] for p in PARTS}
    for c, label in enumerate(dataset.label_names):
        class_groups = [members[g] for g in np.flatnonzero(majority == c)]
        if len(class_groups) < 3:
            raise DataError(
                f"class {label!r} has {len(class_groups)} distinct texts: it needs at least 3 to appear in "
                "train, validation and test"
            )
        order = rng.permutation(len(class_groups))
        n_rows = sum(len(g) for g in class_groups)
        targets = {"test": max(1, round(n_rows * test)), "validation": max(1, round(n_rows * validation))}
        cursor = 0
        for part, remaining_parts in (("test", 2), ("validation", 1)):
            taken = 0
            # Always take one group; keep taking while short of the target and groups remain for later parts.
            while cursor < len(order) - remaining_parts and (taken == 0 or taken < targets[part]):
                group = class_groups[order[cursor]]
                parts[part].extend(group)
                taken += len(group)
                cursor += 1
        for k in order[cursor:]:
            parts["train"].extend(class_groups[k])
    split = Split(
        **{p: np.array(sorted(parts[p]), dtype=np.int64) for p in PARTS},
        seed=seed, fractions=(train, validation, test), data_hash=dataset.content_hash(),
    )
    y = dataset.y
    for part in PARTS:
        missing = set(range(len(dataset.label_names))) - set(np.unique(y[split.indices(part)]).tolist())
        if missing:
            names = ", ".join(repr(dataset.label_names[c]) for c in sorted(missing))
            raise DataError(f"class {names} has no example in the {part} part: its texts are duplicates of other classes'")
    return split


def stratified_subsample(dataset: Dataset, n: int, *, seed: int) -> Dataset:
    """``n`` rows keeping each class's share (at least 3 rows of every class), in file order.

    Raises:
        DataError: ``n`` is below 3 rows per class (0 is not "no limit": leave the limit out for that).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise DataError(f"--limit must be a whole number of rows, got {n!r}")
    if n >= len(dataset):
        return dataset
    counts = dataset.class_counts
    min_n = 3 * int((counts > 0).sum())
    if n < min_n:
        raise DataError(f"--limit {n} is too small: {dataset.name} needs at least {min_n} rows (3 of every class; "
                        "leave --limit out to use every row)")
    quota = np.maximum(3, np.floor(counts * n / counts.sum())).astype(int)
    # Hand out rounding leftovers to the largest classes first.
    for c in np.argsort(-counts):
        if quota.sum() >= n:
            break
        quota[c] += 1
    while quota.sum() > n:
        quota[np.argmax(quota)] -= 1
    rng = np.random.default_rng(seed)
    y = dataset.y
    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), size=min(q, counts[c]), replace=False) for c, q in enumerate(quota)])
    return dataset.take(np.sort(keep))
