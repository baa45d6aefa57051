"""A tuning study as JSON-ready data: the best trial as a spec, every trial, the tuning curve, importances.

What ``imblab tune --json`` prints, ``DIR/tuning/<study>.json`` and a compare study's ``tuning.json`` hold,
and what the report draws from: the report never opens the Optuna storage.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any

from ...techniques import Technique, parse_spec

if TYPE_CHECKING:
    import optuna

    from ._driver import TuningPlan

__all__ = ["best_technique", "summarise"]

log = logging.getLogger(__name__)


def _number(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def best_technique(study: optuna.Study, labels: list[str]) -> tuple[Technique, dict[str, Any], optuna.trial.FrozenTrial]:
    """The storage's best trial as a technique (its exact spec) and its tuned training settings."""
    best = study.best_trial
    return parse_spec(str(best.user_attrs["spec"]), labels), dict(best.user_attrs.get("training", {})), best


def _importances(study: optuna.Study, n_params: int) -> dict[str, float] | None:
    """fANOVA importances (Hutter, Hoos & Leyton-Brown 2014, Optuna's default evaluator, seeded) of a study
    searching two or more parameters; None otherwise or when too few trials completed."""
    import optuna
    from optuna.trial import TrialState

    if n_params < 2 or len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (ValueError, RuntimeError) as exc:
        log.info("no parameter importances for %s: %s", study.study_name, exc)
        return None
    return {name: round(float(v), 4) for name, v in values.items()} or None


def summarise(study: optuna.Study, plan: TuningPlan, budget: int, storage: str) -> dict[str, Any]:
    """Everything a report or a tool needs to know about a finished tuning study (JSON-ready).

    Keys: study, storage (password masked), technique (the fixed part of the spec), metric, direction,
    budget, complete, pruned, failed, space, best (number, value, spec, params, training), trials (number,
    state, value, params, spec, training, values per seed, seconds), curve (trial, value, best so far),
    importances (or None).
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    technique, training, best = best_technique(study, list(plan.data.labels))
    rows = [{
        "number": t.number,
        "state": t.state.name.lower(),
        "value": _number(t.value) if t.state == TrialState.COMPLETE else None,
        "params": dict(t.params),
        "spec": t.user_attrs.get("spec"),
        "training": t.user_attrs.get("training", {}),
        "values": t.user_attrs.get("values"),
        "seconds": t.user_attrs.get("seconds"),
    } for t in trials]
    maximise = plan.direction == "maximize"
    curve, best_so_far = [], None
    for row in rows:
        if row["state"] != "complete" or row["value"] is None:
            continue
        v = row["value"]
        best_so_far = v if best_so_far is None else (max(best_so_far, v) if maximise else min(best_so_far, v))
        curve.append({"trial": row["number"], "value": v, "best": best_so_far})
    count = {state: sum(r["state"] == state for r in rows) for state in ("complete", "pruned", "fail")}
    return {
        "study": study.study_name,
        "storage": storage,
        "technique": plan.space.fixed_spec,
        "metric": plan.metric,
        "direction": plan.direction,
        "seeds": list(plan.seeds),
        "budget": budget,
        "complete": count["complete"],
        "pruned": count["pruned"],
        "failed": count["fail"],
        "space": plan.space.describe(),
        "best": {"number": best.number, "value": _number(best.value), "spec": technique.spec,
                 "technique": technique.to_dict(), "params": dict(best.params), "training": training},
        "trials": rows,
        "curve": curve,
        "importances": _importances(study, plan.space.n_params),
    }
