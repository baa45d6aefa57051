"""Several server processes on one port (``imblab serve --workers N``): uvicorn's worker supervisor.

One Python process answers on one core: the GIL serialises its HTTP handling and the TF-IDF vectoriser, so a
second core sits idle. ``--workers N`` starts N processes that share the listening socket (the kernel hands each
connection to one of them), each with its own copy of the model, its micro-batcher and its prior window. uvicorn's
:class:`~uvicorn.supervisors.Multiprocess` starts them (spawned, so each imports torch afresh), restarts one that
dies and stops them all on Ctrl-C or SIGTERM. What each worker is to serve travels in one environment variable
(:data:`SPEC_VARIABLE`, JSON), read by :func:`app_from_environment`, the factory uvicorn calls in each worker.
Their Prometheus counts meet in a fresh temporary folder (``prometheus_client``'s multiprocess mode), removed when
the server stops.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._source import ServedModel

__all__ = ["SPEC_VARIABLE", "WorkerSpec", "app_from_environment", "app_from_spec", "run_workers", "worker_threads"]

#: The environment variable that carries a worker's :class:`WorkerSpec` (JSON).
SPEC_VARIABLE = "IMBLAB_SERVE_SPEC"
_METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class WorkerSpec:
    """What a server serves: :func:`~imblab.serving.create_app`'s arguments, in JSON's types (they travel to
    the workers in the environment).

    Attributes:
        model_dir: the run or model folder.
        costs, deploy_prior: the server's default costs and deployment prior, as given on the command line (a
            ``fn=10,fp=1`` text or a ``[costs]`` table; ``spam=0.02`` or a table), or None.
        limits: :class:`~imblab.serving.ServeLimits`' fields.
        threads: torch's threads in each worker (its share of the cores); None: torch's default.
    """

    model_dir: str
    max_batch: int
    max_wait_ms: float
    prior_window: int
    api_key: str | None = None
    costs: Any = None
    deploy_prior: Any = None
    limits: dict[str, int] = field(default_factory=dict)
    threads: int | None = None


def app_from_spec(spec: WorkerSpec) -> tuple[Any, ServedModel]:
    """The app that serves ``spec``, and its served model: ``imblab serve`` builds it once in its own process (one
    process, or to check everything before workers start), each worker once more.

    Raises:
        ModelError, SpecError: a folder without a model, a bad cost, prior or limit.
    """
    from ._app import create_app
    from ._limits import ServeLimits
    from ._source import load_served_model

    served = load_served_model(spec.model_dir)
    if spec.threads is not None and "torch" in sys.modules:  # a transformer: N workers share the cores, not each all
        sys.modules["torch"].set_num_threads(spec.threads)
    if spec.costs is not None or spec.deploy_prior is not None:  # the server's default costs (a request may give its own)
        served.model.keep_costs(served.model.cost_setting(spec.costs, spec.deploy_prior))
    app = create_app(served, max_batch=spec.max_batch, max_wait_ms=spec.max_wait_ms, api_key=spec.api_key,
                     limits=ServeLimits(**spec.limits), prior_window=spec.prior_window)
    return app, served


def app_from_environment() -> Any:
    """The app of one worker, built from :data:`SPEC_VARIABLE` (uvicorn's ``factory=True`` target)."""
    return app_from_spec(WorkerSpec(**json.loads(os.environ[SPEC_VARIABLE])))[0]


def worker_threads(workers: int) -> int | None:
    """torch's threads per worker: an equal share of the usable cores (None when ``OMP_NUM_THREADS`` says)."""
    from .._cores import usable_cores

    return None if os.environ.get("OMP_NUM_THREADS") else max(1, usable_cores() // workers)


def run_workers(spec: WorkerSpec, sock: socket.socket, workers: int, **config: Any) -> None:
    """Serve ``spec`` from ``workers`` processes on the bound ``sock`` until Ctrl-C or SIGTERM. The spec, API key
    included, travels in the workers' environment, as ``IMBLAB_API_KEY`` may.

    Args:
        config: further :class:`uvicorn.Config` settings (``log_level``, ``access_log``, ...).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    metrics = tempfile.mkdtemp(prefix="imblab-metrics-")  # ours alone: removed whole when the server stops
    saved = {name: os.environ.get(name) for name in (SPEC_VARIABLE, _METRICS_VARIABLE)}
    os.environ[SPEC_VARIABLE] = json.dumps(asdict(spec))
    os.environ[_METRICS_VARIABLE] = metrics
    try:
        settings = uvicorn.Config(f"{__name__}:app_from_environment", factory=True, workers=workers, **config)
        Multiprocess(settings, sockets=[sock]).run()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(metrics, ignore_errors=True)
