"""A linear head on fixed features fitted as the convex problem it is: full-batch L-BFGS with L2.

TF-IDF rows and frozen embeddings do not change during training, so a linear head on them is a
(regularised) generalised linear model: scikit-learn fits ``LogisticRegression`` to convergence with
L-BFGS, and so do we, with every technique's loss. The objective of one fit is

    L(W, b) = loss(X[plan] W + b, y[plan]) + ||W||² / (2 · C · |plan|)

where ``loss`` is the technique's loss (class weights, focal, logit-adjusted, balanced softmax, LDAM:
a weighted mean over the rows it sees), ``plan`` the technique's sampling plan as row multiplicities
drawn once from the run's seed (downsampling keeps a different subset per seed; up-sampling repeats
rows), and ``C`` scikit-learn's inverse regularisation strength: for plain or class-weighted
cross-entropy this is exactly ``LogisticRegression(C=C)``'s optimum (its loss is Σ s_i ℓ_i /
Σ s_i + ||W||² / (2 C Σ s_i), and balanced weights sum to the row count). The intercept is not
penalised. Two classes use one weight column, logits (0, x·w + b), which is binary logistic
regression; more classes use one column per class (multinomial).

``C`` is chosen for each run on the validation split by the study's metric, along a path from
strong to weak regularisation, each fit warm-started from the previous one (as
``LogisticRegressionCV`` does, with one validation split instead of folds). A decision metric such as
macro-F1 is flat over a wide range of C on a few hundred validation rows, so ties are broken by the
validation log-loss (a proper scoring rule that still tells the fits apart), then by the stronger
regularisation. Techniques whose loss changes during training (LDAM-DRW's deferred
re-weighting) are fitted in stages: the loss at progress 0 first, then at progress 1 from there.
A convex fit reaches the same optimum from any start, so bias initialisation only sets where the
solver starts; zero weights with the technique's bias are also the model "as initialised" that
``epochs=0`` keeps.

The gradient of the loss with respect to the logits comes from torch's autograd (so every
technique's loss is used unchanged); the products with the features are SciPy sparse or NumPy
dense matrix products in float64, and the solver is SciPy's L-BFGS-B with scikit-learn's stopping
rule (projected gradient ≤ ``tol``). Everything is deterministic on CPU.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from ..techniques import FittedTechnique

__all__ = ["DEFAULT_CS", "HeadConfig", "HeadFit", "fit_head", "fit_linear_head", "validation_scorer"]

log = logging.getLogger(__name__)

#: The regularisation path: scikit-learn's C from strong (0.01) to weak (10,000) regularisation, 13
#: values a half-decade apart (LogisticRegressionCV's default is 10 values over 1e-4..1e4; below 0.01 a
#: text classifier predicts the prior, and half-decade steps keep warm starts short).
DEFAULT_CS: tuple[float, ...] = tuple(float(c) for c in np.logspace(-2, 4, 13))

Scorer = Callable[[np.ndarray], tuple[float, float]]
"""Validation logits → (the metric, higher is better; the log-loss, the tie-breaker)."""


@dataclass(frozen=True)
class HeadConfig:
    """How a linear head is fitted.

    Attributes:
        C: a fixed inverse L2 strength (scikit-learn's C); None chooses it on validation from ``Cs``.
        metric: the validation metric that chooses C (a flat metric name such as ``macro_f1``).
        Cs: the path of C values tried when ``C`` is None.
        fit: False keeps the head as initialised (``epochs=0``).
    """

    C: float | None = None
    metric: str = "macro_f1"
    Cs: tuple[float, ...] = DEFAULT_CS
    fit: bool = True


@dataclass
class HeadFit:
    """A fitted linear head and how it was chosen.

    Attributes:
        weight: (d, C) float32: logits = features @ weight + bias.
        bias: (C,) float32.
        C: the chosen inverse regularisation strength (None: not fitted, ``epochs=0``).
        path: one row per C tried: ``C``, ``validation_score``, ``iterations``, ``converged``,
            ``loss``, ``seconds``.
        metric: the validation metric that chose C (None with a single C).
        plan_rows: rows the loss saw (after the sampling plan), with repeats.
        reused: True when this process had already made this very fit for another run (see :func:`fit_head`).
    """

    weight: np.ndarray
    bias: np.ndarray
    C: float | None
    path: list[dict[str, Any]] = field(default_factory=list)
    metric: str | None = None
    plan_rows: int = 0
    reused: bool = False

    def summary(self) -> dict[str, Any]:
        """JSON-ready: what metrics.json and the report show."""
        return {"solver": "L-BFGS-B (full batch)", "C": self.C, "metric": self.metric,
                "plan_rows": self.plan_rows, "path": self.path, "reused": self.reused}


class _Problem:
    """Loss and gradient of one technique's objective on fixed features, as a function of a flat vector."""

    def __init__(self, features: Any, y: np.ndarray, plan: np.ndarray, loss: Callable[..., Any],
                 n_classes: int) -> None:
        import torch

        self._torch = torch
        self.x = features.astype(np.float64) if sp.issparse(features) else np.asarray(features, np.float64)
        self.n_features = self.x.shape[1]
        self.n_classes = n_classes
        self.columns = 1 if n_classes == 2 else n_classes  # binary: logits (0, z)
        # Rows repeat in the plan; the loss sees every repeat, the product only the distinct rows.
        self.rows, self.inverse = np.unique(plan, return_inverse=True)
        every_row = len(self.rows) == self.x.shape[0]  # the plan holds every row (not a sampling technique)
        self.x_rows = self.x if every_row else self.x[self.rows]
        # X^T @ G is the hot product: a CSR transpose makes it a row-wise product
        self.x_rows_t = self.x_rows.T.tocsr() if sp.issparse(self.x_rows) else self.x_rows.T
        self.plan_targets = torch.as_tensor(np.asarray(y, dtype=np.int64)[plan])
        self.plan_index = torch.as_tensor(self.inverse.astype(np.int64))
        self.n_plan = len(plan)
        self.loss = loss
        self.progress = 0.0
        self.l2 = 0.0
        self.evaluations = 0

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.columns
        return theta[: self.n_features * k].reshape(self.n_features, k), theta[self.n_features * k :]

    def logits(self, x: Any, theta: np.ndarray) -> np.ndarray:
        w, b = self.split(theta)
        z = np.asarray(x @ w) + b
        return np.hstack([np.zeros((z.shape[0], 1)), z]) if self.columns == 1 else z

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        torch = self._torch
        self.evaluations += 1
        w, _ = self.split(theta)
        logits = torch.tensor(self.logits(self.x_rows, theta), dtype=torch.float64, requires_grad=True)
        loss = self.loss(logits[self.plan_index], self.plan_targets, self.progress)
        loss.backward()
        g = logits.grad.numpy()
        if self.columns == 1:
            g = g[:, 1:]  # the constant 0 logit has no parameters
        grad_w = np.asarray(self.x_rows_t @ g) + self.l2 * w
        grad = np.concatenate([grad_w.ravel(), g.sum(axis=0)])
        return float(loss.item()) + 0.5 * self.l2 * float(np.sum(w * w)), grad

    def pack(self, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """(d, C) weight and (C,) bias → the flat parameter vector (binary: the class-1 column minus class 0)."""
        if self.columns == 1:
            weight = weight[:, 1:] - weight[:, :1]
            bias = bias[1:] - bias[:1]
        return np.concatenate([np.asarray(weight, np.float64).ravel(), np.asarray(bias, np.float64)])

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w, b = self.split(theta)
        if self.columns == 1:
            w = np.hstack([np.zeros_like(w), w])
            b = np.concatenate([[0.0], b])
        return w.astype(np.float32), b.astype(np.float32)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch and the BLAS libraries on one thread inside the block (restored after).

    Each step of a head fit is a few milliseconds of arithmetic on small arrays; on a busy machine the
    thread pools' synchronisation costs far more than a second thread saves (measured: a 10x slower
    fit on 2 busy cores).
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _minimise(problem: _Problem, theta: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, dict[str, Any]]:
    from scipy.optimize import minimize

    # scikit-learn's L-BFGS settings for LogisticRegression: stop on the projected gradient, not on
    # small loss changes (ftol at machine precision), and allow long line searches.
    result = minimize(problem.value_and_grad, theta, jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps})
    return result.x, {"iterations": int(result.nit), "converged": bool(result.success), "loss": float(result.fun)}


def fit_linear_head(
    features: Any,
    y: np.ndarray,
    fitted: FittedTechnique,
    *,
    seed: int,
    Cs: Sequence[float] = DEFAULT_CS,
    scorer: Scorer | None = None,
    metric: str | None = None,
    val_features: Any = None,
    max_iter: int = 200,
    tol: float = 1e-4,
    fit: bool = True,
    warm_start: bool = True,
    plan: np.ndarray | None = None,
) -> HeadFit:
    """Fit a linear head with ``fitted``'s loss, sampling plan and initial bias.

    Args:
        features: (n, d) training features, SciPy CSR or a dense array.
        y: (n,) class indices.
        fitted: the technique fitted on the training class counts.
        seed: draws the sampling plan's rows (one draw per run).
        Cs: inverse regularisation strengths to try, in any order (fitted from the smallest up).
        scorer: validation logits → (score, higher is better; log-loss): needed with more than one C.
        metric: the scorer's metric name, recorded with the path.
        val_features: (m, d) validation features for ``scorer``.
        max_iter: L-BFGS iterations per C (per stage).
        tol: projected-gradient tolerance (scikit-learn's ``tol``).
        fit: False keeps the head as initialised (zero weights, the technique's bias): ``epochs=0``.
        plan: the sampling plan's rows, sorted (default: :func:`sampling_plan` of ``seed``).

    Returns:
        The :class:`HeadFit` at the best C.
    """
    y = np.asarray(y, dtype=np.int64)
    n_classes = len(fitted.labels)
    plan = sampling_plan(fitted, y, seed) if plan is None else plan
    bias0 = fitted.initial_bias()
    weight0 = np.zeros((features.shape[1], n_classes))
    bias0 = np.zeros(n_classes) if bias0 is None else np.asarray(bias0, dtype=np.float64)
    if not fit:
        return HeadFit(weight0.astype(np.float32), bias0.astype(np.float32), None, plan_rows=len(plan))
    problem = _Problem(features, y, plan, fitted.loss, n_classes)
    Cs = sorted(float(c) for c in Cs)
    if not Cs or any(not (math.isfinite(c) and c > 0) for c in Cs):
        raise ValueError(f"every C must be a positive number, got {Cs}")
    if len(Cs) > 1 and (scorer is None or val_features is None):
        raise ValueError("choosing C needs a validation scorer and validation features")
    with _one_thread():
        best, path = _path(problem, problem.pack(weight0, bias0), Cs, fitted.loss_stages, scorer, val_features,
                           max_iter, tol, warm_start)
    weight, bias = problem.unpack(best[2])
    return HeadFit(weight, bias, Cs[best[1]], path, metric if len(Cs) > 1 else None, len(plan))


def sampling_plan(fitted: FittedTechnique, y: np.ndarray, seed: int) -> np.ndarray:
    """The rows (sorted, with repeats) the loss of a run with ``seed`` sees: drawn once per run."""
    return np.sort(fitted.epoch_indices(np.asarray(y, dtype=np.int64), np.random.default_rng(seed)))


def _path(problem: _Problem, theta: np.ndarray, Cs: list[float], stages: tuple[float, ...], scorer: Scorer | None,
          val_features: Any, max_iter: int, tol: float, warm_start: bool = True,
          ) -> tuple[tuple[Any, int, np.ndarray], list[dict[str, Any]]]:
    """Fit every C from the smallest up, each from the previous solution; the best by validation score."""
    best: tuple[Any, int, np.ndarray] | None = None
    path: list[dict[str, Any]] = []
    start = theta
    for i, c in enumerate(Cs):
        if not warm_start:
            theta = start
        started = time.perf_counter()
        problem.l2 = 1.0 / (c * problem.n_plan)
        info: dict[str, Any] = {}
        for progress in stages:
            problem.progress = progress
            theta, info = _minimise(problem, theta, max_iter, tol)
        row = {"C": c, **info, "seconds": round(time.perf_counter() - started, 4)}
        if len(Cs) > 1:
            assert scorer is not None
            score, nll = scorer(problem.logits(val_features, theta))
            row["validation_score"], row["validation_log_loss"] = score, nll
            key = (round(score, 12), -nll)  # ties on the metric: the lower log-loss, then the smaller C
            if best is None or key > best[0]:
                best = (key, i, theta.copy())
        else:
            best = ((math.nan, math.nan), i, theta)
        path.append(row)
        log.info("linear head C=%g: %s", c, row)
    assert best is not None
    return best, path


def validation_scorer(val_y: np.ndarray, labels: Sequence[str], metric: str) -> Scorer:
    """Validation logits → (the study's ``metric`` of the argmax decisions and softmax probabilities,
    signed so that higher is better; the log-loss), by the same metric functions the study reports with."""
    from scipy.special import softmax

    from ..evaluation import all_metrics, higher_is_better

    y = np.asarray(val_y, dtype=np.int64)
    sign = 1.0 if higher_is_better(metric) else -1.0
    labels = list(labels)

    def score(logits: np.ndarray) -> tuple[float, float]:
        proba = softmax(logits, axis=1)
        values = all_metrics(y, proba.argmax(axis=1), proba, labels)
        value, nll = float(values[metric]), float(values["nll"])
        return (sign * value if math.isfinite(value) else -math.inf), (nll if math.isfinite(nll) else math.inf)

    return score


# The fits this process made, by everything a fit depends on (see fit_head), most recent last.
_FITS: OrderedDict[tuple[Hashable, ...], HeadFit] = OrderedDict()
_FITS_SIZE = 8


def forget_head_fits() -> None:
    """Forget the fits this process made (the next fit of each is computed again)."""
    _FITS.clear()


def _digest(array: np.ndarray | None) -> str | None:
    if array is None:
        return None
    array = np.ascontiguousarray(array)
    return f"{array.dtype}{array.shape}" + hashlib.blake2b(array.tobytes(), digest_size=16).hexdigest()


def fit_head(
    features: Any,
    y: np.ndarray,
    fitted: FittedTechnique,
    *,
    seed: int,
    config: HeadConfig,
    val_features: Any = None,
    val_y: np.ndarray | None = None,
    features_key: Hashable | None = None,
) -> HeadFit:
    """:func:`fit_linear_head` with ``config``: a fixed C, or C chosen on validation by ``config.metric``.

    A fit is a deterministic function of the features, the labels, the technique's loss and initial bias
    (its name, parameters and the class counts), the sampling plan and ``config``: the seed enters only
    through the plan. So runs that share all of them (a technique that samples nothing, run with several
    seeds) are fitted once per process: with ``features_key`` (what identifies ``features`` and
    ``val_features``, e.g. the vectoriser and the texts), a repeated fit is the earlier one, marked
    ``reused`` — the same numbers as fitting again.
    """
    y = np.asarray(y, dtype=np.int64)
    plan = sampling_plan(fitted, y, seed)
    key: tuple[Hashable, ...] | None = None
    if features_key is not None:
        technique = fitted.technique
        key = (features_key, _digest(y), _digest(None if val_y is None else np.asarray(val_y, dtype=np.int64)),
               _digest(plan), technique.name, json.dumps(technique.params, sort_keys=True, default=str),
               tuple(fitted.labels), tuple(int(c) for c in fitted.class_counts), config)
        if key in _FITS:
            _FITS.move_to_end(key)
            earlier = _FITS[key]
            log.info("linear head: the same fit as an earlier run of this process (same plan, loss and features)")
            return replace(earlier, weight=earlier.weight.copy(), bias=earlier.bias.copy(),
                           path=[dict(row) for row in earlier.path], reused=True)
    result = _fit(features, y, fitted, seed=seed, config=config, val_features=val_features, val_y=val_y, plan=plan)
    if key is not None:
        _FITS[key] = replace(result, weight=result.weight.copy(), bias=result.bias.copy())
        while len(_FITS) > _FITS_SIZE:
            _FITS.popitem(last=False)
    return result


def _fit(features: Any, y: np.ndarray, fitted: FittedTechnique, *, seed: int, config: HeadConfig,
         val_features: Any, val_y: np.ndarray | None, plan: np.ndarray) -> HeadFit:
    if config.C is not None or not config.fit:
        return fit_linear_head(features, y, fitted, seed=seed, Cs=(config.C or 1.0,), fit=config.fit, plan=plan)
    if val_features is None or val_y is None:
        raise ValueError("choosing C on validation needs validation texts; give a fixed C instead")
    scorer = validation_scorer(np.asarray(val_y), fitted.labels, config.metric)
    return fit_linear_head(features, y, fitted, seed=seed, Cs=config.Cs, scorer=scorer, metric=config.metric,
                           val_features=val_features, plan=plan)
