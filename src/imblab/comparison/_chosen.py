"""Which (backend, technique) a study of several backends ships: the one best **on validation**.

The test split only measures what was chosen: choosing on it too would reward test-set noise (the winner's
test score is biased upwards by the very choice). Each technique's runs on each backend stored their
validation metrics (``metrics.json``'s ``validation``); the choice is the best mean over seeds of the study's
metric on validation — with costs, the expected cost of the Bayes decisions on validation at the deployment
prior (the rule that ranks the techniques on test). Ties go to the earlier technique in the study's order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..evaluation import bayes_decisions, expected_cost, higher_is_better
from ._costs import METRIC as COST_METRIC
from ._costs import PER

__all__ = ["ChoiceView", "ValidationChoice", "validation_choice"]

if TYPE_CHECKING:
    from ..evaluation import CostSetting
    from ._outcome import RunOutcome


class ChoiceView(Protocol):
    """What the choice reads of its study (a :class:`~._result.ComparisonResult` is one)."""

    metric: str
    cost_setting: CostSetting | None
    techniques: list[str]

    @property
    def backends(self) -> list[str]: ...

    def runs(self, technique: str) -> list[RunOutcome]: ...


@dataclass(frozen=True)
class ValidationChoice:
    """The study's choice on validation.

    Attributes:
        technique: its name in the study's tables (``hybrid/weighted``).
        backend: its backend.
        metric: the metric it was chosen by (the study's ranking metric).
        value: its mean validation value over seeds.
        per_backend: each backend's own choice on validation (backend → technique name).
    """

    technique: str
    backend: str | None
    metric: str
    value: float
    per_backend: dict[str, str]


def validation_value(result: ChoiceView, run: RunOutcome) -> float:
    """One run's validation value of the study's ranking metric (NaN when the run stored none)."""
    if result.metric == COST_METRIC:
        setting = result.cost_setting
        if setting is None or run.val_y is None or run.val_proba_corrected is None:
            return math.nan
        decisions = bayes_decisions(setting.to_deployment(run.val_proba_corrected), setting.costs)
        return PER * float(expected_cost(run.val_y, decisions, setting.costs, setting.deploy_prior))
    return float(run.val_metrics.get(result.metric, math.nan))


def validation_choice(result: ChoiceView) -> ValidationChoice | None:
    """The technique best on validation, overall and per backend; None when no run stored validation metrics."""
    sign = 1.0 if higher_is_better(result.metric) else -1.0
    means = {t: float(np.mean([validation_value(result, o) for o in result.runs(t)])) for t in result.techniques}
    finite = [t for t in result.techniques if math.isfinite(means[t])]
    if not finite:
        return None

    def best(names: list[str]) -> str:
        return max(names, key=lambda t: (sign * means[t], -result.techniques.index(t)))

    backend_of = {t: result.runs(t)[0].backend for t in result.techniques}
    per_backend = {}
    for backend in result.backends:
        own = [t for t in finite if backend_of[t] == backend]
        if own:
            per_backend[backend] = best(own)
    chosen = best(finite)
    return ValidationChoice(chosen, backend_of[chosen], result.metric, means[chosen], per_backend)
