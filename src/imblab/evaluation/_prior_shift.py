"""The class prior of unlabelled texts, estimated from a model's outputs (label shift: p(x | y) fixed, p(y) moved).

* **EM** — Saerens, Latinne & Decaestecker (2002), "Adjusting the Outputs of a Classifier to New a Priori
  Probabilities: A Simple Procedure", Neural Computation 14(1), §3: start at the training prior π; repeat
  p_i(y) ∝ p(y | x_i) · q(y) / π(y) (the posteriors moved to the current estimate q), q(y) = mean_i p_i(y),
  until q stops moving. It needs probabilities calibrated at the training prior (Alexandari, Kundaje &
  Shrikumar 2020: EM works best on calibrated outputs), which is what a model's prior-corrected probabilities are.
* **BBSE** — Lipton, Wang & Smola (2018), "Detecting and Correcting for Label Shift with Black Box Predictors",
  ICML: with C[i, j] = P(ŷ = i, y = j) on the labelled validation split and μ(i) = P(ŷ = i) on the unlabelled
  texts, solve C w = μ; the prior is q(y) = w(y) · P_val(y) (clipped at 0, renormalised). It needs only hard
  decisions, and labelled validation data.
* **naive** — the share of each predicted label: biased towards the training prior's decisions; shown as the
  baseline the other two must beat.

With labelled validation data, EM's posteriors are first recalibrated with class biases, as Alexandari et al.
recommend: by vector scaling (:func:`vector_scaling`).

Intervals: a percentile bootstrap over the unlabelled texts and the validation rows too — BBSE's confusion matrix
and EM's recalibration are estimates as well (:class:`EMCalibration`) — ``n_boot`` replicates, seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PRIOR_METHODS", "EMCalibration", "PriorEstimate", "Recalibration", "bbse_prior", "em_calibration",
           "em_prior", "estimate_prior_from_outputs", "naive_prior", "vector_scaling"]

PRIOR_METHODS = ("em", "bbse", "naive")


def em_prior(proba: np.ndarray, training_prior: np.ndarray, *, tol: float = 1e-10, max_iter: int = 1000) -> np.ndarray:
    """Saerens et al.'s EM estimate of the prior of the rows of ``proba`` ((n, C) posteriors at ``training_prior``)."""
    p = np.asarray(proba, dtype=np.float64)
    base = np.asarray(training_prior, dtype=np.float64)
    q = base.copy()
    for _ in range(max_iter):
        moved = p * (q / base)
        moved /= np.maximum(moved.sum(axis=1, keepdims=True), 1e-300)
        new = moved.mean(axis=0)
        if np.max(np.abs(new - q)) < tol:
            return new
        q = new
    return q


@dataclass(frozen=True)
class Recalibration:
    """Vector scaling: ``softmax(scales ⊙ log p + bias)``, one scale and one bias per class (Guo et al. 2017),
    fitted on labelled validation posteriors by log-loss (:func:`vector_scaling`)."""

    scales: np.ndarray
    bias: np.ndarray

    def apply(self, proba: np.ndarray) -> np.ndarray:
        """``proba`` recalibrated."""
        from scipy.special import softmax

        logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, None))
        return softmax(logp * self.scales + self.bias, axis=1)


def vector_scaling(val_proba: np.ndarray, val_y: np.ndarray) -> Recalibration:
    """Vector scaling fitted on labelled validation posteriors: the per-class scales and biases minimising the
    validation log-loss of ``softmax(s ⊙ log p + b)`` (exact gradient, L-BFGS-B).

    Alexandari, Kundaje & Shrikumar (2020) find EM hard to beat on posteriors recalibrated with class biases, by
    bias-corrected temperature scaling (one temperature) or vector scaling (one scale per class). imblab uses
    the latter: on hate speech (3 classes, a 5.8 % minority) one temperature left EM 8.6 points off at a 50 %
    minority share, one scale per class 1.2 points (n = 2,000; benchmarks/RESULTS.md §12); on two classes they
    agree within noise.
    """
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    logp = np.log(np.clip(np.asarray(val_proba, dtype=np.float64), 1e-12, None))
    y = np.asarray(val_y, dtype=np.int64)
    n, k = logp.shape
    onehot = np.zeros_like(logp)
    onehot[np.arange(n), y] = 1.0

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        scales, bias = np.exp(theta[:k]), np.concatenate([[0.0], theta[k:]])
        log_q = log_softmax(logp * scales + bias, axis=1)
        dz = (np.exp(log_q) - onehot) / n  # d loss / d logits
        grad = np.concatenate([(dz * logp).sum(axis=0) * scales, dz.sum(axis=0)[1:]])
        return float(-(log_q * onehot).sum() / n), grad

    found = minimize(loss_and_grad, np.zeros(2 * k - 1), jac=True, method="L-BFGS-B",
                     bounds=[(-5.0, 5.0)] * k + [(-100.0, 100.0)] * (k - 1))
    return Recalibration(np.exp(found.x[:k]), np.concatenate([[0.0], found.x[k:]]))


@dataclass(frozen=True)
class EMCalibration:
    """EM's recalibration on a validation split, and its bootstrap replicates.

    ``point`` is fitted on every validation row; replicate r on the r-th bootstrap resample of them, so that an
    interval also holds the calibration's own uncertainty (a 2,478-row validation split with 144 minority rows
    does not pin it down). Each comes with ``base``: the mean recalibrated validation posterior, the prior the
    recalibrated outputs are at, where EM starts. Fit it once per model (:func:`em_calibration`) and pass it to
    every :func:`estimate_prior_from_outputs` of that model.
    """

    point: Recalibration
    base: np.ndarray
    replicates: list[tuple[Recalibration, np.ndarray]]


def em_calibration(val_proba: np.ndarray, val_y: np.ndarray, *, n_boot: int = 200, seed: int = 0) -> EMCalibration:
    """Vector scaling on the validation split, and on ``n_boot`` bootstrap resamples of it (seeded)."""
    vp, vy = np.asarray(val_proba, dtype=np.float64), np.asarray(val_y, dtype=np.int64)

    def fitted(rows: np.ndarray) -> tuple[Recalibration, np.ndarray]:
        found = vector_scaling(vp[rows], vy[rows])
        return found, found.apply(vp[rows]).mean(axis=0)

    rng = np.random.default_rng([seed, 1])  # a stream of its own: the texts' resamples do not move it
    point, base = fitted(np.arange(len(vy)))
    return EMCalibration(point, base, [fitted(rng.integers(0, len(vy), len(vy))) for _ in range(n_boot)])


def bbse_prior(pred: np.ndarray, val_pred: np.ndarray, val_y: np.ndarray, n_classes: int) -> np.ndarray:
    """Lipton et al.'s black-box shift estimate from the decisions ``pred`` on the unlabelled texts and the
    validation split's decisions and labels."""
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (np.asarray(val_pred), np.asarray(val_y)), 1.0)
    joint /= max(len(val_y), 1)
    mu = np.bincount(np.asarray(pred), minlength=n_classes) / max(len(pred), 1)
    w, *_ = np.linalg.lstsq(joint, mu, rcond=None)  # the least-squares solution where C is singular
    q = np.clip(w, 0.0, None) * joint.sum(axis=0)
    total = q.sum()
    return q / total if total > 0 else np.full(n_classes, 1.0 / n_classes)


def naive_prior(pred: np.ndarray, n_classes: int) -> np.ndarray:
    """The share of each predicted label."""
    return np.bincount(np.asarray(pred), minlength=n_classes) / max(len(pred), 1)


@dataclass(frozen=True)
class PriorEstimate:
    """An estimated class prior with its bootstrap interval.

    Attributes:
        labels: the class names.
        prior: (C,) the estimate.
        low, high: (C,) the percentile-bootstrap interval of each label's share.
        method: ``em``, ``bbse`` or ``naive``.
        n: how many texts it was estimated from.
        training_prior: (C,) the model's training prior, for comparison.
        confidence: the interval's coverage.
    """

    labels: list[str]
    prior: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str
    n: int
    training_prior: np.ndarray
    confidence: float = 0.95
    replicates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    @property
    def shifted(self) -> bool:
        """Whether the training prior lies outside the interval for some label (the mix has moved)."""
        return bool(np.any((self.training_prior < self.low) | (self.training_prior > self.high)))

    def to_dict(self) -> dict[str, Any]:
        """``{"prior": {label: p}, "interval": {label: [lo, hi]}, "method", "n", "training_prior": {...}, ...}``."""
        return {
            "prior": {label: float(p) for label, p in zip(self.labels, self.prior)},
            "interval": {label: [float(lo), float(hi)] for label, lo, hi in zip(self.labels, self.low, self.high)},
            "method": self.method, "n": int(self.n), "confidence": self.confidence,
            "training_prior": {label: float(p) for label, p in zip(self.labels, self.training_prior)},
            "shifted": self.shifted,
        }


def _checked(labels: Sequence[str], proba: np.ndarray, training_prior: np.ndarray, method: str,
             pred: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probabilities, the training prior and the decisions, checked (one-sentence ValueErrors)."""
    if method not in PRIOR_METHODS:
        raise ValueError(f"unknown prior estimation method {method!r}: use one of {', '.join(PRIOR_METHODS)}")
    p = np.asarray(proba, dtype=np.float64)
    k = len(labels)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"expected ({len(p)}, {k}) probabilities, got {p.shape}")
    if len(p) < 2:
        raise ValueError(f"estimating a prior needs at least 2 texts, got {len(p)}")
    decided = np.asarray(pred, dtype=np.int64) if pred is not None else p.argmax(axis=1)
    if len(decided) != len(p):
        raise ValueError(f"{len(decided)} decisions for {len(p)} texts")
    return p, np.asarray(training_prior, dtype=np.float64), decided


def _validation_decisions(val_proba: np.ndarray | None, val_y: np.ndarray | None,
                          val_pred: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """BBSE's validation decisions and labels."""
    if val_proba is None or val_y is None or len(val_y) == 0:
        raise ValueError("bbse needs the validation split's predictions and labels: give a run folder "
                         "(its validation.csv), or use --method em")
    vy = np.asarray(val_y, dtype=np.int64)
    vp = (np.asarray(val_pred, dtype=np.int64) if val_pred is not None
          else np.asarray(val_proba, dtype=np.float64).argmax(axis=1))
    if len(vp) != len(vy):
        raise ValueError(f"{len(vp)} validation decisions for {len(vy)} validation labels")
    return vp, vy


def estimate_prior_from_outputs(
    labels: Sequence[str],
    proba: np.ndarray,
    training_prior: np.ndarray,
    *,
    method: str = "em",
    val_proba: np.ndarray | None = None,
    val_y: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    val_pred: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    calibration: EMCalibration | None = None,
) -> PriorEstimate:
    """The prior of the texts whose posteriors (at the training prior) are ``proba``, with a bootstrap interval.

    Args:
        labels: the class names.
        proba: (n, C) the model's probabilities of the unlabelled texts, corrected to its training prior.
        training_prior: (C,) the model's training prior.
        method: ``em``, ``bbse`` (needs ``val_proba`` and ``val_y``) or ``naive``.
        val_proba, val_y: the validation split's probabilities (at the training prior) and labels (BBSE; EM
            recalibrates on them, unless ``calibration`` is given).
        pred, val_pred: the model's own decisions on the texts and on validation (BBSE and naive count them);
            default: the argmax of ``proba`` / ``val_proba`` — a poor classifier when a rare class never reaches
            0.5 at the training prior, so give the model's decisions (its thresholds, its technique) when known.
        n_boot: bootstrap replicates.
        seed: seeds the bootstrap.
        confidence: the interval's coverage.
        calibration: EM's recalibration and its replicates (:func:`em_calibration`), fitted once for many
            estimates of one model; default: fitted here on ``val_proba``/``val_y`` when given.

    Raises:
        ValueError: an unknown method, fewer than 2 texts, or BBSE without validation data; each one line.
    """
    p, base, decided = _checked(labels, proba, training_prior, method, pred)
    vp = vy = None
    if method == "bbse":
        vp, vy = _validation_decisions(val_proba, val_y, val_pred)
    if method == "em" and calibration is None and val_proba is not None and val_y is not None and len(val_y) > 1:
        calibration = em_calibration(val_proba, val_y, n_boot=n_boot, seed=seed)
    if method == "em" and calibration is not None and len(calibration.replicates) < n_boot:
        raise ValueError(f"the EM calibration holds {len(calibration.replicates)} replicates, {n_boot} asked for")
    k = len(labels)

    def estimate(rows: np.ndarray, val_rows: np.ndarray | None, replicate: int | None) -> np.ndarray:
        if method == "em":
            if calibration is None:
                return em_prior(p[rows], base)
            recalibration, em_base = (calibration.point, calibration.base) if replicate is None \
                else calibration.replicates[replicate]
            return em_prior(recalibration.apply(p[rows]), em_base)
        if method == "naive":
            return naive_prior(decided[rows], k)
        assert val_rows is not None and vp is not None and vy is not None
        return bbse_prior(decided[rows], vp[val_rows], vy[val_rows], k)

    n, m = len(p), (len(vy) if vy is not None else 0)
    point = estimate(np.arange(n), np.arange(m) if m else None, None)
    rng = np.random.default_rng(seed)
    replicates = np.array([estimate(rng.integers(0, n, n), rng.integers(0, m, m) if m else None, r)
                           for r in range(n_boot)])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha], axis=0)
    return PriorEstimate(list(labels), point, np.minimum(low, point), np.maximum(high, point), method, n, base,
                         confidence, replicates)
