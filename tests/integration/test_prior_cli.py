"""Issue 25: ``imblab prior`` and ``predict --deploy-prior estimate`` on a real model (TF-IDF, ``weighted``, SMS spam's
default split): the test split's texts resampled without labels to 5 % and 30 % spam give estimates within 3 points;
bad inputs are one line and exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.test_cli_robustness import cli
from tests.unit.test_cli_errors import assert_one_line_error


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imblab.cli import main

    out = tmp_path_factory.mktemp("prior") / "run"
    assert main(["train", "sms_spam", "--backend", "tfidf", "--technique", "weighted", "--out", str(out), "--json"]) == 0
    return out


def _mix(run_dir: Path, share: float, n: int, path: Path) -> Path:
    """The run's test texts resampled to ``share`` spam (``n`` texts), one per line, labels dropped."""
    test = pd.read_csv(run_dir / "predictions.csv")
    spam, ham = test[test["label"] == "spam"], test[test["label"] == "ham"]
    k = round(share * n)
    rows = pd.concat([spam.sample(k, replace=k > len(spam), random_state=1),
                      ham.sample(n - k, replace=n - k > len(ham), random_state=1)]).sample(frac=1, random_state=2)
    path.write_text("".join(" ".join(str(t).split()) + "\n" for t in rows["text"]))
    return path


@pytest.mark.parametrize("share, n", [(0.05, 500), (0.30, 250)])
@pytest.mark.parametrize("method", ["em", "bbse"])
def test_the_estimate_is_within_3_points(run_dir: Path, tmp_path: Path, capsys, share: float, n: int,
                                         method: str) -> None:
    texts = _mix(run_dir, share, n, tmp_path / "texts.txt")
    result = cli(capsys, "prior", run_dir, "--file", texts, "--method", method, "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["method"] == method and got["n"] == n
    assert abs(got["prior"]["spam"] - share) <= 0.03, got
    low, high = got["interval"]["spam"]
    assert low <= got["prior"]["spam"] <= high
    assert got["training_prior"]["spam"] == pytest.approx(0.134, abs=0.002) and got["shifted"]


def test_predict_corrects_to_the_estimated_prior(run_dir: Path, tmp_path: Path, capsys) -> None:
    texts = _mix(run_dir, 0.05, 400, tmp_path / "texts.txt")
    plain = cli(capsys, "predict", run_dir, "--file", texts, "--json")
    estimated = cli(capsys, "predict", run_dir, "--file", texts, "--deploy-prior", "estimate", "--json")
    assert plain.returncode == 0 and estimated.returncode == 0, estimated.stderr
    rows, payload = json.loads(plain.stdout), json.loads(estimated.stdout)
    assert abs(payload["prior_estimate"]["prior"]["spam"] - 0.05) <= 0.03
    moved = payload["predictions"]
    assert len(moved) == len(rows) == 400
    # At a spam prior of ~5 % instead of 13.4 %, every text's spam probability goes down.
    assert all(m["probabilities"]["spam"] <= r["probabilities"]["spam"] + 1e-12 for m, r in zip(moved, rows))
    assert sum(m["probabilities"]["spam"] < r["probabilities"]["spam"] - 1e-6 for m, r in zip(moved, rows)) > 300
    shown = cli(capsys, "predict", run_dir, "--file", texts, "--deploy-prior", "estimate")
    assert shown.returncode == 0 and "deployment prior estimated from these 400 texts" in shown.stderr


def test_bad_inputs_are_one_line(run_dir: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_one_line_error(cli(capsys, "prior", run_dir, "--file", empty), "nothing to estimate from")
    assert_one_line_error(cli(capsys, "prior", run_dir, "just one text"), "at least 2 texts")
    model_only = tmp_path / "model-only"
    shutil.copytree(run_dir / "model", model_only)  # a model folder without its run: no validation split
    two = tmp_path / "two.txt"
    two.write_text("hello there\nwin a prize now\n")
    assert_one_line_error(cli(capsys, "prior", model_only, "--file", two, "--method", "bbse"), "bbse needs")
    assert cli(capsys, "prior", model_only, "--file", two, "--json").returncode == 0  # EM needs no validation
    assert_one_line_error(cli(capsys, "prior", tmp_path / "nothing-here", "a", "b"))
