"""What a server watches: Prometheus metrics (``GET /metrics``) and the class prior of its recent traffic (``GET /prior``).

Metrics, in Prometheus' text format by ``prometheus_client`` (one registry per app, so two apps in a process keep
their own counts):

* ``imblab_requests_total{code}`` — ``/predict`` requests by HTTP status;
* ``imblab_request_seconds`` — a histogram of ``/predict``'s latency;
* ``imblab_predictions_total{label}`` — texts by the label the model decided;
* ``imblab_prior_estimate{label}`` — the class prior of the last ``window`` texts, estimated without labels: by BBSE
  (Lipton et al. 2018) when the run's validation split is known, else by EM (Saerens et al. 2002;
  :mod:`imblab.evaluation._prior_shift`), with ``imblab_prior_estimate_low``/``_high`` its 95 % bootstrap interval;
* ``imblab_prior_shift`` — 1 when the training prior lies outside that interval for some label (the mix moved);
* ``imblab_prior_window_texts`` — how many texts the window holds.

The estimate is recomputed when it is read (``/metrics``, ``/prior``, a request asking for ``prior: "estimate"``)
and the window has changed since; it needs at least 2 texts, before that it is the training prior.

Several server processes (``imblab serve --workers N``) share their counts through ``prometheus_client``'s
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``imblab serve``): the counters and the histogram add up
over the workers, whichever answers the scrape. Each worker keeps the prior window of the texts *it* answered, a
random share of the traffic; the prior gauges are those of the worker that answered the scrape (``mostrecent``).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..evaluation import EMCalibration, PriorEstimate, em_calibration, estimate_prior_from_outputs

__all__ = ["Monitor", "MetricsMiddleware", "DEFAULT_WINDOW"]

DEFAULT_WINDOW = 5000
_BOOTSTRAP = 100  # replicates of the window estimate's interval: a scrape stays well under a second


class Monitor:
    """The counters and the prior window of one served model.

    Args:
        labels: the model's labels.
        training_prior: (C,) its training prior.
        window: how many recent texts the prior estimate reads.
        validation: (probabilities at the training prior, labels, the model's decisions) of the run's validation
            split, when known: the window is then estimated by BBSE (Lipton et al. 2018), the more robust method
            under large shifts (``benchmarks/prior_shift.py``); without it, by EM.
    """

    def __init__(self, labels: list[str], training_prior: np.ndarray, *, window: int = DEFAULT_WINDOW,
                 validation: tuple[np.ndarray, ...] | None = None) -> None:
        self.labels = list(labels)
        self.training_prior = np.asarray(training_prior, dtype=np.float64)
        self.window = int(window)
        self.validation = validation
        self._rows: deque[np.ndarray] = deque(maxlen=self.window)
        self._decisions: deque[int] = deque(maxlen=self.window)
        self.method = "bbse" if validation is not None and len(validation) == 3 else "em"
        self._lock = threading.Lock()
        self._version = 0
        self._estimate: tuple[int, PriorEstimate | None] = (-1, None)
        self._calibration: EMCalibration | None = None  # EM's recalibration on validation, fitted at the first estimate
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        latest = {"multiprocess_mode": "mostrecent"}  # several workers: the gauges of the one answering the scrape
        self.requests = Counter("imblab_requests", "POST /predict requests, by HTTP status", ["code"],
                                registry=self.registry)
        self.latency = Histogram("imblab_request_seconds", "POST /predict latency in seconds", registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.predictions = Counter("imblab_predictions", "texts by the label the model decided", ["label"],
                                   registry=self.registry)
        self.prior = Gauge("imblab_prior_estimate", f"class prior of the last {self.window} texts ({self.method})",
                           ["label"], registry=self.registry, **latest)
        self.prior_low = Gauge("imblab_prior_estimate_low", "lower end of its 95 % bootstrap interval", ["label"],
                               registry=self.registry, **latest)
        self.prior_high = Gauge("imblab_prior_estimate_high", "upper end of its 95 % bootstrap interval", ["label"],
                                registry=self.registry, **latest)
        self.shift = Gauge("imblab_prior_shift", "1 when the training prior lies outside the window estimate's 95 % "
                           "interval for some label", registry=self.registry, **latest)
        self.window_texts = Gauge("imblab_prior_window_texts", "texts in the prior window", registry=self.registry,
                                  **latest)
        for label, p in zip(self.labels, self.training_prior):
            self.predictions.labels(label=label)
            self.prior.labels(label=label).set(p)
        self.shift.set(0)

    # ------------------------------------------------------------------ recording
    def observe(self, proba_true: np.ndarray, decisions: np.ndarray) -> None:
        """Texts answered: their probabilities at the training prior (the window's) and decided labels."""
        for k in decisions:
            self.predictions.labels(label=self.labels[int(k)]).inc()
        with self._lock:
            self._rows.extend(np.asarray(proba_true, dtype=np.float64))
            self._decisions.extend(int(k) for k in decisions)
            self._version += 1

    # ------------------------------------------------------------------ the window's prior
    def estimate(self) -> PriorEstimate | None:
        """The window's prior estimate (None below 2 texts), recomputed only when the window changed."""
        with self._lock:
            version, rows, decided = self._version, np.array(self._rows), np.array(self._decisions, dtype=np.int64)
            if self._estimate[0] == version:
                return self._estimate[1]
        found = None
        if len(rows) >= 2:
            val_proba, val_y, val_pred = (*self.validation, None)[:3] if self.validation is not None else (None,) * 3
            if self.method == "em" and val_y is not None and len(val_y) > 1 and self._calibration is None:
                self._calibration = em_calibration(val_proba, val_y, n_boot=_BOOTSTRAP)  # once: validation is fixed
            found = estimate_prior_from_outputs(self.labels, rows, self.training_prior, method=self.method,
                                                pred=decided, val_proba=val_proba, val_y=val_y, val_pred=val_pred,
                                                n_boot=_BOOTSTRAP, seed=0, calibration=self._calibration)
        with self._lock:
            self._estimate = (version, found)
        return found

    def prior_vector(self) -> np.ndarray:
        """The live estimate as a (C,) prior; the training prior until the window holds 2 texts."""
        found = self.estimate()
        return self.training_prior.copy() if found is None else found.prior

    def document(self) -> dict[str, Any]:
        """``GET /prior``: the window's estimate, its interval, the training prior and whether the mix moved."""
        found = self.estimate()
        training = {label: float(p) for label, p in zip(self.labels, self.training_prior)}
        if found is None:
            return {"prior": training, "interval": None, "method": self.method, "n": len(self._rows), "window": self.window,
                    "training_prior": training, "shifted": False}
        return {**found.to_dict(), "window": self.window}

    def exposition(self) -> bytes:
        """``GET /metrics``: every metric in Prometheus' text format, the prior gauges brought up to date."""
        found = self.estimate()
        self.window_texts.set(len(self._rows))
        if found is not None:
            for label, p, lo, hi in zip(self.labels, found.prior, found.low, found.high):
                self.prior.labels(label=label).set(float(p))
                self.prior_low.labels(label=label).set(float(lo))
                self.prior_high.labels(label=label).set(float(hi))
            self.shift.set(1 if found.shifted else 0)
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        everyone = CollectorRegistry()
        multiprocess.MultiProcessCollector(everyone)
        return generate_latest(everyone)


class MetricsMiddleware:
    """Pure ASGI: counts ``POST /predict`` by status and times it, whatever answered (the route, a validation
    error, a limit) — the request counter and the latency histogram of :class:`Monitor`."""

    def __init__(self, app: Any, monitor: Monitor) -> None:
        self.app, self.monitor = app, monitor

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/predict" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        import time

        started, status = time.perf_counter(), [500]

        async def recording(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            self.monitor.requests.labels(code=str(status[0])).inc()
            self.monitor.latency.observe(time.perf_counter() - started)
