"""Decisions in the user's currency: a cost matrix, a deployment prior, the Bayes decision and its expected cost.

Design note — two ways to decide at a deployment prior π' with costs C (true × predicted):

* **Bayes decisions on prior-corrected probabilities** (:func:`bayes_decisions`). Correct each technique's
  probabilities to π' (Saerens, Latinne & Decaestecker 2002; ``imblab.techniques.correct_prior``), then predict
  the label of minimum expected cost, argmin_j Σ_i p_i·C[i, j] (Elkan 2001, "The Foundations of
  Cost-Sensitive Learning", IJCAI). This is *exact* when the probabilities are calibrated, needs no labelled
  data for a new cost setting or prior (change ``--costs`` and decide again), and cannot overfit anything.
* **A rule tuned on validation** (:func:`~imblab.evaluation.tune_cost_threshold`): the threshold (binary) or
  per-class log-offsets (multiclass) that minimise the expected cost on the validation split (the idea of
  scikit-learn's ``TunedThresholdClassifierCV``). It is robust to miscalibration, because it looks at what the
  decisions cost rather than trusting the probabilities, but it is a fit to a small labelled sample: with
  50 validation positives one example moves a binary threshold, and it must be refitted for every cost
  setting and prior.

Which is better is an empirical question the study answers per technique: when a technique's probabilities
are calibrated (low ECE after the prior correction — cross-entropy, temperature scaling) the Bayes decision
is as good or better and less noisy; when they are not (focal loss and resampling distort them; an
uncorrected effective prior shifts them) the tuned rule recovers cost the Bayes decision loses. A tuned rule
that beats the Bayes decision on test is evidence of miscalibration. ``benchmarks/costs.py`` measures both on
the built-in data sets.

Conventions: a correct decision costs 0 and every other cost is relative to it (subtracting a constant from a
row of C changes no decision, Elkan 2001, so this loses nothing), costs are ≥ 0 and not all 0. Expected costs
are per example at the deployment prior; callers multiply by 1,000 for "per 1,000 texts".

NumPy only: the study's re-run path imports this without scikit-learn or torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SpecError

__all__ = ["Costs", "bayes_decisions", "cost_from_confusion", "expected_cost", "min_risk_decisions", "parse_prior"]

#: Absolute tolerance on the sum of a user's prior: beyond rounding, a sum ≠ 1 is a mistake to report.
PRIOR_SUM_TOLERANCE = 1e-6

#: Expected costs closer than this (relative to the largest cost) are a tie (see :func:`bayes_decisions`).
TIE_TOLERANCE = 1e-9

_CONFIG_KEYS = ("fn", "fp", "positive", "matrix", "labels")


# ---------------------------------------------------------------------------------------------- helpers


def _number(value: Any, what: str, *, text: bool = False) -> float:
    """A finite, non-negative cost as float; SpecError naming ``what`` otherwise.

    Strings are numbers only where the user typed text (``text=True``: ``--costs``); in a study file
    ``fn = "10"`` is a type error, as every other study-file value.
    """
    if isinstance(value, str) and text:
        try:
            value = float(value.strip())
        except ValueError:
            raise SpecError(f"{what} is {_short(value.strip())}, not a number") from None
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(f"{what} is {_short(value)}, not a number")
    try:
        x = float(value)
    except OverflowError:  # an integer of hundreds of digits
        x = math.inf
    if not math.isfinite(x):
        raise SpecError(f"{what} is {_short(value)}: costs must be finite, at most {MAX_COST:g}")
    if x < 0:
        raise SpecError(f"{what} is {_fmt(x)}: costs must be ≥ 0")
    if x > MAX_COST:
        raise SpecError(f"{what} is {_fmt(x)}: costs must be at most {MAX_COST:g} (only their ratios matter)")
    return x


MAX_COST = 1e12
"""The largest cost: only ratios matter, and a cost per 1,000 texts must stay far from float64's range."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:30] + f"… ({len(text)} characters)"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _labels(labels: Sequence[str]) -> tuple[str, ...]:
    out = tuple(str(label) for label in labels)
    if len(out) < 2 or len(set(out)) != len(out):
        raise SpecError(f"costs need at least two distinct labels, got {list(out)}")
    return out


def _label_index(label: str, labels: Sequence[str], what: str) -> int:
    if label not in labels:
        raise SpecError(f"unknown label {label!r} in {what}: the labels are {', '.join(labels)}")
    return list(labels).index(label)


def _minority(labels: Sequence[str], class_counts: Sequence[int] | np.ndarray | Mapping[str, int]) -> str:
    if isinstance(class_counts, Mapping):
        counts = np.array([class_counts.get(label, 0) for label in labels], dtype=np.float64)
    else:
        counts = np.asarray(class_counts, dtype=np.float64)
    if counts.shape != (len(labels),):
        raise ValueError(f"class_counts has shape {counts.shape}, expected ({len(labels)},)")
    smallest = np.flatnonzero(counts == counts.min())
    if len(smallest) > 1:
        raise SpecError(f"{' and '.join(labels[i] for i in smallest)} are equally frequent: "
                        "name the positive label, e.g. positive=" + labels[smallest[0]])
    return labels[int(smallest[0])]


def _shape_text(rows: Any) -> str:
    if not isinstance(rows, (list, tuple)):
        return f"{type(rows).__name__} {rows!r}"
    lengths = {len(r) if isinstance(r, (list, tuple)) else -1 for r in rows}
    if not rows:
        return "an empty list"
    if len(lengths) == 1 and -1 not in lengths:
        return f"{len(rows)}×{lengths.pop()}"
    return f"{len(rows)} rows that are not all lists of the same length"


def _cost_matrix(rows: Any, labels: tuple[str, ...]) -> np.ndarray:
    """A validated C × C float matrix (true × predicted) in ``labels`` order."""
    n = len(labels)
    if isinstance(rows, np.ndarray):
        rows = rows.tolist()
    if not isinstance(rows, (list, tuple)) or len(rows) != n or any(
        not isinstance(r, (list, tuple)) or len(r) != n for r in rows
    ):
        raise SpecError(f"the cost matrix must be {n}×{n} (true × predicted, in the order {', '.join(labels)}); "
                        f"got {_shape_text(rows)}")
    matrix = np.array([[_number(rows[i][j], f"the cost of predicting {labels[j]} for a true {labels[i]}")
                        for j in range(n)] for i in range(n)])
    for i in range(n):
        if matrix[i, i] != 0:
            raise SpecError(
                f"the cost of predicting {labels[i]} for a true {labels[i]} is {_fmt(matrix[i, i])}: a correct "
                "decision costs 0 here and costs are relative to it (subtract the diagonal from its row: "
                "no decision changes)")
    if not matrix.any():
        raise SpecError("every cost is 0: give at least one error a positive cost")
    return matrix


# ------------------------------------------------------------------------------------------------ Costs


@dataclass(frozen=True, eq=False)
class Costs:
    """What each decision costs: a C × C matrix, rows the true label, columns the predicted one.

    ``matrix[i, j]`` is the cost of predicting ``labels[j]`` for a text whose label is ``labels[i]``; the
    diagonal is 0. Binary costs also name the ``positive`` label (the one whose miss costs ``fn``). Build
    with :meth:`binary`, :meth:`from_matrix`, :meth:`parse` (``--costs``), :meth:`from_config` (a study
    file's ``[costs]``) or :meth:`from_dict` (a stored model); the constructor validates.

    Raises:
        SpecError: fewer than two or repeated labels, a matrix of the wrong shape, a negative, non-numeric
            or non-finite cost, a non-zero diagonal, an all-zero matrix, an unknown positive label.
    """

    labels: tuple[str, ...]
    matrix: np.ndarray
    positive: str | None = None

    def __post_init__(self) -> None:
        labels = _labels(self.labels)
        n = len(labels)
        matrix = _cost_matrix(self.matrix, labels)
        if self.positive is not None:
            _label_index(self.positive, labels, "positive")
            if n != 2:
                raise SpecError(f"positive= names the positive label of two classes; there are {n}")
        elif n == 2:
            raise SpecError("binary costs need the positive label (the one whose miss costs fn)")
        matrix.setflags(write=False)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "matrix", matrix)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def binary(
        cls,
        labels: Sequence[str],
        *,
        fn: float,
        fp: float,
        positive: str | None = None,
        class_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    ) -> Costs:
        """Two-class costs: a missed positive costs ``fn``, a false alarm ``fp``.

        Args:
            labels: the two labels, in the model's order.
            fn: cost of predicting the other label for a true ``positive``.
            fp: cost of predicting ``positive`` for a true other label.
            positive: the positive label; default the minority class of ``class_counts``.
            class_counts: examples per label (in ``labels`` order, or a mapping), to find the minority.
        """
        labels = _labels(labels)
        if len(labels) != 2:
            raise SpecError(f"fn/fp costs are for two classes, there are {len(labels)} ({', '.join(labels)}): "
                            "give a cost matrix ([costs] matrix = …, true × predicted)")
        fn, fp = _number(fn, "fn"), _number(fp, "fp")
        if positive is None:
            if class_counts is None:
                raise SpecError("name the positive label of the costs, e.g. positive=" + labels[1])
            positive = _minority(labels, class_counts)
        k = _label_index(str(positive), labels, "positive")
        matrix = np.zeros((2, 2))
        matrix[k, 1 - k], matrix[1 - k, k] = fn, fp
        return cls(labels, matrix, str(positive))

    @classmethod
    def from_matrix(
        cls,
        labels: Sequence[str],
        matrix: Sequence[Sequence[float]] | np.ndarray,
        *,
        positive: str | None = None,
        class_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    ) -> Costs:
        """Costs from a C × C matrix, rows the true label, columns the predicted one, in ``labels`` order.

        With two labels, ``positive`` (default: the minority of ``class_counts``) names the positive one.
        """
        labels = _labels(labels)
        if len(labels) == 2 and positive is None:
            if class_counts is None:
                raise SpecError("name the positive label of a 2×2 cost matrix, e.g. positive=" + labels[1])
            positive = _minority(labels, class_counts)
        if isinstance(matrix, np.ndarray):
            matrix = matrix.tolist()
        return cls(labels, matrix, positive)  # type: ignore[arg-type]

    @classmethod
    def zero_one(cls, labels: Sequence[str], *, positive: str | None = None) -> Costs:
        """Every error costs 1: the Bayes decision is the argmax (the default when no costs are given)."""
        labels = _labels(labels)
        if len(labels) == 2 and positive is None:
            positive = labels[1]
        return cls(labels, 1.0 - np.eye(len(labels)), positive)

    @classmethod
    def parse(
        cls,
        text: str,
        labels: Sequence[str],
        class_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    ) -> Costs:
        """Binary costs from ``--costs fn=10,fp=1[,positive=spam]``.

        Raises:
            SpecError: not ``key=value`` pairs, an unknown or repeated key, fn or fp missing, more than two
                labels, a bad value.
        """
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in str(text).split(","))):
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or not key:
                raise SpecError(f"--costs {text!r}: write key=value pairs, e.g. fn=10,fp=1,positive=spam")
            if key not in ("fn", "fp", "positive"):
                raise SpecError(f"--costs {text!r}: unknown key {key!r}; the keys are fn, fp and positive")
            if key in pairs:
                raise SpecError(f"--costs {text!r}: {key} is given twice")
            pairs[key] = value.strip()
        missing = [k for k in ("fn", "fp") if k not in pairs]
        if missing:
            raise SpecError(f"--costs {text!r}: give both fn and fp (missing {' and '.join(missing)}), e.g. fn=10,fp=1")
        fn, fp = _number(pairs["fn"], "fn", text=True), _number(pairs["fp"], "fp", text=True)
        return cls.binary(labels, fn=fn, fp=fp, positive=pairs.get("positive"), class_counts=class_counts)

    @classmethod
    def from_config(
        cls,
        value: Mapping[str, Any],
        labels: Sequence[str],
        class_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
        *,
        where: str = "[costs]",
    ) -> Costs:
        """Costs from a study file's ``[costs]`` table.

        Either ``fn``, ``fp`` and optionally ``positive`` (two classes), or ``matrix = [[…], …]`` (true ×
        predicted) with optionally ``labels = [...]`` naming its rows and columns (default: the data's label
        order), and ``positive`` for a 2 × 2 matrix.

        Raises:
            SpecError: an unknown key, fn/fp mixed with a matrix, labels that are not the data's, any error of
                :meth:`binary` or :meth:`from_matrix`; the message starts with ``where``.
        """
        if not isinstance(value, Mapping):
            raise SpecError(f"{where} must be a table (fn = …, fp = … or matrix = […])")
        try:
            unknown = sorted(set(value) - set(_CONFIG_KEYS))
            if unknown:
                raise SpecError(f"unknown key {unknown[0]!r}: allowed are {', '.join(_CONFIG_KEYS)}")
            if "matrix" in value:
                if "fn" in value or "fp" in value:
                    raise SpecError("give either fn and fp or a matrix, not both")
                return cls._matrix_from_config(value, _labels(labels), class_counts)
            if "labels" in value:
                raise SpecError("labels names the order of a matrix; with fn and fp use positive")
            if "fn" not in value or "fp" not in value:
                raise SpecError("give fn and fp (two classes) or matrix (true × predicted)")
            return cls.binary(labels, fn=value["fn"], fp=value["fp"], positive=value.get("positive"),
                              class_counts=class_counts)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None

    @classmethod
    def _matrix_from_config(
        cls, value: Mapping[str, Any], labels: tuple[str, ...], class_counts: Any
    ) -> Costs:
        matrix = value["matrix"]
        order = value.get("labels")
        if order is not None:
            if not isinstance(order, (list, tuple)) or not all(isinstance(x, str) for x in order):
                raise SpecError("labels must be a list of label names")
            for label in order:
                _label_index(label, labels, "labels")
            missing = [label for label in labels if label not in order]
            if missing or len(order) != len(labels):
                raise SpecError("labels must name every label once"
                                + (f" (missing {', '.join(missing)})" if missing else ""))
            # Validate in the file's own order, so that a message names the rows as the user wrote them.
            in_file = _cost_matrix(matrix, tuple(order))
            idx = [list(order).index(label) for label in labels]
            matrix = in_file[np.ix_(idx, idx)]
        return cls.from_matrix(labels, matrix, positive=value.get("positive"), class_counts=class_counts)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (stored with a model); :meth:`from_dict` restores it."""
        return {"labels": list(self.labels), "matrix": self.matrix.tolist(), "positive": self.positive}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Costs:
        """Inverse of :meth:`to_dict`; validates like the constructor (SpecError)."""
        if not isinstance(d, Mapping) or "labels" not in d or "matrix" not in d:
            raise SpecError("stored costs need labels and matrix")
        return cls(tuple(d["labels"]), d["matrix"], d.get("positive"))

    # ------------------------------------------------------------------ views
    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def positive_index(self) -> int | None:
        """Index of the positive label (binary costs), else None."""
        return None if self.positive is None else self.labels.index(self.positive)

    def _fn_fp(self) -> tuple[float, float] | None:
        k = self.positive_index
        return None if k is None else (float(self.matrix[k, 1 - k]), float(self.matrix[1 - k, k]))

    @property
    def fn(self) -> float | None:
        """Cost of a missed positive (binary costs), else None."""
        pair = self._fn_fp()
        return None if pair is None else pair[0]

    @property
    def fp(self) -> float | None:
        """Cost of a false alarm (binary costs), else None."""
        pair = self._fn_fp()
        return None if pair is None else pair[1]

    @property
    def bayes_threshold(self) -> float | None:
        """Binary costs: the Bayes decision predicts the positive label iff p(positive) > fp / (fn + fp)
        (Elkan 2001, eq. 2), p at the deployment prior; None for multiclass costs."""
        pair = self._fn_fp()
        return None if pair is None else pair[1] / (pair[0] + pair[1])

    def describe(self) -> str:
        """One line for people: "a missed spam costs 10, a false alarm 1" or the non-zero matrix cells."""
        pair = self._fn_fp()
        if pair is not None:
            return f"a missed {self.positive} costs {_fmt(pair[0])}, a false alarm {_fmt(pair[1])}"
        cells = [f"{self.labels[i]}→{self.labels[j]} {_fmt(self.matrix[i, j])}"
                 for i in range(self.n_classes) for j in range(self.n_classes) if i != j and self.matrix[i, j]]
        return "true→predicted costs: " + ", ".join(cells)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Costs) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


# ------------------------------------------------------------------------------------------------ prior


def parse_prior(value: str | Mapping[str, Any], labels: Sequence[str]) -> np.ndarray:
    """A deployment prior as a (C,) distribution in ``labels`` order.

    ``value`` is ``"spam=0.02,ham=0.98"`` (``--deploy-prior``, ``--prior``) or a mapping (a study file, the
    Python API). Every probability must be in (0, 1] and they must sum to 1 (within 1e-6; the result is
    renormalised exactly). **At most one label may be left out: it gets the rest**, so ``spam=0.02`` is enough
    for two classes. One omission is unambiguous (a distribution has C − 1 free values); with two omissions
    the split between them would be a guess, so they are an error.

    A probability of 0 is refused: the Saerens correction would then never predict that label, and its
    errors would not count in the expected cost — say so by removing the label from the data instead.

    Raises:
        SpecError: not ``label=probability`` pairs, an unknown or repeated label, two or more labels left out,
            a non-numeric value, a value outside (0, 1], a sum ≠ 1 (or ≥ 1 with a label left for the rest).
    """
    labels = [str(label) for label in labels]
    given: dict[str, Any] = {}
    if isinstance(value, str):
        for part in filter(None, (p.strip() for p in value.split(","))):
            label, sep, number = part.rpartition("=")
            if not sep or not label.strip():
                raise SpecError(f"prior {value!r}: write label=probability pairs, e.g. {labels[-1]}=0.02")
            if label.strip() in given:
                raise SpecError(f"prior {value!r}: {label.strip()!r} is given twice")
            given[label.strip()] = number.strip()
    elif isinstance(value, Mapping):
        given = {str(k): v for k, v in value.items()}
    else:
        raise SpecError(f"a prior is label=probability pairs or a mapping, not {type(value).__name__}")
    if not given:
        raise SpecError("the prior is empty: give label=probability pairs, e.g. " + labels[-1] + "=0.02")
    probs: dict[str, float] = {}
    for label, raw in given.items():
        _label_index(label, labels, "the prior")
        # Text only from "label=p" text; in a mapping (a study file, the API) a string is a type error.
        is_number = isinstance(raw, numbers.Real) and not isinstance(raw, bool)
        if not (is_number or (isinstance(raw, str) and isinstance(value, str))):
            raise SpecError(f"the prior of {label} is {_short(raw)}, not a number")
        try:
            p = float(raw)
        except OverflowError:
            p = math.inf
        except ValueError:
            raise SpecError(f"the prior of {label} is {_short(raw)}, not a number") from None
        if not 0 < p <= 1:  # also refuses NaN
            raise SpecError(f"the prior of {label} is {_short(raw)}: a prior probability must be in (0, 1]")
        probs[label] = p
    missing = [label for label in labels if label not in probs]
    total = math.fsum(probs.values())
    if len(missing) > 1:
        raise SpecError(f"the prior leaves out {', '.join(missing)}: "
                        "give every label, or all but one (it gets the rest)")
    if missing:
        rest = 1.0 - total
        if rest <= PRIOR_SUM_TOLERANCE:
            raise SpecError(f"the prior's probabilities sum to {total:.6g}, leaving nothing for {missing[0]}")
        probs[missing[0]] = rest
    elif abs(total - 1.0) > PRIOR_SUM_TOLERANCE:
        raise SpecError(f"the prior's probabilities sum to {total:.6g}, not 1")
    vector = np.array([probs[label] for label in labels])
    return vector / vector.sum()


# -------------------------------------------------------------------------------------------- decisions


def bayes_decisions(proba: np.ndarray, costs: Costs) -> np.ndarray:
    """The minimum-expected-cost decision per row: argmin_j Σ_i p_i · C[i, j] (Elkan 2001).

    Elkan (2001), "The Foundations of Cost-Sensitive Learning", IJCAI, eq. (1). The probabilities must
    already be at the deployment prior (``imblab.techniques.correct_prior(p, effective, deploy)``).

    Tie-break (deterministic): predictions whose expected costs differ by at most 1e-9 × the largest cost
    are tied; a tie goes to the most probable of them, then to the lowest index. With 0-1 costs this returns
    exactly ``proba.argmax(axis=-1)`` (NumPy's argmax also takes the first maximum), whatever the rounding.

    Args:
        proba: (n, C) or (C,) probabilities in ``costs.labels`` order.
        costs: the cost matrix.

    Returns:
        (n,) int64 label indices (a 0-d array for a single row).
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.shape[-1] != costs.n_classes:
        raise ValueError(f"proba has {p.shape[-1]} classes, the costs {costs.n_classes}")
    rows = p.reshape(-1, costs.n_classes)
    return min_risk_decisions(rows, costs.matrix[None])[0].reshape(p.shape[:-1])


def min_risk_decisions(proba: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """:func:`bayes_decisions` for a stack of G validated cost matrices at once (cost curves use it).

    Args:
        proba: (n, C) probabilities.
        matrices: (G, C, C) cost matrices, each satisfying the :class:`Costs` rules.

    Returns:
        (G, n) int64 decisions.
    """
    n_classes = proba.shape[1]
    # Each prediction's expected cost, summed over the true labels in a fixed order, so that a column's value
    # depends on that column alone (no BLAS blocking): raising one cost then moves decisions only away from it.
    risk = []
    for j in range(n_classes):
        column = np.zeros((len(matrices), len(proba)))
        for i in range(n_classes):
            column += matrices[:, i, j, None] * proba[None, :, i]
        risk.append(column)
    lowest = risk[0].copy()
    for column in risk[1:]:
        np.minimum(lowest, column, out=lowest)
    lowest += TIE_TOLERANCE * matrices.max(axis=(1, 2))[:, None]
    # Among the tied predictions the most probable; on equal probability the first (strictly greater wins).
    decision = np.zeros(lowest.shape, dtype=np.int64)
    chosen = np.full(lowest.shape, -np.inf)
    for j, column in enumerate(risk):
        better = (column <= lowest) & (proba[None, :, j] > chosen)
        decision[better] = j
        chosen = np.where(better, proba[None, :, j], chosen)
    return decision


# ----------------------------------------------------------------------------------------- expected cost


def cost_from_confusion(
    confusion: np.ndarray, costs: Costs, deploy_prior: np.ndarray | Sequence[float] | None = None
) -> np.ndarray:
    """Expected cost per example from confusion matrices (rows true, columns predicted).

    E = Σ_c π'_c Σ_j P(pred = j | y = c) · C[c, j]: the class-conditional error rates of the test split,
    re-weighted to the deployment prior π'. With ``deploy_prior=None`` the confusion matrix's own class mix is
    used (E = Σ_cj n_cj C[c, j] / n). The study's bootstrap, which already has one confusion matrix per
    replicate, calls this directly.

    Args:
        confusion: (..., C, C) counts or weighted counts.
        costs: the cost matrix.
        deploy_prior: (C,) the deployment prior, or None.

    Returns:
        (...) expected cost per example; NaN where a class with π'_c > 0 has no example (its error rates are
        unknown) or the matrix is empty.
    """
    cm = np.asarray(confusion, dtype=np.float64)
    n = costs.n_classes
    if cm.shape[-2:] != (n, n):
        raise ValueError(f"confusion has shape {cm.shape}, the costs are {n}×{n}")
    per_class = (cm * costs.matrix).sum(axis=-1)  # (..., C): total cost of each true class
    support = cm.sum(axis=-1)
    if deploy_prior is None:
        total = support.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, per_class.sum(axis=-1) / np.where(total > 0, total, 1), np.nan)
    prior = np.asarray(deploy_prior, dtype=np.float64)
    if prior.shape != (n,):
        raise ValueError(f"deploy_prior has shape {prior.shape}, expected ({n},)")
    rate = per_class / np.where(support > 0, support, 1)
    unknown = ((support <= 0) & (prior > 0)).any(axis=-1)
    return np.where(unknown, np.nan, (rate * prior).sum(axis=-1))


def expected_cost(
    y_true: np.ndarray | Sequence[int],
    pred: np.ndarray | Sequence[int],
    costs: Costs,
    deploy_prior: np.ndarray | Sequence[float] | None = None,
    weights: np.ndarray | None = None,
) -> float | np.ndarray:
    """Expected cost per example of decisions at the deployment prior (multiply by 1,000 for per 1,000 texts).

    Test examples are re-weighted by class so that the class mix equals ``deploy_prior`` (see
    :func:`cost_from_confusion`); ``None`` keeps the test split's own mix (the plain mean cost).

    Args:
        y_true: (n,) true label indices.
        pred: (n,) decided label indices.
        costs: the cost matrix.
        deploy_prior: (C,) deployment prior (e.g. from :func:`parse_prior`), or None.
        weights: (B, n) example weights, e.g. the bootstrap's resampling counts
            (``comparison.bootstrap_weights``); then one cost per replicate, each equal to the unweighted
            cost of that resample.

    Returns:
        A float, or (B,) floats with ``weights``; NaN where a class with π'_c > 0 has no (weighted) example.
    """
    y = np.asarray(y_true, dtype=np.int64)
    d = np.asarray(pred, dtype=np.int64)
    n = costs.n_classes
    if y.shape != d.shape or y.ndim != 1:
        raise ValueError(f"y_true {y.shape} and pred {d.shape} must be the same 1-D shape")
    codes = y * n + d
    if weights is None:
        cm = np.bincount(codes, minlength=n * n).reshape(n, n)
        return float(cost_from_confusion(cm, costs, deploy_prior))
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != len(y):
        raise ValueError(f"weights has shape {w.shape}, expected (B, {len(y)})")
    onehot = np.zeros((len(y), n * n))
    onehot[np.arange(len(y)), codes] = 1.0
    cm = (w @ onehot).reshape(len(w), n, n)  # one matrix product for every replicate, as the bootstrap does
    return cost_from_confusion(cm, costs, deploy_prior)
