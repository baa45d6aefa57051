"""Issue 21, "checks that can fail": every documented option that no test ran end to end, run from the CLI.

Each test would fail if its option stopped working: it compares a run made with the option against one made
without it (the numbers must move, or the stored settings must say so), not only that the command exits 0.
Models are tiny (a 1-layer BERT built from a config) or TF-IDF on a few hundred rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from imblab.cli import main
from tests.integration.test_cli_robustness import Result, cli
from tests.integration.test_hostile_inputs import _tiny_bert
from tests.integration.test_serve import start_server

SMALL = ("--backend", "tfidf", "--limit", "600")


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_bert(tmp_path_factory.mktemp("encoder"))


def metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def config(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())


def probe(run: Path) -> float:
    return metrics(run)["probes"][0]["raw"]["spam"]


def train(capsys, out: Path, *args: object) -> Path:
    result: Result = cli(capsys, "train", "sms_spam", "--out", out, *args)
    assert result.returncode == 0, result.stderr
    return out


# ---------------------------------------------------------------------------------------------- compare
def test_compare_frozen_succeeds_and_pooling_changes_the_embeddings(encoder: Path, tmp_path: Path, capsys) -> None:
    study = tmp_path / "frozen"
    result = cli(capsys, "compare", "sms_spam", "--backend", "frozen", "--model", encoder, "--limit", "300",
                 "--max-length", "32", "--techniques", "baseline,weighted", "--seeds", "1", "--out", study)
    assert result.returncode == 0, result.stderr
    results = pd.read_csv(study / "results.csv")
    assert {"baseline", "weighted"} <= set(results["technique"]) and (study / "report.html").is_file()
    run = study / "runs" / "baseline__seed0"
    assert metrics(run)["backend"] == "frozen" and config(run)["training"]["pooling"] == "mean"
    cls = train(capsys, tmp_path / "cls", "--backend", "frozen", "--model", encoder, "--limit", "300",
                "--max-length", "32", "--pooling", "cls")
    assert config(cls)["training"]["pooling"] == "cls"
    assert probe(cls) != pytest.approx(probe(run), abs=1e-9)  # other features, other probabilities


def test_compare_finetune_succeeds(encoder: Path, tmp_path: Path, capsys) -> None:
    study = tmp_path / "finetune"
    result = cli(capsys, "compare", "sms_spam", "--backend", "finetune", "--model", encoder, "--limit", "300",
                 "--max-length", "32", "--epochs", "1", "--batch-size", "16", "--techniques", "baseline,focal",
                 "--seeds", "1", "--out", study)
    assert result.returncode == 0, result.stderr
    assert set(pd.read_csv(study / "results.csv")["technique"]) >= {"baseline", "focal"}
    assert metrics(study / "runs" / "focal__seed0")["backend"] == "finetune"


# ---------------------------------------------------------------------------------------------- the SGD loop
LOOP_OPTIONS = {
    "--weight-decay": ("weight_decay", "0.5"),
    "--warmup-ratio": ("warmup_ratio", "0.9"),
    "--max-grad-norm": ("max_grad_norm", "0.001"),
}


@pytest.fixture(scope="module")
def finetuned(encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ft") / "plain"
    assert main(["train", "sms_spam", "--backend", "finetune", "--model", str(encoder), "--limit", "300",
                 "--max-length", "32", "--epochs", "1", "--batch-size", "16", "--lr", "1e-3", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("flag", list(LOOP_OPTIONS))
def test_each_loop_option_reaches_the_loop(encoder: Path, finetuned: Path, tmp_path: Path, flag: str,
                                           capsys) -> None:
    field, value = LOOP_OPTIONS[flag]
    run = train(capsys, tmp_path / "run", "--backend", "finetune", "--model", encoder, "--limit", "300",
                "--max-length", "32", "--epochs", "1", "--batch-size", "16", "--lr", "1e-3", flag, value)
    assert config(run)["training"]["loop"][field] == float(value)
    # The same seed and data: only the option differs, so the trained weights (and the probe) must differ.
    assert probe(run) != pytest.approx(probe(finetuned), abs=1e-7)


def test_patience_stops_training_early(encoder: Path, tmp_path: Path, capsys) -> None:
    common = ("--backend", "finetune", "--model", encoder, "--limit", "300", "--max-length", "32",
              "--epochs", "4", "--batch-size", "16", "--lr", "1e-12")  # a rate so small nothing ever improves
    full = train(capsys, tmp_path / "full", *common)
    patient = train(capsys, tmp_path / "patient", *common, "--patience", "1")
    assert len((full / "train.log").read_text().splitlines()) == 4
    assert len((patient / "train.log").read_text().splitlines()) == 2  # epoch 2 did not beat epoch 1: stop
    assert config(patient)["training"]["loop"]["patience"] == 1


def test_mixed_precision_is_recorded(encoder: Path, tmp_path: Path, capsys) -> None:
    run = train(capsys, tmp_path / "run", "--backend", "finetune", "--model", encoder, "--limit", "300",
                "--max-length", "32", "--epochs", "1", "--mixed-precision", "no")
    assert config(run)["training"]["loop"]["mixed_precision"] == "no"
    result = cli(capsys, "train", "sms_spam", "--backend", "finetune", "--mixed-precision", "fp8", "--out", tmp_path / "x")
    assert result.returncode == 2 and "mixed" in result.stderr


# ---------------------------------------------------------------------------------------------- data options
def test_dedupe_removes_repeated_texts(tmp_path: Path, capsys) -> None:
    plain = json.loads(cli(capsys, "data", "inspect", "sms_spam", "--json").stdout)
    deduped = json.loads(cli(capsys, "data", "inspect", "sms_spam", "--dedupe", "--json").stdout)
    assert deduped["n_rows"] == plain["n_rows"] - deduped["removed_duplicates"]
    assert deduped["removed_duplicates"] > 300 and deduped["duplicate_texts"] == 0  # SMS spam repeats 403 texts
    assert plain["duplicate_texts"] > 0
    run = train(capsys, tmp_path / "run", *SMALL, "--dedupe")
    texts = pd.read_csv(run / "predictions.csv")["text"]
    assert texts.is_unique and config(run)["dataset"]["removed_duplicates"] > 0


def test_split_options_shape_the_split(tmp_path: Path, capsys) -> None:
    default = train(capsys, tmp_path / "default", *SMALL)
    custom = train(capsys, tmp_path / "custom", *SMALL, "--split-seed", "7", "--val-fraction", "0.2",
                   "--test-fraction", "0.3")
    split, base = config(custom)["split"], config(default)["split"]
    n = len(split["train"]) + len(split["validation"]) + len(split["test"])
    assert n == 600
    assert abs(len(split["test"]) - 180) <= 2 and abs(len(split["validation"]) - 120) <= 2
    assert abs(len(base["test"]) - 60) <= 2
    assert split["seed"] == 7 and set(split["test"]) != set(base["test"])


# ---------------------------------------------------------------------------------------------- predict options
def test_predict_raw_text_column_and_encoding(tmp_path: Path, capsys) -> None:
    run = train(capsys, tmp_path / "run", *SMALL, "--technique", "weighted")
    texts = ["Café: WIN a prize, call now", "see you at the café tonight"]
    data = tmp_path / "latin.csv"
    data.write_bytes(pd.DataFrame({"id": [1, 2], "body": texts}).to_csv(index=False).encode("latin-1"))
    corrected = json.loads(cli(capsys, "predict", run, "--file", data, "--text-column", "body",
                               "--encoding", "latin-1", "--json").stdout)
    raw = json.loads(cli(capsys, "predict", run, "--file", data, "--text-column", "body", "--encoding", "latin-1",
                         "--raw", "--json").stdout)
    assert [row["text"] for row in corrected] == texts  # the body column, decoded as latin-1
    from imblab import load_model

    model = load_model(run / "model")
    assert np.allclose([list(r["probabilities"].values()) for r in corrected], model.predict_proba(texts))
    assert np.allclose([list(r["probabilities"].values()) for r in raw], model.predict_proba(texts, prior="raw"))
    assert not np.allclose(model.predict_proba(texts), model.predict_proba(texts, prior="raw"))  # weighted moves it
    wrong = cli(capsys, "predict", run, "--file", data, "--text-column", "body")  # latin-1 bytes read as utf-8
    assert wrong.returncode == 2 and "utf-8" in wrong.stderr.lower()
    missing = cli(capsys, "predict", run, "--file", data, "--text-column", "nope", "--encoding", "latin-1")
    assert missing.returncode == 2 and "nope" in missing.stderr


# ---------------------------------------------------------------------------------------------- serve, tune
def test_serve_a_frozen_model(encoder: Path, tmp_path: Path, capsys) -> None:
    run = train(capsys, tmp_path / "run", "--backend", "frozen", "--model", encoder, "--limit", "300",
                "--max-length", "32")
    server = start_server(run, tmp_path / "serve.log")
    try:
        texts = ["Call to claim your prize!", "ok see you later"]
        answer = httpx.post(f"{server.url}/predict", json={"texts": texts}, timeout=120)
        assert answer.status_code == 200, answer.text
        from imblab import load_model

        expected = load_model(run / "model").predict_proba(texts)
        got = [list(p["probabilities"].values()) for p in answer.json()["predictions"]]
        assert np.allclose(got, expected, atol=1e-6)
    finally:
        assert server.stop() == 0


def test_tune_metric_and_tune_training_from_the_cli(tmp_path: Path, capsys) -> None:
    result = cli(capsys, "tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "2", "--metric", "pr-auc",
                 "--tune-training", "--json", "--out", tmp_path / "t")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["metric"] == "pr_auc"
    assert "C" in summary["training"] and any(p["param"] == "training:C" for p in summary["space"])
    assert "--C" in summary["train_command"]
    plain = cli(capsys, "tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "2", "--json",
                "--out", tmp_path / "plain")
    assert json.loads(plain.stdout)["metric"] == "macro_f1" and json.loads(plain.stdout)["training"] == {}
