"""Issue 25: a served model's ``GET /metrics`` (Prometheus' text format, parsed with ``prometheus_client``'s own
parser) and ``GET /prior`` — a real uvicorn server on 127.0.0.1; the window's prior estimate follows the traffic.
Issue 24: ``--workers 2`` — two server processes on one port answer as one server, their metrics added up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from imblab import load_model
from tests.integration.test_serve import Server, concurrent_answers, expected, start_server, train

WINDOW = 300


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("monitor") / "run", "--backend", "tfidf")


@pytest.fixture(scope="module")
def server(run: Path) -> Iterator[Server]:
    running = start_server(run, run.parent / "server.log", "--prior-window", str(WINDOW), "--no-access-log")
    yield running
    assert running.stop() == 0


def _mix(sms, share: float, n: int, seed: int) -> list[str]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    spam = [t for t, label in zip(sms.texts, sms.labels) if label == "spam"]
    ham = [t for t, label in zip(sms.texts, sms.labels) if label == "ham"]
    k = round(share * n)
    texts = [spam[i] for i in rng.choice(len(spam), k, replace=False)] + \
            [ham[i] for i in rng.choice(len(ham), n - k, replace=False)]
    return [texts[i] for i in rng.permutation(n)]


def _metrics(server: Server) -> dict[str, list]:  # type: ignore[type-arg]
    response = httpx.get(f"{server.url}/metrics", timeout=60)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def _send(server: Server, texts: list[str], size: int = 50) -> None:
    for start in range(0, len(texts), size):
        response = httpx.post(f"{server.url}/predict", json={"texts": texts[start:start + size]}, timeout=120)
        assert response.status_code == 200, response.text


def test_metrics_parse_and_the_window_estimate_follows_the_traffic(server: Server, sms) -> None:  # type: ignore[no-untyped-def]
    families = _metrics(server)
    for name in ("imblab_requests", "imblab_request_seconds", "imblab_predictions", "imblab_prior_estimate",
                 "imblab_prior_shift", "imblab_prior_window_texts"):
        assert name in families, sorted(families)
    # Traffic at 5 % spam, a whole window of it: the estimate comes down from the training prior (13.4 %).
    _send(server, _mix(sms, 0.05, WINDOW, seed=1))
    low = httpx.get(f"{server.url}/prior", timeout=60).json()
    assert low["n"] == WINDOW and low["window"] == WINDOW
    assert abs(low["prior"]["spam"] - 0.05) < 0.04 and low["shifted"]
    # Then a whole window at 50 % spam: the window holds only the new traffic, and the estimate follows it.
    _send(server, _mix(sms, 0.5, WINDOW, seed=2))
    families = _metrics(server)
    estimate = {s.labels["label"]: s.value for s in families["imblab_prior_estimate"] if s.name == "imblab_prior_estimate"}
    assert abs(estimate["spam"] - 0.5) < 0.08 and estimate["spam"] + estimate["ham"] == pytest.approx(1.0)
    assert [s.value for s in families["imblab_prior_shift"]] == [1.0]
    assert [s.value for s in families["imblab_prior_window_texts"]] == [WINDOW]
    requests = {s.labels["code"]: s.value for s in families["imblab_requests"] if s.name == "imblab_requests_total"}
    assert requests["200"] >= 2 * WINDOW / 50
    decided = {s.labels["label"]: s.value for s in families["imblab_predictions"] if s.name == "imblab_predictions_total"}
    assert sum(decided.values()) >= 2 * WINDOW and decided["spam"] > 0.2 * WINDOW
    count = [s.value for s in families["imblab_request_seconds"] if s.name == "imblab_request_seconds_count"]
    assert count and count[0] >= requests["200"]


def test_a_refused_request_is_counted_and_a_request_may_ask_for_the_live_estimate(server: Server, sms) -> None:  # type: ignore[no-untyped-def]
    before = {s.labels["code"]: s.value for s in _metrics(server)["imblab_requests"] if s.name.endswith("_total")}
    assert httpx.post(f"{server.url}/predict", json={"texts": []}, timeout=60).status_code == 422
    after = {s.labels["code"]: s.value for s in _metrics(server)["imblab_requests"] if s.name.endswith("_total")}
    assert after.get("422", 0) == before.get("422", 0) + 1
    text = ["WINNER!! Claim your free prize now, call 09061701461"]
    at_training = httpx.post(f"{server.url}/predict", json={"texts": text}, timeout=60).json()
    live = httpx.post(f"{server.url}/predict", json={"texts": text, "prior": "estimate"}, timeout=60).json()
    estimate = httpx.get(f"{server.url}/prior", timeout=60).json()["prior"]
    explicit = httpx.post(f"{server.url}/predict", json={"texts": text, "prior": estimate}, timeout=60).json()
    p_live = live["predictions"][0]["probabilities"]["spam"]
    assert p_live == pytest.approx(explicit["predictions"][0]["probabilities"]["spam"], abs=1e-9)
    # The window is at ~50 % spam now, above the training prior: the live spam probability is higher.
    assert p_live > at_training["predictions"][0]["probabilities"]["spam"]


def test_worker_processes_share_the_port_and_add_up_their_metrics(run: Path, tmp_path: Path, sms,  # type: ignore[no-untyped-def]
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"  # where the server makes its metrics folder (TMPDIR), to see it removed
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    texts = _mix(sms, 0.3, 60, seed=3)
    server = start_server(run, tmp_path / "server.log", "--workers", "2", "--no-access-log")
    try:
        answers = asyncio.run(concurrent_answers(server, [{"texts": [text]} for text in texts]))
        model = load_model(run / "model")
        for text, answer in zip(texts, answers):
            assert answer.status_code == 200 and answer.json()["predictions"] == expected(model, [text], "true")
        assert len(list(scratch.glob("imblab-metrics-*"))) == 1
        for _ in range(4):  # whichever worker answers the scrape: the counts of both
            families = _metrics(server)
            done = {s.labels["code"]: s.value for s in families["imblab_requests"] if s.name.endswith("_total")}
            assert done == {"200": len(texts)}
            decided = sum(s.value for s in families["imblab_predictions"] if s.name.endswith("_total"))
            assert decided == len(texts)
            assert [s.value for s in families["imblab_request_seconds"] if s.name.endswith("_count")] == [len(texts)]
            assert 0 < sum(s.value for s in families["imblab_prior_estimate"]) == pytest.approx(1.0)
    finally:
        assert server.stop() == 0
    log = server.log.read_text()
    assert "2 worker processes" in log and log.count("Started server process") == 2, log
    assert not list(scratch.glob("imblab-metrics-*"))  # removed with the server
