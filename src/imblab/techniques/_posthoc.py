"""Post-hoc adjustments fitted on the validation split, applied to logits and decisions.

A :class:`PostHoc` maps raw model logits z to the technique's logits and decisions:

    transform_logits(z) = (scale · z) / temperature − offset
    decide(p)           = argmax_c ( log p_c + decision_offset_c )

``scale`` is a fixed factor of the loss (LDAM's s; 1 otherwise); ``temperature`` comes from
temperature scaling (Guo et al. 2017); ``offset`` = τ log π is post-hoc logit adjustment
(Menon et al. 2021); ``decision_offset`` holds per-class decision thresholds (Elkan 2001;
scikit-learn ``TunedThresholdClassifierCV``) in log space: with two classes, predicting class k
iff p_k / p_other > e^{−decision_offset_k} is a probability threshold on p_k.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SpecError
from ..evaluation import macro_f1

__all__ = [
    "PostHoc",
    "fit_temperature",
    "fit_threshold_offsets",
    "logit_adjustment_offset",
    "macro_f1",
    "POSTHOC_KINDS",
]

log = logging.getLogger(__name__)

POSTHOC_KINDS = ("none", "threshold", "temperature", "logit-adjusted-posthoc")


@dataclass(frozen=True, eq=False)
class PostHoc:
    """A fitted post-hoc step; ``PostHoc()`` is the identity (argmax of the raw logits)."""

    kind: str = "none"
    scale: float = 1.0
    temperature: float = 1.0
    offset: np.ndarray | None = None
    decision_offset: np.ndarray | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def transform_logits(self, logits: np.ndarray) -> np.ndarray:
        """(scale · z) / temperature − offset, as float64."""
        z = np.asarray(logits, dtype=np.float64) * (self.scale / self.temperature)
        return z - self.offset if self.offset is not None else z

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class index per row: argmax, shifted by the tuned per-class decision offsets."""
        p = np.asarray(proba, dtype=np.float64)
        if self.decision_offset is None:
            return p.argmax(axis=-1)
        return (_safe_log(p) + self.decision_offset).argmax(axis=-1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; :meth:`from_dict` restores it."""
        return {
            "kind": self.kind,
            "scale": self.scale,
            "temperature": self.temperature,
            "offset": None if self.offset is None else self.offset.tolist(),
            "decision_offset": None if self.decision_offset is None else self.decision_offset.tolist(),
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PostHoc:
        """Inverse of :meth:`to_dict`, validated (a stored model may be damaged or foreign).

        Raises:
            SpecError: an unknown kind, a scale or temperature that is not a finite number > 0, or
                offsets that are not a list of finite numbers.
        """
        if not isinstance(d, dict):
            raise SpecError(f"the post-hoc step must be an object, not {type(d).__name__}")
        kind = d.get("kind", "none")
        if kind not in POSTHOC_KINDS:
            raise SpecError(f"unknown post-hoc kind {kind!r}: known are {', '.join(POSTHOC_KINDS)}")

        def positive(name: str) -> float:
            value = d.get(name, 1.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < float("inf")):
                raise SpecError(f"post-hoc {name} must be a finite number > 0, not {value!r}")
            return float(value)

        def arr(name: str) -> np.ndarray | None:
            v = d.get(name)
            if v is None:
                return None
            if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise SpecError(f"post-hoc {name} must be a list of numbers")
            out = np.asarray(v, dtype=np.float64)
            if not np.all(np.isfinite(out)):
                raise SpecError(f"post-hoc {name} must be finite")
            return out

        details = d.get("details", {})
        return cls(kind=kind, scale=positive("scale"), temperature=positive("temperature"), offset=arr("offset"),
                   decision_offset=arr("decision_offset"), details=dict(details) if isinstance(details, dict) else {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostHoc) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _safe_log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, np.finfo(np.float64).tiny, None))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature scaling: the T > 0 minimising the validation NLL of softmax(z / T).

    Guo, Pleiss, Sun & Weinberger (2017), "On Calibration of Modern Neural Networks", ICML.
    Minimised over log T in [−5, 5] (bounded Brent, scipy).
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t), axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(result.x))


def logit_adjustment_offset(prior: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """Post-hoc logit adjustment: the offset τ log π subtracted from the logits.

    Menon et al. (2021), "Long-tail learning via logit adjustment", ICLR, eq. (9): predicting
    argmax_y f_y(x) − τ log π_y turns a prior-following model into one for the balanced error;
    softmax(f − τ log π) is calibrated to the prior ∝ π^(1−τ).
    """
    return tau * np.log(np.asarray(prior, dtype=np.float64))


def _cutoffs(scores: np.ndarray) -> np.ndarray:
    """Candidate cut-offs: midpoints between sorted distinct scores, plus one below and one above."""
    u = np.unique(scores)
    if u.size == 1:
        return np.array([u[0] - 1.0, u[0] + 1.0])
    return np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2, [u[-1] + 1.0]])


def _one_vs_rest_score(log_p: np.ndarray, k: int) -> np.ndarray:
    """log p_k − max_{j≠k} log p_j: class k is predicted iff this exceeds −decision_offset_k."""
    others = np.delete(log_p, k, axis=1)
    return log_p[:, k] - others.max(axis=1)


def fit_threshold_offsets(
    proba: np.ndarray,
    y: np.ndarray,
    *,
    label_index: int,
    recall: float | None = None,
    precision: float | None = None,
    rounds: int = 3,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Tune per-class decision offsets on validation data.

    Three objectives:
      * ``recall=r``: for class ``label_index`` the largest cut-off whose recall ≥ r (best precision
        among those); other classes keep argmax.
      * ``precision=q``: the cut-off with the highest recall among those whose precision ≥ q
        (falls back to the highest precision, with a warning, when q is out of reach).
      * neither: maximise macro-F1. Binary: an exhaustive search of the one threshold on
        ``label_index``'s probability. Multiclass: coordinate ascent over the per-class offsets
        (``rounds`` passes, each an exhaustive search of one class's offset).

    Returns:
        (decision_offset (C,), details dict with the objective and its validation value).
    """
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n_classes = p.shape[1]
    log_p = _safe_log(p)
    offsets = np.zeros(n_classes)
    k = label_index
    if recall is not None or precision is not None:
        score = _one_vs_rest_score(log_p, k)
        is_k = y == k
        best_c, best_key = None, None
        for c in _cutoffs(score):
            hit = score > c
            tp = float(np.sum(hit & is_k))
            rec = tp / max(int(is_k.sum()), 1)
            prec = tp / hit.sum() if hit.any() else 0.0
            if recall is not None:
                key = (rec >= recall, prec, c)
            else:
                key = (prec >= precision, rec if prec >= precision else prec, c)
            if best_key is None or key > best_key:
                best_c, best_key = c, key
        if not best_key[0]:
            log.warning("threshold: the precision target %.3f is not reached on validation; "
                        "using the best precision %.3f",
                        precision, best_key[1])
        offsets[k] = -best_c
        hit = score > best_c
        tp = float(np.sum(hit & is_k))
        details = {"objective": "recall" if recall is not None else "precision",
                   "target": recall if recall is not None else precision, "label_index": k,
                   "recall": tp / max(int(is_k.sum()), 1), "precision": tp / hit.sum() if hit.any() else 0.0}
        return offsets, details
    if n_classes == 2:
        score = _one_vs_rest_score(log_p, k)
        values = [(macro_f1(y, np.where(score > c, k, 1 - k), 2), -abs(c), c) for c in _cutoffs(score)]
        best = max(values)
        offsets[k] = -best[2]
        return offsets, {"objective": "macro_f1", "macro_f1": best[0], "label_index": k}
    best_f1 = macro_f1(y, (log_p + offsets).argmax(axis=1), n_classes)
    for _ in range(rounds):
        improved = False
        for c in range(n_classes):
            rest = np.delete(log_p + offsets, c, axis=1).max(axis=1)
            score = log_p[:, c] - rest
            for cut in _cutoffs(score):
                trial = offsets.copy()
                trial[c] = -cut
                f1 = macro_f1(y, (log_p + trial).argmax(axis=1), n_classes)
                if f1 > best_f1 + 1e-12:
                    best_f1, offsets, improved = f1, trial, True
        if not improved:
            break
    return offsets, {"objective": "macro_f1", "macro_f1": best_f1}
