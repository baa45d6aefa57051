"""What the user says about costs, resolved once for every command that decides: a :class:`CostSetting`.

``--costs fn=10,fp=1`` (or a study file's ``[costs]`` table, or a stored model's costs) and
``--deploy-prior spam=0.02`` arrive as text or tables; :func:`resolve_costs` turns them into one validated
object against a model's labels and training class counts, so that ``train``, ``predict``, ``compare`` and
the HTTP server decide the same way. Defaults: no ``--deploy-prior`` means the training prior; a deployment
prior without costs means every error costs 1 (the decision is then the most probable label at that prior).

:meth:`CostSetting.decide` is the decision itself: probabilities corrected to the deployment prior (Saerens,
Latinne & Decaestecker 2002), then the label of least expected cost (Elkan 2001).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import minority_index
from ..errors import SpecError
from ._cost_tuning import CostRule, tune_cost_threshold
from ._costs import Costs, bayes_decisions, expected_cost, parse_prior
from ._prior import correct_prior

__all__ = ["CostDecisions", "CostSetting", "RunCosts", "resolve_costs", "run_costs"]

#: Expected costs are reported per this many texts.
PER = 1000

CostsInput = Costs | str | Mapping[str, Any]
PriorInput = str | Mapping[str, Any] | Sequence[float] | np.ndarray


@dataclass(frozen=True, eq=False)
class CostSetting:
    """Costs and the deployment prior of decisions, for one set of labels.

    Attributes:
        costs: the cost matrix (true × predicted).
        deploy_prior: (C,) the class prior decisions are made at.
        training_prior: (C,) the training split's prior: what "prior-corrected" probabilities are calibrated to.
        costs_given: whether the costs were given (False: every error costs 1).
        prior_given: whether the deployment prior was given (False: it is the training prior).
    """

    costs: Costs
    deploy_prior: np.ndarray
    training_prior: np.ndarray
    costs_given: bool = True
    prior_given: bool = True

    @property
    def labels(self) -> tuple[str, ...]:
        return self.costs.labels

    @property
    def positive_index(self) -> int:
        """The label a cost curve puts against the rest: the positive label (binary costs), else the label
        rarest at the training prior."""
        k = self.costs.positive_index
        return minority_index(self.training_prior) if k is None else k

    def to_deployment(self, proba: np.ndarray, calibrated_to: np.ndarray | Sequence[float] | None = None) -> np.ndarray:
        """``proba`` (calibrated to ``calibrated_to``, default the training prior) at the deployment prior."""
        source = self.training_prior if calibrated_to is None else np.asarray(calibrated_to, dtype=np.float64)
        return correct_prior(np.asarray(proba, dtype=np.float64), source, self.deploy_prior)

    def decide(self, proba: np.ndarray, calibrated_to: np.ndarray | Sequence[float] | None = None) -> CostDecisions:
        """The label of least expected cost for each row of ``proba`` (n, C).

        Args:
            proba: probabilities in ``labels`` order, calibrated to ``calibrated_to``.
            calibrated_to: the prior ``proba`` is calibrated to: the training prior (default) for imblab's
                prior-corrected probabilities, a technique's effective prior for its raw ones.
        """
        at_deployment = self.to_deployment(proba, calibrated_to)
        index = np.atleast_1d(bayes_decisions(at_deployment, self.costs))
        risk = np.atleast_2d(at_deployment) @ self.costs.matrix  # (n, C): expected cost of each prediction
        chosen = risk[np.arange(len(index)), index]
        return CostDecisions(labels=[self.labels[i] for i in index], index=index, proba=np.atleast_2d(at_deployment),
                             expected_cost=chosen, setting=self)

    def prior_text(self) -> str:
        """``"spam 2 %"`` (binary: the positive label) or every label's share; "(the training prior)" if not given."""
        k = self.costs.positive_index
        shares = ([(self.labels[k], self.deploy_prior[k])] if k is not None
                  else list(zip(self.labels, self.deploy_prior)))
        text = ", ".join(f"{label} {_percent(p)}" for label, p in shares)
        return text + ("" if self.prior_given else " (the training prior)")

    def describe(self) -> str:
        """One line: the costs and the deployment prior."""
        costs = self.costs.describe() if self.costs_given else "every error costs 1"
        return f"{costs}; deployment prior {self.prior_text()}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the costs, the deployment prior (by label) and which of them were given."""
        return {
            "costs": self.costs.to_dict(), "deploy_prior": dict(zip(self.labels, self.deploy_prior.tolist())),
            "costs_given": self.costs_given, "prior_given": self.prior_given,
        }


@dataclass(frozen=True, eq=False)
class CostDecisions:
    """Decisions of least expected cost for a batch of texts.

    Attributes:
        labels: the decided label of each text.
        index: (n,) their indices into ``setting.labels``.
        proba: (n, C) the probabilities at the deployment prior the decisions were made from.
        expected_cost: (n,) the expected cost of each decision under ``proba`` (in the costs' units).
        setting: the costs and prior used.
    """

    labels: list[str]
    index: np.ndarray
    proba: np.ndarray
    expected_cost: np.ndarray
    setting: CostSetting

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per text: ``cost_label`` and ``expected_cost`` (what predict and serve return)."""
        return [{"cost_label": label, "expected_cost": float(cost)} for label, cost in zip(self.labels, self.expected_cost)]


def _percent(p: float) -> str:
    return f"{100 * p:.3g} %"


def resolve_costs(
    costs: CostsInput | None,
    deploy_prior: PriorInput | None,
    labels: Sequence[str],
    class_counts: Sequence[int] | np.ndarray,
) -> CostSetting | None:
    """The :class:`CostSetting` of what the user gave, or None when neither costs nor a prior were given.

    Args:
        costs: ``"fn=10,fp=1[,positive=spam]"`` (``--costs``), a ``[costs]`` table (``fn``/``fp``/``positive``
            or ``matrix``/``labels``), a :class:`Costs`, or None (every error costs 1).
        deploy_prior: ``"spam=0.02"``, a mapping, a (C,) vector in ``labels`` order, or None (the training prior).
        labels: the model's labels.
        class_counts: (C,) training examples per label: the training prior, and the default positive label
            (the minority).

    Raises:
        SpecError: any bad cost or prior (see :class:`Costs` and :func:`parse_prior`), or costs for other labels.
    """
    if costs is None and deploy_prior is None:
        return None
    labels = [str(label) for label in labels]
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.shape != (len(labels),) or np.any(counts <= 0):
        raise ValueError(f"class_counts must be {len(labels)} positive numbers, got {class_counts!r}")
    training = counts / counts.sum()
    if isinstance(costs, Costs):
        if list(costs.labels) != labels:
            raise SpecError(f"the costs are for labels {', '.join(costs.labels)}; the model has {', '.join(labels)}")
        resolved = costs
    elif isinstance(costs, str):
        resolved = Costs.parse(costs, labels, counts)
    elif isinstance(costs, Mapping):
        resolved = Costs.from_config(costs, labels, counts)
    elif costs is None:
        resolved = Costs.zero_one(labels, positive=labels[minority_index(counts)] if len(labels) == 2 else None)
    else:
        raise SpecError(f"costs are fn=…,fp=… text or a table, not {type(costs).__name__}")
    if deploy_prior is None:
        prior = training
    elif isinstance(deploy_prior, (str, Mapping)):
        prior = parse_prior(deploy_prior, labels)
    else:
        vector = np.asarray(deploy_prior, dtype=np.float64)
        if vector.shape != (len(labels),):
            raise SpecError(f"the deployment prior has {vector.size} values for {len(labels)} labels")
        prior = parse_prior(dict(zip(labels, vector.tolist())), labels)
    return CostSetting(costs=resolved, deploy_prior=prior, training_prior=training,
                       costs_given=costs is not None, prior_given=deploy_prior is not None)


@dataclass(frozen=True, eq=False)
class RunCosts:
    """One run's decisions and their expected cost on the test split, at the deployment prior.

    Attributes:
        bayes: expected cost per text of the Bayes decisions on the prior-corrected probabilities.
        tuned: the same for the rule tuned on the validation split; NaN without validation predictions.
        own: the same for the technique's own decisions (argmax, or its post-hoc thresholds).
        bayes_pred: (n,) the Bayes decisions.
        tuned_pred: (n,) the tuned rule's decisions, or None.
        rule: the tuned rule, or None.
    """

    bayes: float
    tuned: float
    own: float
    bayes_pred: np.ndarray
    tuned_pred: np.ndarray | None
    rule: CostRule | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, costs per 1,000 texts (as a run's ``metrics.json`` stores them)."""
        return {
            "per_1000_texts": {"bayes": PER * self.bayes, "tuned_on_validation": PER * self.tuned,
                               "own_decisions": PER * self.own},
            "tuned_rule": None if self.rule is None else self.rule.to_dict(),
        }


def run_costs(
    setting: CostSetting,
    y_test: np.ndarray,
    proba_test: np.ndarray,
    own_pred: np.ndarray,
    y_val: np.ndarray | None = None,
    proba_val: np.ndarray | None = None,
) -> RunCosts:
    """Decide a run's test split by cost both ways and measure what it costs at the deployment prior.

    The tuned rule (:func:`tune_cost_threshold`) sees only the validation split; test labels are used for
    nothing but measuring the cost of decisions already made.

    Args:
        setting: the costs and deployment prior.
        y_test: (n,) test label indices.
        proba_test: (n, C) test probabilities corrected to the training prior (a run's ``p:`` columns).
        own_pred: (n,) the technique's own test decisions.
        y_val: (m,) validation label indices, or None.
        proba_val: (m, C) validation probabilities corrected to the training prior, or None.
    """
    costs, prior = setting.costs, setting.deploy_prior
    test = setting.to_deployment(proba_test)
    bayes = bayes_decisions(test, costs)
    rule = tuned = None
    if y_val is not None and proba_val is not None and len(y_val):
        rule = tune_cost_threshold(setting.to_deployment(proba_val), y_val, costs, prior)
        tuned = rule.decide(test)

    def cost(pred: np.ndarray | None) -> float:
        return float("nan") if pred is None else float(expected_cost(y_test, pred, costs, prior))

    return RunCosts(bayes=cost(bayes), tuned=cost(tuned), own=cost(own_pred), bayes_pred=bayes, tuned_pred=tuned,
                    rule=rule)
