"""The Optuna driver: ask a trial, run it as a task, tell the result — until the study has its N trials.

The driver owns everything Optuna: the seeded TPE sampler, the median pruner, the budget, the lock and
the recovery of trials left running by dead processes (:mod:`._storage`). A trial itself is a
:class:`~._trial.TrialTask` run by :func:`~._trial.run_trial`, which knows nothing of Optuna.

**Trials in parallel.** Alone, :func:`optimise` runs one trial at a time: ``_reserve`` (under the lock:
recover dead trials, count, ``study.ask()``, suggest) → ``runner(task, report)`` → ``study.tell``. Given a
parallel executor (``--workers N``, ``--ray``: the study's own executors), it hands the executor a lazy stream
of reserved trials: the executor takes the next one when a worker is free, so a trial is asked only when it
can start (each reservation counts against the budget: the total stays exactly N), and each result is told as
it comes back, with a heartbeat per trial in flight. Trials in workers are not pruned (the linear heads have
no epochs to report anyway). Each trial's numbers are the same whatever runs it; which parameters TPE proposes
after its random start-up trials depends on which trials had finished when it was asked, as in any
asynchronous Optuna study.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...backends import backend_spec
from ...errors import SpecError
from ...techniques import Technique
from ._space import SearchSpace
from ._storage import WORKER_ATTR, Heartbeat, fail_dead_trials, study_lock, worker_info
from ._trial import Report, TrialResult, TrialTask, TuningData, run_trial

if TYPE_CHECKING:
    import optuna

    from ..executors import Executor

__all__ = ["OnTrial", "TuningPlan", "optimise", "make_study"]

log = logging.getLogger(__name__)

OnTrial = Callable[[dict[str, Any]], None]
"""Called in the driver's process as each of its trials ends: number, state, value, best value, spec, done, budget."""

Runner = Callable[[TrialTask, "Report | None"], TrialResult]


@dataclass(frozen=True)
class TuningPlan:
    """What one tuning study searches and how each trial trains.

    Attributes:
        data: the training and validation parts.
        space: the search space (with the fixed parameters).
        seeds: the seeds each trial trains with (the objective is their mean).
        backend, model: the resolved backend and its model.
        metric: the flat metric name; its direction decides maximise or minimise.
        training: the ``TrainConfig`` fields set for every trial.
        split: the split's seed and fractions (recorded in the identity).
    """

    data: TuningData
    space: SearchSpace
    seeds: tuple[int, ...]
    backend: str
    model: str | None
    metric: str
    training: dict[str, Any]
    split: dict[str, Any]

    @property
    def tune_training(self) -> bool:
        return any(d.param.startswith("training:") for d in self.space.dimensions)

    @property
    def direction(self) -> str:
        from ...evaluation import higher_is_better

        return "maximize" if higher_is_better(self.metric) else "minimize"

    def identity(self) -> dict[str, Any]:
        """What a storage study made for this plan records (see ``_storage.check_identity``)."""
        return {
            "format": 1,
            "data_sha256": self.data.sha256,
            "split": self.split,
            "labels": list(self.data.labels),
            "technique": self.space.fixed_spec,
            "space": self.space.describe(),
            "backend": self.backend,
            "model": self.model,
            "metric": self.metric,
            "seeds": list(self.seeds),
            "tune_training": self.tune_training,
            "training": {k: self.training.get(k) for k in sorted(self.training)},
        }

    def task(self, technique: Technique, training: dict[str, Any], number: int) -> TrialTask:
        return TrialTask(data=self.data, technique=technique, seeds=self.seeds, backend=self.backend,
                         model=self.model, metric=self.metric, training={**self.training, **training}, number=number)


def make_study(storage: optuna.storages.RDBStorage, name: str, plan: TuningPlan, shown_url: str) -> optuna.Study:
    """Create or load the storage study ``name`` under the lock, and check (or record) its identity."""
    import optuna

    from ._storage import check_identity

    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    with study_lock(storage, name):
        study = optuna.create_study(storage=storage, study_name=name, direction=plan.direction, load_if_exists=True,
                                    pruner=pruner)
        check_identity(study, plan.identity(), shown_url)
    return study


def _count(study: optuna.Study) -> tuple[int, int, int]:
    """(finished: complete or pruned, running, all trials)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return finished, running, len(trials)


def _reserve(study: optuna.Study, storage: optuna.storages.RDBStorage, plan: TuningPlan, budget: int,
             sampler_seed: int) -> tuple[str, Any]:
    """Under the lock: ("done", None), ("wait", None) while others run the last trials, or ("run", (trial, task))."""
    import optuna

    with study_lock(storage, study.study_name):
        fail_dead_trials(study, storage)
        finished, running, total = _count(study)
        if finished >= budget:
            return "done", None
        if finished + running >= budget:
            return "wait", None
        # A sampler seeded by the study's name and trial count: the same history gives the same proposal (a run
        # is reproducible), two processes never propose with the same random state, and the studies of several
        # techniques do not start from one random stream.
        seed = (sampler_seed * 1_000_003 + zlib.crc32(study.study_name.encode()) + total) % 2**32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # Optuna warns that heartbeats are meant for optimize(); this driver records them itself (Heartbeat).
            warnings.filterwarnings("ignore", message="Heartbeat of storage", category=UserWarning)
            study.sampler = optuna.samplers.TPESampler(seed=seed)
            trial = study.ask()
        storage.record_heartbeat(trial._trial_id)
        trial.set_user_attr(WORKER_ATTR, worker_info())
        technique, training = plan.space.suggest(trial)
        trial.set_user_attr("spec", technique.spec)
        if training:
            trial.set_user_attr("training", training)
        return "run", (trial, plan.task(technique, training, trial.number), training)


def _report(trial: optuna.trial.Trial) -> Report:
    import optuna

    def report(step: int, value: float) -> None:
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()

    return report


def optimise(
    study: optuna.Study,
    storage: optuna.storages.RDBStorage,
    plan: TuningPlan,
    budget: int,
    *,
    sampler_seed: int = 0,
    runner: Runner = run_trial,
    on_trial: OnTrial | None = None,
    poll_seconds: float = 1.0,
    executor: Executor | None = None,
) -> None:
    """Run trials until ``study`` has ``budget`` finished (complete or pruned) trials, then wait for the
    trials other processes are running, so that every process ends with the same, final best.

    With ``executor`` (a process pool or a Ray cluster) several trials run at once (``runner`` is then
    unused: the executor runs each :class:`TrialTask`).

    Raises:
        SpecError: the metric is undefined on the validation split for a trial's predictions.
        KeyboardInterrupt: after marking the trial in flight FAILED (a re-run replaces it).
    """
    import optuna
    from optuna.trial import TrialState

    if executor is not None and executor.parallel:
        _optimise_parallel(study, storage, plan, budget, executor, sampler_seed=sampler_seed, on_trial=on_trial,
                           poll_seconds=poll_seconds)
        return
    # A network reports its epochs (pruning); the linear heads are fitted in one go: no epochs to report.
    pruning = backend_spec(plan.backend).family == "network"
    while True:
        state, reserved = _reserve(study, storage, plan, budget, sampler_seed)
        if state == "done":
            return
        if state == "wait":
            time.sleep(poll_seconds)
            continue
        trial, task, tuned_training = reserved
        with Heartbeat(storage, trial._trial_id):
            try:
                result = runner(task, _report(trial) if pruning else None)
            except optuna.TrialPruned:
                study.tell(trial, state=TrialState.PRUNED)
                _notify(on_trial, study, budget, trial.number, "pruned", None, task, tuned_training)
                continue
            except BaseException:
                study.tell(trial, state=TrialState.FAIL)
                raise
            _tell(study, plan, trial, task, result)
        _notify(on_trial, study, budget, trial.number, "complete", result.value, task, tuned_training)


def _tell(study: optuna.Study, plan: TuningPlan, trial: optuna.trial.Trial, task: TrialTask,
          result: TrialResult) -> None:
    """Record a finished trial (its per-seed values, time and chosen C) and tell its value."""
    from optuna.trial import TrialState

    trial.set_user_attr("values", list(result.values))
    trial.set_user_attr("seconds", round(result.seconds, 3))
    trial.set_user_attr("trained_by_pid", result.pid)
    if any(c is not None for c in result.C):
        trial.set_user_attr("C", list(result.C))
    if not math.isfinite(result.value):
        study.tell(trial, state=TrialState.FAIL)
        raise SpecError(f"the validation {plan.metric} of trial {trial.number} ({task.technique.spec}) is "
                        "undefined (e.g. no positive prediction for a ranking metric): tune another --metric")
    study.tell(trial, result.value)


def _optimise_parallel(
    study: optuna.Study, storage: optuna.storages.RDBStorage, plan: TuningPlan, budget: int, executor: Executor,
    *, sampler_seed: int, on_trial: OnTrial | None, poll_seconds: float,
) -> None:
    """:func:`optimise` with several trials in flight on ``executor`` (see the module's docstring)."""
    from optuna.trial import TrialState

    in_flight: dict[int, tuple[optuna.trial.Trial, dict[str, Any], Heartbeat]] = {}

    def reserved(first: tuple[Any, TrialTask, dict[str, Any]]) -> Any:
        """The trials to run, each reserved as the executor takes it, until the budget is reserved."""
        item: tuple[Any, TrialTask, dict[str, Any]] | None = first
        while item is not None:
            trial, task, tuned_training = item
            beat = Heartbeat(storage, trial._trial_id)
            beat.__enter__()
            in_flight[trial.number] = (trial, tuned_training, beat)
            yield task
            state, item = _reserve(study, storage, plan, budget, sampler_seed)
            if state != "run":
                item = None

    def finished(task: TrialTask, result: TrialResult) -> None:
        trial, tuned_training, beat = in_flight.pop(task.number)
        beat.__exit__()
        _tell(study, plan, trial, task, result)
        _notify(on_trial, study, budget, trial.number, "complete", result.value, task, tuned_training)

    while True:
        state, first = _reserve(study, storage, plan, budget, sampler_seed)
        if state == "done":
            return
        if state == "wait":  # the last trials run in other processes: wait for the final best
            time.sleep(poll_seconds)
            continue
        try:
            executor.run(reserved(first), finished)  # type: ignore[arg-type]
        finally:
            for trial, _, beat in in_flight.values():  # an error or an interruption: a re-run replaces them
                beat.__exit__()
                study.tell(trial, state=TrialState.FAIL)
            in_flight.clear()


def _notify(on_trial: OnTrial | None, study: optuna.Study, budget: int, number: int, state: str,
            value: float | None, task: TrialTask, training: dict[str, Any]) -> None:
    if on_trial is None:
        return
    finished, _, _ = _count(study)
    try:
        best = study.best_value
    except ValueError:
        best = None
    on_trial({"number": number, "state": state, "value": value, "best": best, "spec": task.technique.spec,
              "training": training, "done": finished,
              "budget": budget})
