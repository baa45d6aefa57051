"""The in-memory data set: texts, string labels and where they came from."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Dataset", "minority_index"]


@dataclass(frozen=True)
class Dataset:
    """A labelled text data set.

    Attributes:
        name: built-in name or file name.
        texts: the texts, in file order (empty and missing ones already dropped).
        labels: one string label per text.
        label_names: the classes, in a fixed order: indices in ``y`` refer to it.
        source: where the rows were read from (a path).
        dropped_rows: rows dropped for a missing/empty text or label.
        removed_duplicates: rows removed by ``dedupe`` (0 unless asked).
        citation, license: for built-ins.
    """

    name: str
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    label_names: tuple[str, ...]
    source: str = ""
    dropped_rows: int = 0
    removed_duplicates: int = 0
    citation: str | None = None
    license: str | None = None
    row_ids: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError("texts and labels differ in length")
        if not self.row_ids:
            # Row ids survive subsampling and deduplication, so a prediction can be traced to its row.
            object.__setattr__(self, "row_ids", tuple(range(len(self.texts))))

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def y(self) -> np.ndarray:
        """Labels as indices into ``label_names`` (int64)."""
        index = {name: i for i, name in enumerate(self.label_names)}
        return np.fromiter((index[label] for label in self.labels), dtype=np.int64, count=len(self.labels))

    @property
    def class_counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=len(self.label_names))

    @property
    def duplicate_texts(self) -> int:
        """Rows whose text already appeared in an earlier row."""
        return len(self.texts) - len(set(self.texts))

    def content_hash(self) -> str:
        """sha256 over (text, label) pairs: identifies the data a split or a run used."""
        cached = self.__dict__.get("_content_hash")  # computed once: the rows of a Dataset never change
        if cached is not None:
            return cached
        h = hashlib.sha256()
        for text, label in zip(self.texts, self.labels):
            h.update(label.encode("utf-8"))
            h.update(b"\t")
            h.update(text.encode("utf-8"))
            h.update(b"\n")
        object.__setattr__(self, "_content_hash", h.hexdigest())
        return self.__dict__["_content_hash"]

    def take(self, indices: np.ndarray | list[int]) -> Dataset:
        """The rows at ``indices`` (label order is kept even if a class vanishes)."""
        idx = [int(i) for i in indices]
        return replace(
            self,
            texts=tuple(self.texts[i] for i in idx),
            labels=tuple(self.labels[i] for i in idx),
            row_ids=tuple(self.row_ids[i] for i in idx),
        )

    def dedupe(self) -> Dataset:
        """Keep the first row of every distinct text."""
        seen: set[str] = set()
        keep = []
        for i, text in enumerate(self.texts):
            if text not in seen:
                seen.add(text)
                keep.append(i)
        out = self.take(keep)
        return replace(out, removed_duplicates=self.removed_duplicates + len(self) - len(keep))


def minority_index(counts: Sequence[float] | np.ndarray, *, ties: str = "first", present_only: bool = False) -> int:
    """The index of the class with the fewest rows (or the smallest prior): imblab's one minority rule.

    Args:
        counts: per-class counts (or priors).
        ties: which of equally small classes: ``"first"`` or ``"last"``.
        present_only: skip classes with a count of 0 (a test split that lacks a class); 0 when none is present.
    """
    values = np.asarray(counts, dtype=np.float64)
    candidates = np.flatnonzero(values > 0) if present_only else np.arange(len(values))
    if len(candidates) == 0:
        return 0
    smallest = candidates[values[candidates] == values[candidates].min()]
    return int(smallest[0] if ties == "first" else smallest[-1])
