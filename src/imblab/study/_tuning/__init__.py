"""Tuning: every technique at its best hyper-parameters, chosen on the validation split (Optuna).

* :mod:`._space` — the search space derived from a technique's declared parameters (``Param.tune``).
* :mod:`._trial` — :class:`TrialTask`, one picklable trial (training and validation parts only), and
  :func:`run_trial`, which trains it and scores the validation split.
* :mod:`._storage` — the Optuna RDB storage: identity of a storage study, the cross-process lock that keeps
  the budget exact, recovery of trials left running by dead processes, heartbeats.
* :mod:`._driver` — the ask/tell loop (seeded TPE, median pruner for fine-tuning).
* :mod:`._summary` — a study as JSON-ready data (best spec, trials, curve, importances).
* :mod:`._api` — :func:`tune`, the Python entry point; :mod:`._compare` — ``compare --tune``.
"""

from ._api import STORAGE_FILE, TuneResult, check_tuning_out, default_tuning_dir, plan_tuning, run_tuning, tune
from ._driver import OnTrial, TuningPlan, optimise
from ._space import SearchSpace, build_space
from ._storage import mask_url, open_storage
from ._summary import summarise
from ._trial import TrialResult, TrialTask, TuningData, run_trial

__all__ = [
    "STORAGE_FILE",
    "OnTrial",
    "SearchSpace",
    "TrialResult",
    "TrialTask",
    "TuneResult",
    "TuningData",
    "TuningPlan",
    "build_space",
    "check_tuning_out",
    "default_tuning_dir",
    "mask_url",
    "open_storage",
    "optimise",
    "plan_tuning",
    "run_trial",
    "run_tuning",
    "summarise",
    "tune",
]
