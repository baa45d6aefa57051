"""One (technique, seed) run's results on the shared test split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ImblabError

__all__ = ["RunOutcome"]

_ARRAYS = ("y_true", "proba", "pred", "proba_corrected")
_VALIDATION = ("val_y", "val_proba_corrected")


@dataclass
class RunOutcome:
    """The test-split results of one (technique, seed) run.

    Attributes:
        technique: The technique's display name (unique within a study).
        spec: The technique's canonical spec string.
        seed: The training seed.
        y_true: ``(n,)`` int true label indices of the test split (the same for every run).
        proba: ``(n, C)`` the technique's probabilities, post-hoc transform applied.
        pred: ``(n,)`` int decisions (post-hoc thresholds applied).
        proba_corrected: ``(n, C)`` probabilities corrected to the true class prior.
        metrics: Flat test metrics (``imblab.evaluation.flatten_metrics``).
        report: scikit-learn's ``classification_report(output_dict=True)``.
        probes: ``[{"text": str, "raw": {label: p}, "corrected": {label: p}}]``.
        seconds: Training plus evaluation wall time.
        fit: What the training chose, for the linear heads the C and its path (``metrics.json``'s ``head``).
        val_y: ``(m,)`` validation label indices, or None (runs stored before validation.csv).
        val_proba_corrected: ``(m, C)`` validation probabilities corrected to the true class prior, or None;
            what a cost-optimal threshold is tuned on (:mod:`._costs`).
        backend: the backend that trained it (None: unknown, or the scikit-learn reference).
        val_metrics: flat validation metrics (empty for runs stored without them): what a study of several
            backends chooses by (:mod:`._chosen`).
    """

    technique: str
    spec: str
    seed: int
    y_true: np.ndarray
    proba: np.ndarray
    pred: np.ndarray
    proba_corrected: np.ndarray
    metrics: dict[str, float]
    report: dict[str, Any] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    fit: dict[str, Any] | None = None
    val_y: np.ndarray | None = None
    val_proba_corrected: np.ndarray | None = None
    backend: str | None = None
    val_metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.y_true = np.asarray(self.y_true, dtype=np.int64)
        self.pred = np.asarray(self.pred, dtype=np.int64)
        self.proba = np.asarray(self.proba, dtype=np.float64)
        self.proba_corrected = np.asarray(self.proba_corrected, dtype=np.float64)
        n = len(self.y_true)
        if self.proba.ndim != 2 or self.proba.shape[0] != n or self.pred.shape != (n,):
            raise ImblabError(
                f"run {self.technique!r} seed {self.seed}: y_true {self.y_true.shape}, pred {self.pred.shape} and "
                f"proba {self.proba.shape} do not describe the same {n} examples"
            )
        if self.proba_corrected.shape != self.proba.shape:
            raise ImblabError(f"run {self.technique!r} seed {self.seed}: proba_corrected has the wrong shape")
        if (self.val_y is None) != (self.val_proba_corrected is None):
            raise ImblabError(f"run {self.technique!r} seed {self.seed}: validation labels without probabilities")
        if self.val_y is not None and self.val_proba_corrected is not None:
            self.val_y = np.asarray(self.val_y, dtype=np.int64)
            self.val_proba_corrected = np.asarray(self.val_proba_corrected, dtype=np.float64)
            if self.val_proba_corrected.shape != (len(self.val_y), self.proba.shape[1]):
                raise ImblabError(f"run {self.technique!r} seed {self.seed}: validation probabilities have the "
                                  f"wrong shape {self.val_proba_corrected.shape}")

    @property
    def has_validation(self) -> bool:
        """Whether the run's validation predictions are known (a cost threshold can be tuned on them)."""
        return self.val_y is not None

    @property
    def n_classes(self) -> int:
        return int(self.proba.shape[1])

    def meta_dict(self) -> dict[str, Any]:
        """Everything except the arrays, JSON-ready."""
        return {
            "technique": self.technique,
            "spec": self.spec,
            "seed": int(self.seed),
            "metrics": {k: float(v) for k, v in self.metrics.items()},
            "report": self.report,
            "probes": self.probes,
            "seconds": float(self.seconds),
            "fit": self.fit,
            "backend": self.backend,
            "val_metrics": {k: float(v) for k, v in self.val_metrics.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, arrays as nested lists."""
        out = {**self.meta_dict(), **{name: getattr(self, name).tolist() for name in _ARRAYS}}
        for name in _VALIDATION:
            value = getattr(self, name)
            out[name] = None if value is None else value.tolist()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunOutcome:
        """The inverse of :meth:`to_dict` (also accepts arrays instead of lists)."""
        return cls(
            technique=str(d["technique"]),
            spec=str(d["spec"]),
            seed=int(d["seed"]),
            **{name: np.asarray(d[name]) for name in _ARRAYS},
            metrics={k: float(v) for k, v in d["metrics"].items()},
            report=d.get("report", {}),
            probes=list(d.get("probes", [])),
            seconds=float(d.get("seconds", 0.0)),
            fit=d.get("fit"),
            backend=d.get("backend"),
            val_metrics={k: float(v) for k, v in (d.get("val_metrics") or {}).items()},
            **{name: None if d.get(name) is None else np.asarray(d[name]) for name in _VALIDATION},
        )
