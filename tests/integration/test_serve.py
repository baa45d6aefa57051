"""`imblab serve` as users run it: uvicorn in a subprocess on 127.0.0.1, called over HTTP (issue 14).

Answers must equal ``load_model(...)`` exactly for single requests. Gathered into one forward pass
with other requests, a transformer's rows are padded to a different length and move in the last
bits (measured on the fine-tuned MiniLM in fp32: |Δp| ≤ 1e-8; in bf16, the default on a CPU with AVX512-BF16
or AMX: ≤ 1e-5), so concurrent MiniLM answers are compared within 1e-6 in fp32, 1e-3 in bf16; TF-IDF rows do not depend on their batch and are compared exactly everywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.unit.test_cli_errors import assert_one_line_error, run_cli

KEY = "s3cret-key"
PRIORS: list[Any] = ["true", "raw", {"spam": 0.02, "ham": 0.98}, {"spam": 0.1}]  # one label left out: the rest


# ---------------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> int:
        """SIGTERM (as a service manager stops it), then the exit code; killed if it hangs, with every process it
        started (``--workers``: the worker processes, which outlive a killed supervisor)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own process group: start_server
                self.process.wait()
        return int(self.process.returncode)


def start_server(model_dir: Path, log: Path, *args: str) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "IMBLAB_API_KEY"}
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the server's access log
        command = [sys.executable, "-m", "imblab", "serve", str(model_dir), "--port", str(port), *args]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"imblab serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"imblab serve did not answer /health in 180 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def texts(sms) -> list[str]:
    rng = np.random.default_rng(14)
    spam = [t for t, label in zip(sms.texts, sms.labels) if label == "spam"]
    ham = [t for t, label in zip(sms.texts, sms.labels) if label == "ham"]
    return ([spam[i] for i in rng.choice(len(spam), 40, replace=False)]
            + [ham[i] for i in rng.choice(len(ham), 80, replace=False)])


def train(out: Path, *args: str) -> Path:
    command = [sys.executable, "-m", "imblab", "train", "sms_spam", "--technique", "weighted:posthoc=threshold",
               "--out", str(out), "--json", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)  # a busy 2-core box is slow
    assert result.returncode == 0, result.stderr
    return out


def post(server: Server, body: Any, *, key: str | None = KEY, **kwargs: Any) -> httpx.Response:
    headers = {"X-API-Key": key} if key is not None else {}
    return httpx.post(f"{server.url}/predict", json=body, headers=headers, timeout=120, **kwargs)


def expected(model: Any, texts: list[str], prior: Any) -> list[dict[str, Any]]:
    proba = model.predict_proba(texts, prior=prior)
    return [{"label": label, "probabilities": dict(zip(model.labels, row.tolist()))}
            for label, row in zip(model.predict(texts), proba)]


async def concurrent_answers(server: Server, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=server.url, timeout=300, limits=limits, headers={"X-API-Key": KEY}) as client:
        return await asyncio.gather(*(client.post("/predict", json=body) for body in bodies))


def concurrent_bodies(texts: list[str], n: int = 100) -> list[dict[str, Any]]:
    rng = np.random.default_rng(100)
    return [{"texts": [texts[j] for j in rng.choice(len(texts), int(rng.integers(1, 4)), replace=False)],
             "prior": PRIORS[i % len(PRIORS)]} for i in range(n)]


def info(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/info", headers={"X-API-Key": KEY}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------- tfidf
@pytest.fixture(scope="module")
def tfidf_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("serve") / "tfidf", "--backend", "tfidf", "--limit", "1000")


@pytest.fixture(scope="module")
def tfidf_model(tfidf_run: Path):
    from imblab import load_model

    return load_model(tfidf_run / "model")


@pytest.fixture(scope="module")
def tfidf_server(tfidf_run: Path, tmp_path_factory) -> Iterator[Server]:
    server = start_server(tfidf_run, tmp_path_factory.mktemp("logs") / "tfidf.log", "--api-key", KEY,
                          "--max-wait-ms", "20", "--max-texts", "50", "--max-chars", "1000",
                          "--max-body-bytes", "200000")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("prior", [None, *PRIORS], ids=["default", "true", "raw", "mapping", "one label"])
def test_tfidf_answers_equal_load_model_exactly(tfidf_server: Server, tfidf_model, texts: list[str], prior) -> None:
    body: dict[str, Any] = {"texts": texts[:50]}
    if prior is not None:
        body["prior"] = prior
    response = post(tfidf_server, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(tfidf_model, texts[:50], prior or "true"), "truncated": []}


@pytest.mark.parametrize("costs,deploy_prior", [("fn=10,fp=1", "spam=0.02"), ({"fn": 1, "fp": 5}, None),
                                                ({"matrix": [[0, 1], [20, 0]], "labels": ["ham", "spam"]}, {"spam": 0.3})],
                         ids=["text", "table", "matrix"])
def test_costs_give_the_cost_optimal_label_of_the_model(tfidf_server: Server, tfidf_model, texts: list[str],
                                                          costs: Any, deploy_prior: Any) -> None:
    body = {"texts": texts[:50], "costs": costs, **({"deploy_prior": deploy_prior} if deploy_prior else {})}
    response = post(tfidf_server, body)
    assert response.status_code == 200, response.text
    decided = tfidf_model.decide_by_cost(texts[:50], costs=costs, deploy_prior=deploy_prior)
    rows = response.json()["predictions"]
    assert [row["cost_label"] for row in rows] == decided.labels
    assert [row["expected_cost"] for row in rows] == decided.expected_cost.tolist()
    # The probabilities and the model's own label are those asked for without costs.
    assert [{k: row[k] for k in ("label", "probabilities")} for row in rows] == expected(tfidf_model, texts[:50], "true")


def test_a_long_text_is_cut_to_max_chars(tfidf_server: Server, tfidf_model) -> None:
    long = "Claim your FREE prize now, call 09061701461 " * 40 + "and then some more words at the end"
    response = post(tfidf_server, {"texts": ["hello there", long]})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(tfidf_model, ["hello there", long[:1000]], "true"),
                               "truncated": [1]}


def test_info_describes_the_model_and_its_run(tfidf_server: Server, tfidf_model, tfidf_run: Path, texts) -> None:
    body = info(tfidf_server)
    model = tfidf_model
    assert body["labels"] == ["ham", "spam"] and body["backend"] == "tfidf"
    assert body["technique"]["spec"] == model.technique.spec == "weighted:posthoc=threshold"
    assert body["training_prior"] == dict(zip(model.labels, model.true_prior.tolist()))
    assert body["effective_prior"] == dict(zip(model.labels, model.effective_prior.tolist()))
    assert body["training_prior"] != body["effective_prior"]
    metrics = json.loads((tfidf_run / "metrics.json").read_text())
    assert body["test_metrics"]["test"] == metrics["test"]
    assert body["test_metrics"]["test_prior_corrected"] == metrics["test_prior_corrected"]
    assert body["source"]["run_dir"] == str(tfidf_run)
    assert body["versions"]["trained_with"]["torch"] and body["versions"]["serving"]["fastapi"]
    assert body["limits"] == {"max_texts": 50, "max_chars": 1000, "max_body_bytes": 200000}
    assert body["batching"]["enabled"] and body["batching"]["max_wait_ms"] == 20
    # The thresholds are the decision rule: spam iff its probability passes the cut-off, raw or corrected.
    cut = body["thresholds"]
    assert cut["decision_offset"] is not None and cut["raw"]["spam"] != 0.5
    raw, true = model.predict_proba(texts, prior="raw")[:, 1], model.predict_proba(texts)[:, 1]
    decided_spam = np.array(model.predict(texts)) == "spam"
    np.testing.assert_array_equal(decided_spam, raw > cut["raw"]["spam"])
    np.testing.assert_array_equal(decided_spam, true > cut["true"]["spam"])
    assert 0 < decided_spam.sum() < len(texts)


def test_openapi_docs(tfidf_server: Server) -> None:
    docs = httpx.get(f"{tfidf_server.url}/docs", timeout=30)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{tfidf_server.url}/openapi.json", timeout=30).json()
    assert {"/predict", "/info", "/health"} <= set(spec["paths"])
    request = spec["components"]["schemas"]["PredictRequest"]
    assert set(request["properties"]) == {"texts", "prior", "costs", "deploy_prior"} and request["required"] == ["texts"]
    assert "X-API-Key" in json.dumps(spec["components"]["securitySchemes"])


BAD_REQUESTS = {
    "malformed JSON": (dict(content=b'{"texts": ["a",', headers={"content-type": "application/json"}), 400, "JSON"),
    "not JSON": (dict(content=b'{"texts": ["a"]}', headers={"content-type": "text/plain"}), 415, "Content-Type"),
    "no body": (dict(content=b"", headers={"content-type": "application/json"}), 422, "texts"),
    "array body": (dict(json=["a", "b"]), 422, "JSON object"),
    "texts missing": (dict(json={"prior": "raw"}), 422, "texts"),
    "texts a string": (dict(json={"texts": "hello"}), 422, "list of strings"),
    "texts hold a number": (dict(json={"texts": ["ok", 3]}), 422, "texts[1]"),
    "texts hold null": (dict(json={"texts": [None]}), 422, "texts[0]"),
    "empty list": (dict(json={"texts": []}), 422, "at least one"),
    "unknown field": (dict(json={"texts": ["a"], "priors": "raw"}), 422, "priors"),
    "unknown prior keyword": (dict(json={"texts": ["a"], "prior": "deployment"}), 422, "deployment"),
    "prior a number": (dict(json={"texts": ["a"], "prior": 0.5}), 422, "prior"),
    "unknown prior label": (dict(json={"texts": ["a"], "prior": {"spam": 0.1, "eggs": 0.9}}), 422, "eggs"),
    "missing prior label": (dict(json={"texts": ["a"], "prior": {"spam": 1.0}}), 422, "ham"),
    "prior not a distribution": (dict(json={"texts": ["a"], "prior": {"ham": 3, "spam": 1}}), 422, "(0, 1]"),
    "zero prior": (dict(json={"texts": ["a"], "prior": {"spam": 0, "ham": 1}}), 422, "(0, 1]"),
    "negative prior": (dict(json={"texts": ["a"], "prior": {"spam": -1, "ham": 2}}), 422, "(0, 1]"),
    "negative cost": (dict(json={"texts": ["a"], "costs": "fn=-1,fp=1"}), 422, "fn"),
    "cost not a number": (dict(json={"texts": ["a"], "costs": {"fn": "ten", "fp": 1}}), 422, "fn"),
    "cost matrix of the wrong shape": (dict(json={"texts": ["a"], "costs": {"matrix": [[0, 1, 2], [1, 0, 2]]}}),
                                       422, "matrix"),
    "deployment prior of an unknown label": (dict(json={"texts": ["a"], "deploy_prior": "eggs=0.5"}), 422, "eggs"),
    "prior as text": (dict(json={"texts": ["a"], "prior": {"spam": "0.1", "ham": 0.9}}), 422, "spam"),
    "prior not finite": (dict(content=b'{"texts": ["a"], "prior": {"spam": NaN, "ham": 1}}',
                              headers={"content-type": "application/json"}), 422, "finite"),
    # Issue 21 (7): a 300-digit cost was an OverflowError (500, a traceback in the log); a cost that is no
    # text or object was pydantic's "costs.str: input should be…".
    "cost of 300 digits": (dict(content=b'{"texts": ["a"], "costs": {"matrix": [[0, 1], [1' + b"0" * 300
                                + b', 0]], "labels": ["ham", "spam"]}}', headers={"content-type": "application/json"}),
                           422, "at most"),
    "costs a number": (dict(json={"texts": ["a"], "costs": 5}), 422, "costs must be a text such as"),
    "deploy_prior a list": (dict(json={"texts": ["a"], "deploy_prior": [0.5]}), 422, "deploy_prior must be"),
    "too many texts": (dict(json={"texts": ["a"] * 51}), 413, "50"),
    "body too large": (dict(json={"texts": ["a" * 250_000]}), 413, "200,000 bytes"),
    "chunked body too large": (dict(content=[b'{"texts": ["', b"a" * 150_000, b"a" * 150_000, b'"]}'],
                                    headers={"content-type": "application/json"}), 413, "200,000 bytes"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_every_bad_request_gets_a_4xx_with_one_sentence(tfidf_server: Server, case: str) -> None:
    kwargs, status, needle = BAD_REQUESTS[case]
    kwargs = dict(kwargs)
    headers = {"X-API-Key": KEY, **kwargs.pop("headers", {})}
    response = httpx.post(f"{tfidf_server.url}/predict", headers=headers, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    detail = body["detail"]
    assert needle in detail
    assert "\n" not in detail and detail.endswith(".") and len(detail) < 200 and "Traceback" not in detail
    assert "Traceback" not in tfidf_server.log.read_text(errors="replace")  # no request crashed the server


def test_wrong_method_and_path_are_4xx(tfidf_server: Server) -> None:
    assert httpx.get(f"{tfidf_server.url}/predict", timeout=30).status_code == 405
    assert httpx.get(f"{tfidf_server.url}/nowhere", timeout=30).json() == {"detail": "Not Found"}


def test_api_key(tfidf_server: Server) -> None:
    body = {"texts": ["hello"]}
    for key in (None, "wrong", KEY[:-1], ""):
        response = post(tfidf_server, body, key=key)
        assert response.status_code == 401 and "X-API-Key" in response.json()["detail"], key
        assert httpx.get(f"{tfidf_server.url}/info", headers={"X-API-Key": key} if key else {}).status_code == 401
    # Without the key even a bad body is refused first: nothing about the API leaks.
    assert post(tfidf_server, {"texts": []}, key=None).status_code == 401
    assert post(tfidf_server, body).status_code == 200
    assert httpx.get(f"{tfidf_server.url}/health", timeout=30).json() == {"status": "ok"}


def test_100_concurrent_requests_are_all_answered_exactly(tfidf_server: Server, tfidf_model, texts) -> None:
    before = info(tfidf_server)["batching"]
    bodies = concurrent_bodies(texts)
    responses = asyncio.run(concurrent_answers(tfidf_server, bodies))
    for body, response in zip(bodies, responses):
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == expected(tfidf_model, body["texts"], body["prior"])
    after = info(tfidf_server)["batching"]
    requests, batches = after["requests"] - before["requests"], after["batches"] - before["batches"]
    assert requests == 100 and batches < requests  # gathered: fewer forward passes than requests
    assert after["largest_batch"] <= 64


def test_without_batching_each_request_is_its_own_pass_and_sigterm_stops_cleanly(tfidf_run, tfidf_model, texts,
                                                                                  tmp_path) -> None:
    # Started with default costs: every answer also carries the cost-optimal label at those costs and prior.
    server = start_server(tfidf_run / "model", tmp_path / "server.log", "--max-wait-ms", "0", "--api-key", KEY,
                          "--costs", "fn=10,fp=1", "--deploy-prior", "spam=0.02")
    try:
        bodies = concurrent_bodies(texts, n=12)
        responses = asyncio.run(concurrent_answers(server, bodies))
        for body, response in zip(bodies, responses):
            rows = response.json()["predictions"]
            assert [{k: row[k] for k in ("label", "probabilities")} for row in rows] == expected(
                tfidf_model, body["texts"], body["prior"])
            decided = tfidf_model.decide_by_cost(body["texts"], costs="fn=10,fp=1", deploy_prior="spam=0.02")
            assert [row["cost_label"] for row in rows] == decided.labels
        assert info(server)["costs"] is not None
        batching = info(server)["batching"]
        assert not batching["enabled"] and batching["batches"] == batching["requests"] == 12
        assert info(server)["test_metrics"] is None  # served from the model folder: no run metrics
    finally:
        code = server.stop()
    assert code == 0
    assert "imblab: server stopped" in (tmp_path / "server.log").read_text()


# ---------------------------------------------------------------------------------------------- CLI errors
def test_serve_cli_errors(tmp_path: Path, tfidf_run: Path, tfidf_server: Server) -> None:
    assert_one_line_error(run_cli("serve", str(tmp_path / "nowhere")), str(tmp_path / "nowhere"))
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("not a model")
    assert_one_line_error(run_cli("serve", str(tmp_path / "foreign")), "imblab model")
    run = str(tfidf_run)
    assert_one_line_error(run_cli("serve", run, "--port", "70000"), "--port")
    assert_one_line_error(run_cli("serve", run, "--port", "eighty"), "--port")
    assert_one_line_error(run_cli("serve", run, "--max-batch", "-1"), "--max-batch")
    assert_one_line_error(run_cli("serve", run, "--max-wait-ms", "-5"), "--max-wait-ms")
    assert_one_line_error(run_cli("serve", run, "--max-texts", "0"), "--max-texts")
    assert_one_line_error(run_cli("serve", run, "--api-key", " "), "api-key")
    assert_one_line_error(run_cli("serve", run, "--host", "no-such-host.invalid"), "no-such-host.invalid")
    port = tfidf_server.url.rsplit(":", 1)[1]
    assert_one_line_error(run_cli("serve", run, "--port", port), f"127.0.0.1:{port}")


def test_serve_without_the_extra_says_how_to_install_it(tfidf_run: Path) -> None:
    # ``None`` in sys.modules makes ``import fastapi`` fail, as in an environment without the extra.
    code = ("import sys; sys.modules['fastapi'] = None; from imblab.cli import main; "
            f"sys.exit(main(['serve', {str(tfidf_run)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 'pip install "imblab[serve]"')


# ---------------------------------------------------------------------------------------------- fine-tuned MiniLM
@pytest.fixture(scope="module")
def minilm_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("serve") / "minilm", "--backend", "finetune", "--limit", "300",
                 "--epochs", "1")


@pytest.fixture(scope="module")
def minilm_model(minilm_run: Path):
    from imblab import load_model

    return load_model(minilm_run / "model")


@pytest.fixture(scope="module")
def minilm_server(minilm_run: Path, tmp_path_factory) -> Iterator[Server]:
    server = start_server(minilm_run, tmp_path_factory.mktemp("logs") / "minilm.log", "--api-key", KEY,
                          "--max-wait-ms", "20")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("prior", PRIORS, ids=["true", "raw", "mapping", "one label"])
def test_minilm_single_requests_equal_load_model_exactly(minilm_server: Server, minilm_model, texts, prior) -> None:
    for batch in (texts[:1], texts[30:50]):
        response = post(minilm_server, {"texts": batch, "prior": prior})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == expected(minilm_model, batch, prior)


@pytest.mark.slow
def test_minilm_100_concurrent_requests(minilm_server: Server, minilm_model, texts) -> None:
    texts = texts[:40]
    bodies = concurrent_bodies(texts)
    responses = asyncio.run(concurrent_answers(minilm_server, bodies))
    # The reference in one call per prior (a forward pass per request takes ~0.5 s on a busy 2-core box):
    # a batch of its own composition, so this comparison needs the tolerance anyway.
    labels = minilm_model.predict(texts)
    reference = {
        json.dumps(prior): {text: {"label": label, "probabilities": dict(zip(minilm_model.labels, row.tolist()))}
                            for text, label, row in zip(texts, labels, minilm_model.predict_proba(texts, prior))}
        for prior in PRIORS
    }
    for body, response in zip(bodies, responses):
        assert response.status_code == 200, response.text
        got, want = response.json()["predictions"], [reference[json.dumps(body["prior"])][t] for t in body["texts"]]
        assert [row["label"] for row in got] == [row["label"] for row in want]
        for a, b in zip(got, want):
            # In bf16 (auto on a CPU with AVX512-BF16 or AMX) a batch's padding changes the kernels' rounding.
            np.testing.assert_allclose(list(a["probabilities"].values()), list(b["probabilities"].values()),
                                       rtol=0, atol=1e-6 if minilm_model.precision == "no" else 1e-3)
    body = info(minilm_server)
    assert body["batching"]["batches"] < body["batching"]["requests"]
    assert body["backend"] == "finetune" and body["max_length"] == 128 and body["model_name"]
