"""Study: everything that *runs* a techniques × seeds study, then writes its outputs.

* :mod:`._config` — the study's settings (:class:`StudyConfig`, TOML study files, overrides).
* :mod:`._plan` — the settings resolved against the data (:class:`PreparedStudy`) and its run tasks.
* :mod:`._tasks` — the :class:`Task` protocol; :class:`RunTask`, one picklable run; :func:`run_task`.
* :mod:`.executors` — the :class:`Executor` interface and one file per executor (sequential, local worker
  processes, Ray), and :func:`make_executor`, the factory the command line uses.
* :mod:`._models` — which runs keep their model (``--keep-models``), :func:`chosen_model`.
* :mod:`._runs` — a run's folder name, and whether a stored run counts for the study.
* :mod:`._locks` — the study folder's locks, so that several processes can run one study.
* :mod:`._reference` — the study's scikit-learn reference (TF-IDF + balanced logistic regression).
* :mod:`._store` — the study folder: metadata, stored runs, leftovers, outputs, :func:`load_study`.
* :mod:`._outputs` — results.csv, probes.csv, differences.csv and the reports of a comparison.
* :mod:`._run`, :mod:`._api` — :func:`run_study` and the Python entry point :func:`compare`.
* :mod:`._tuning` — :func:`tune` (Optuna on the validation split) and ``compare --tune``.

Statistics live in :mod:`imblab.comparison` and rendering in :mod:`imblab.reporting`; neither knows this package.
"""

from ._api import check_study_out, compare, default_out_dir
from ._config import StudyConfig, build_study_config, load_study_file
from ._models import ChosenModel, chosen_model, prune_models
from ._outputs import write_outputs, write_tables
from ._plan import PreparedStudy, prepare_study
from .executors import Executor, ProcessExecutor, RayExecutor, SequentialExecutor, make_executor
from ._run import ProgressCallback, run_study
from ._runs import outcome_from_run, run_folder
from ._store import load_study
from ._tasks import DataSpec, RunTask, run_task
from ._tuning import TrialTask, TuneResult, TuningData, run_trial, tune
from ._tuning._compare import CompareTuning

__all__ = [
    "ChosenModel",
    "chosen_model",
    "CompareTuning",
    "DataSpec",
    "check_study_out",
    "Executor",
    "PreparedStudy",
    "ProcessExecutor",
    "ProgressCallback",
    "RayExecutor",
    "RunTask",
    "SequentialExecutor",
    "StudyConfig",
    "TrialTask",
    "TuneResult",
    "TuningData",
    "build_study_config",
    "compare",
    "default_out_dir",
    "load_study",
    "load_study_file",
    "make_executor",
    "outcome_from_run",
    "prepare_study",
    "prune_models",
    "run_folder",
    "run_study",
    "run_task",
    "run_trial",
    "tune",
    "write_outputs",
    "write_tables",
]
