"""Issue 23: several backends in one study (``compare --backend tfidf,hybrid``) — one split, a ``backend`` column,
the (backend, technique) chosen on validation named in the reading and summary.md and shipped as the chosen
model; resumable after SIGKILL to identical results; a one-backend study keeps its layout.

TF-IDF and the hybrid backend (TF-IDF ⊕ the bundled all-MiniLM-L6-v2, real embeddings) on 600 SMS texts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imblab.study import load_study
from tests.integration.test_cli_robustness import cli
from tests.integration.test_study_safety import assert_same_results
from tests.unit.test_cli_errors import assert_one_line_error

STUDY = ("sms_spam", "--backend", "tfidf,hybrid", "--techniques", "baseline,weighted", "--seeds", "2",
         "--limit", "600")
RUNS = {f"{b}.{t}__seed{s}" for b in ("tfidf", "hybrid") for t in ("baseline", "weighted") for s in (0, 1)}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study run once, uninterrupted."""
    from imblab.cli import main

    out = tmp_path_factory.mktemp("multi") / "study"
    assert main(["compare", *STUDY, "--out", str(out)]) == 0
    return out


def _validation_means(study: Path) -> dict[str, float]:
    """Each technique's mean validation macro-F1, read from the runs' own metrics.json (not from imblab's choice)."""
    values: dict[str, list[float]] = {}
    for run in sorted((study / "runs").iterdir()):
        metrics = json.loads((run / "metrics.json").read_text())
        values.setdefault(metrics["technique"], []).append(float(metrics["validation"]["report"]["macro avg"]["f1-score"]))
    return {t: float(np.mean(v)) for t, v in values.items()}


def test_one_split_a_backend_column_and_a_folder_per_backend_and_technique(study: Path) -> None:
    assert set(os.listdir(study / "runs")) == RUNS
    results = pd.read_csv(study / "results.csv")
    assert list(results.columns[:4]) == ["technique", "backend", "seed", "reference"]
    runs = results[~results["reference"]]
    assert list(dict.fromkeys(runs["technique"])) == ["tfidf/baseline", "tfidf/weighted", "hybrid/baseline",
                                                       "hybrid/weighted"]
    assert (runs["technique"].str.split("/").str[0] == runs["backend"]).all()
    split = json.loads((study / "split.json").read_text())
    for run in RUNS:  # every run was tested on the study's one split, by the backend its folder names
        config = json.loads((study / "runs" / run / "config.json").read_text())
        assert config["split"]["test"] == split["test"] and config["backend"] == run.split(".")[0]
    meta = json.loads((study / "study.json").read_text())
    assert meta["backend"] == "tfidf,hybrid" and {t["backend"] for t in meta["techniques"]} == {"tfidf", "hybrid"}
    # The hybrid runs chose their dense weight on validation, and say which.
    head = json.loads((study / "runs" / "hybrid.weighted__seed0" / "metrics.json").read_text())["head"]
    assert head["dense_weight"] in (0.5, 1.0, 2.0, 4.0)


def test_the_pair_chosen_on_validation_is_named_and_shipped(study: Path) -> None:
    means = _validation_means(study)
    order = ["tfidf/baseline", "tfidf/weighted", "hybrid/baseline", "hybrid/weighted"]
    chosen = max(order, key=lambda t: (means[t], -order.index(t)))
    backend = chosen.split("/")[0]
    summary = (study / "summary.md").read_text()
    line = next(line for line in summary.splitlines() if "Chosen on validation" in line)
    assert f"{chosen}, the {backend} backend" in line and "scikit-learn reference" in line
    other = "hybrid" if backend == "tfidf" else "tfidf"
    own = max((t for t in order if t.startswith(other + "/")), key=lambda t: (means[t], -order.index(t)))
    assert f"vs {other}'s own choice {own}" in line
    assert "Chosen on validation" in (study / "report.html").read_text()
    result = load_study(study, write=False)
    assert result.chosen is not None and result.chosen.technique == chosen
    assert result.chosen.value == pytest.approx(means[chosen], abs=1e-12)
    # The chosen model is that pair's: its median seed's model is kept and named.
    from imblab.study import chosen_model

    picked = chosen_model(study, result)
    assert picked.technique == chosen and picked.model_dir is not None
    assert picked.run_dir.name.startswith(chosen.replace("/", ".") + "__seed")
    assert json.loads((picked.model_dir / "imblab.json").read_text())["backend"]["name"] == backend


def test_a_rerun_trains_nothing_and_report_rebuilds_the_same(study: Path, tmp_path: Path) -> None:
    from imblab.cli import main

    before = {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("metrics.json")}
    assert main(["compare", *STUDY, "--out", str(study)]) == 0
    assert {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("metrics.json")} == before
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(study, copy)
    assert main(["report", str(copy)]) == 0
    assert_same_results(copy, study)


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_same_results(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "imblab", "compare", *STUDY, "--out", str(out)]
    for wanted in (2, 6):  # killed once 2 runs are finished, then once 6 are (a hybrid run among them)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 300
        while process.poll() is None and time.time() < deadline:
            runs = out / "runs"
            if runs.is_dir() and sum((runs / name / "metrics.json").is_file() for name in RUNS) >= wanted:
                break
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.kill()  # SIGKILL: no clean-up of any kind
        process.wait()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert set(os.listdir(out / "runs")) == RUNS
    assert_same_results(out, study)
    assert [line for line in (out / "summary.md").read_text().splitlines() if "Chosen on validation" in line] == \
        [line for line in (study / "summary.md").read_text().splitlines() if "Chosen on validation" in line]


def test_a_study_file_takes_backends_as_a_list(tmp_path: Path) -> None:
    from imblab.study import build_study_config

    path = tmp_path / "study.toml"
    path.write_text('[training]\nbackends = ["tfidf", "hybrid"]\n')
    assert build_study_config(path).backend == "tfidf,hybrid"
    path.write_text('[training]\nbackends = ["tfidf"]\nbackend = "hybrid"\n')
    from imblab.errors import SpecError

    with pytest.raises(SpecError, match="both backends and backend"):
        build_study_config(path)


@pytest.mark.parametrize("argv, needle", [
    (["train", "sms_spam", "--backend", "tfidf,hybrid", "--limit", "300"], "imblab compare compares several"),
    (["compare", "sms_spam", "--backend", "tfidf,tfidf", "--limit", "300"], "each backend once"),
    (["compare", "sms_spam", "--backend", "tfidf,nope", "--limit", "300"], "--backend"),
])
def test_bad_backend_lists_are_one_line(argv: list[str], needle: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert_one_line_error(cli(capsys, *argv, "--out", out), needle)
    assert not out.exists()
