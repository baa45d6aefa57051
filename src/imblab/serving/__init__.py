"""Serve a trained model over HTTP (FastAPI + uvicorn; ``pip install "imblab[serve]"``).

``create_app(model)`` builds the ASGI app; ``imblab serve RUN_OR_MODEL_DIR`` runs it with uvicorn (``--workers N``:
in N processes sharing the port, :func:`run_workers`).
Concurrent requests are gathered into one forward pass by a :class:`MicroBatcher`.
"""

from ._app import API_KEY_HEADER, create_app
from ._batcher import BatchPolicy, BatchStats, MicroBatcher
from ._limits import ServeLimits
from ._schemas import Prediction, PredictRequest, PredictResponse
from ._source import ServedModel, load_served_model
from ._workers import WorkerSpec, app_from_spec, run_workers, worker_threads

__all__ = [
    "API_KEY_HEADER",
    "BatchPolicy",
    "BatchStats",
    "MicroBatcher",
    "Prediction",
    "PredictRequest",
    "PredictResponse",
    "ServeLimits",
    "ServedModel",
    "create_app",
    "load_served_model",
    "app_from_spec",
    "run_workers",
    "WorkerSpec",
    "worker_threads",
]
