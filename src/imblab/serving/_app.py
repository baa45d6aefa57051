"""The FastAPI app: ``POST /predict``, ``GET /info``, ``GET /health``, ``GET /metrics`` (Prometheus), ``GET /prior``
(the live class-prior estimate) and the OpenAPI docs at ``/docs``."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.responses import Response
from fastapi.security import APIKeyHeader

from .._version import __version__
from ..errors import ModelError, SpecError
from ..model import TrainedModel
from ._batcher import BatchPolicy, MicroBatcher
from ._errors import install_error_handlers
from ._limits import BodySizeLimit, ServeLimits
from ._monitor import DEFAULT_WINDOW, MetricsMiddleware, Monitor
from ._schemas import Health, PredictRequest, Prediction, PredictResponse, error_responses
from ._source import ServedModel, load_served_model

__all__ = ["create_app", "API_KEY_HEADER"]

API_KEY_HEADER = "X-API-Key"


def create_app(
    model: TrainedModel | ServedModel | str | Path,
    *,
    max_batch: int = 64,
    max_wait_ms: float = 5.0,
    api_key: str | None = None,
    limits: ServeLimits | None = None,
    prior_window: int = DEFAULT_WINDOW,
) -> FastAPI:
    """An ASGI app that serves ``model``; run it with uvicorn (``imblab serve`` does).

    Args:
        model: a ``TrainedModel``, a ``ServedModel``, or a path to a run directory or model folder
            (a run directory adds its test metrics to ``/info``).
        max_batch: most texts per forward pass when gathering concurrent requests.
        max_wait_ms: how long a request waits for others to join its forward pass;
            ``max_batch=1`` or ``max_wait_ms=0`` predicts every request on its own.
        api_key: when given, ``/predict`` and ``/info`` answer 401 without the header
            ``X-API-Key: <api_key>`` (``/health`` and the docs stay open).
        limits: texts per request, characters per text, body bytes (default ``ServeLimits()``).
        prior_window: how many recent texts the live prior estimate (``/prior``, ``/metrics``) reads.

    Raises:
        SpecError: a setting out of range. ModelError: a path that holds no imblab model.
    """
    policy = BatchPolicy(max_batch=max_batch, max_wait_ms=max_wait_ms)
    limits = limits or ServeLimits()
    _check_api_key(api_key)
    served = _served(model)
    batcher = MicroBatcher(_answer_rows(served.model), policy)
    if isinstance(prior_window, bool) or not isinstance(prior_window, int) or prior_window < 2:
        raise SpecError(f"the prior window must hold at least 2 texts, not {prior_window!r}")
    monitor = Monitor(served.model.labels, served.model.true_prior, window=prior_window, validation=served.validation)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            await batcher.close()

    labels = ", ".join(served.model.labels)
    app = FastAPI(
        title="imblab model server", version=__version__, lifespan=lifespan,
        description=f"{served.model.technique.display_name} on {served.model.backend_name}; labels: {labels}. "
                    "Probabilities are corrected to the training prior unless the request asks otherwise.",
    )
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(MetricsMiddleware, monitor=monitor)  # outermost: it also counts what the limits refuse
    install_error_handlers(app, fields=list(PredictRequest.model_fields))
    guard = [Depends(_key_checker(api_key))] if api_key is not None else []
    _add_routes(app, served, batcher, policy, limits, guard, monitor)
    _add_monitor_routes(app, monitor, guard)
    return app


def _check_api_key(api_key: str | None) -> None:
    if api_key is not None and not api_key.strip():
        raise SpecError("the API key must not be empty")
    if api_key is not None and not (api_key.isascii() and api_key.isprintable()):
        raise SpecError("the API key must be printable ASCII: an HTTP header carries no other characters, so no "
                        "client could send it")


def _add_monitor_routes(app: FastAPI, monitor: Monitor, guard: list[Any]) -> None:
    """``/metrics`` (Prometheus' text format) and ``/prior`` (the live estimate as JSON)."""
    @app.get("/metrics", dependencies=guard, responses=error_responses(401), response_class=Response,
             summary="Prometheus metrics: requests, latency, predicted labels, the live prior estimate and shift")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        # The estimate's bootstrap takes a moment on a full window: off the event loop, which keeps answering.
        return Response(await asyncio.to_thread(monitor.exposition), media_type=CONTENT_TYPE_LATEST)

    @app.get("/prior", dependencies=guard, responses=error_responses(401),
             summary="the class prior of the last texts answered, estimated without labels (EM), with its 95 % "
                     "interval and whether the training prior lies outside it")
    async def prior() -> dict[str, Any]:
        return await asyncio.to_thread(monitor.document)


def _add_routes(app: FastAPI, served: ServedModel, batcher: MicroBatcher, policy: BatchPolicy, limits: ServeLimits,
                guard: list[Any], monitor: Monitor) -> None:
    """``/health``, ``/info`` and ``/predict``."""
    @app.get("/health", response_model=Health, summary="liveness: the model is loaded and the server answers")
    async def health() -> Health:
        return Health()

    @app.get("/info", dependencies=guard, responses=error_responses(401),
             summary="the model: labels, technique, priors, thresholds, test metrics, versions, limits")
    async def info() -> dict[str, Any]:
        return {
            **served.info(),
            "limits": asdict(limits),
            "batching": {"enabled": policy.enabled, "max_batch": policy.max_batch, "max_wait_ms": policy.max_wait_ms,
                         **asdict(batcher.stats)},
        }

    @app.post("/predict", response_model=PredictResponse, response_model_exclude_none=True, dependencies=guard,
              responses=error_responses(400, 401, 413, 422),
              summary="labels and probabilities of texts, under the prior you ask for")
    async def predict(request: PredictRequest) -> Response:
        if len(request.texts) > limits.max_texts:
            raise HTTPException(413, f"a request may hold at most {limits.max_texts:,} texts, got "
                                     f"{len(request.texts):,}; send them in several requests.")
        try:  # a bad prior or cost is the caller's error, found before any work
            if request.prior != "estimate":
                served.model.prior_vector(request.prior)
            setting = served.model.cost_setting(request.costs, request.deploy_prior)
        except (ModelError, SpecError) as exc:
            raise HTTPException(422, _sentence(str(exc))) from None
        texts = [text[: limits.max_chars] for text in request.texts]
        truncated = [i for i, text in enumerate(request.texts) if len(text) > limits.max_chars]
        logits, proba_true, decisions = await batcher(texts)
        monitor.observe(proba_true, decisions)
        prior: Any = request.prior
        if prior == "estimate":  # the live estimate, this request's texts included
            prior = dict(zip(served.model.labels, (await asyncio.to_thread(monitor.prior_vector)).tolist()))
        proba = proba_true if prior == "true" else served.model.proba_from_logits(logits, prior)
        answer = PredictResponse(predictions=_rows(served.model, logits, decisions, proba, request,
                                                   setting is not None), truncated=truncated)
        # Serialised here (pydantic-core), not validated again and re-encoded by FastAPI: the schema is the same.
        return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")


def _answer_rows(model: TrainedModel) -> Any:
    """What the batcher computes for a gathered batch: (logits, probabilities at the training prior, decisions),
    row by row (each request takes its rows); once per batch, not once per request."""
    def answer(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits = model.predict_logits(texts)
        return (logits, *model.outputs(logits))

    return answer


def _rows(model: TrainedModel, logits: np.ndarray, decisions: np.ndarray, proba: np.ndarray, request: PredictRequest,
          by_cost: bool) -> list[Prediction]:
    """The answer of each text from one forward pass: ``predict``'s label and ``predict_proba``'s numbers (at the
    prior asked for), and with costs (given or stored with the model) ``decide_by_cost``'s label and expected
    cost."""
    records = (model.decide_by_cost(logits=logits, costs=request.costs, deploy_prior=request.deploy_prior).records()
               if by_cost else [{} for _ in decisions])
    return [
        Prediction(label=model.labels[decision], probabilities=dict(zip(model.labels, row.tolist())), **record)
        for decision, row, record in zip(decisions, proba, records)
    ]


def _served(model: TrainedModel | ServedModel | str | Path) -> ServedModel:
    if isinstance(model, ServedModel):
        return model
    if isinstance(model, TrainedModel):
        return ServedModel(model=model)
    return load_served_model(model)


def _key_checker(api_key: str) -> Any:
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                          description="the key the server was started with (imblab serve --api-key)")
    expected = api_key.encode()

    async def check(given: str | None = Security(header)) -> None:
        # compare_digest: the time taken does not reveal how much of a guess was right.
        if given is None or not hmac.compare_digest(given.encode(), expected):
            raise HTTPException(401, f"a valid {API_KEY_HEADER} header is required.",
                                headers={"WWW-Authenticate": API_KEY_HEADER})

    return check


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."
