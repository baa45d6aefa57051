"""A linear classification head on fixed features (TF-IDF rows or frozen embeddings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import read_regular_bytes
from ..errors import ModelError

__all__ = ["LinearHead"]


@dataclass
class LinearHead:
    """``logits = features @ weight + bias``.

    Attributes:
        weight: (d, C) float32.
        bias: (C,) float32.
    """

    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        self.weight = np.ascontiguousarray(self.weight, dtype=np.float32)
        self.bias = np.ascontiguousarray(self.bias, dtype=np.float32)
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[1],):
            raise ModelError(f"a linear head needs a (d, C) weight and a (C,) bias, got {self.weight.shape} and "
                             f"{self.bias.shape}")

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.weight.shape[1])

    def logits(self, features: Any) -> np.ndarray:
        """(n, C) float32 logits of (n, d) features, sparse or dense."""
        if features.shape[1] != self.n_features:
            raise ModelError(f"the head expects {self.n_features} features, got {features.shape[1]}")
        return (np.asarray(features @ self.weight, dtype=np.float32) + self.bias).astype(np.float32, copy=False)

    def save(self, path: Path, *, transposed: bool = False) -> None:
        """safetensors with ``weight`` ((d, C), or (C, d) with ``transposed``, as ``nn.Linear`` stores it) and ``bias``."""
        from safetensors.numpy import save_file

        weight = self.weight.T if transposed else self.weight
        save_file({"weight": np.ascontiguousarray(weight), "bias": self.bias}, str(path))

    @classmethod
    def load(cls, path: Path, *, transposed: bool = False) -> LinearHead:
        """Read :meth:`save`'s file (safetensors only: nothing is unpickled)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load

        data = read_regular_bytes(path, ModelError)  # a regular file of bounded size: never a FIFO or a device
        try:
            tensors = load(data)
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelError(f"{path} is not a readable safetensors file ({exc})") from None
        weight, bias = tensors.get("weight"), tensors.get("bias")
        shape = "(classes, features)" if transposed else "(features, classes)"
        if (weight is None or bias is None or weight.ndim != 2 or bias.ndim != 1 or weight.dtype.kind != "f"
                or bias.dtype.kind != "f" or not (np.isfinite(weight).all() and np.isfinite(bias).all())):
            raise ModelError(f"{path} must hold finite float tensors weight {shape} and bias (classes,)")
        return cls(weight.T if transposed else weight, bias)
