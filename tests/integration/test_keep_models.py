"""`imblab compare --keep-models all|best|none` (issue 13): which runs keep their model, runs without one still
count as finished, and the printed `imblab train` command rebuilds the chosen run exactly (CPU)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import pytest

from imblab.study import chosen_model, load_study
from tests.unit.test_cli_errors import assert_one_line_error, run_cli

STUDY = ["compare", "sms_spam", "--backend", "tfidf", "--techniques", "baseline,weighted,focal", "--seeds", "3",
         "--limit", "600", "--metric", "brier"]


def _models(out: Path) -> list[str]:
    return sorted(p.parent.name for p in (out / "runs").glob("*/model"))


def _compare(out: Path, *flags: str) -> dict:
    result = run_cli(*STUDY, "--out", str(out), "--json", *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_best_keeps_the_median_seed_of_the_best_technique(tmp_path: Path) -> None:
    out = tmp_path / "study"
    summary = _compare(out, "--keep-models", "best")
    result = load_study(out, write=False)
    means = {t: result.stat(t, "brier")["mean"] for t in result.techniques}
    best = min(result.techniques, key=lambda t: means[t])  # lower is better; the first of equals
    median = result.median_run(best)
    chosen = chosen_model(out, result)
    assert (chosen.technique, chosen.seed) == (best, median.seed)
    assert _models(out) == [chosen.run_dir.name]
    assert summary["model"] == str(chosen.run_dir / "model")
    assert len(list((out / "runs").iterdir())) == 9  # every run is kept, only the models are not
    assert not [p.name for p in (out / "runs").rglob(".*")]

    # The study's runs without a model are finished: a re-run trains nothing and prunes nothing more.
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")}
    again = _compare(out, "--keep-models", "best")
    assert again["model"] == summary["model"]
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")} == stamps

    # Asking for every model afterwards retrains exactly the runs that lack one, to the same numbers.
    before = pd.read_csv(out / "results.csv").drop(columns="seconds")
    _compare(out, "--keep-models", "all")
    assert len(_models(out)) == 9
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv").drop(columns="seconds"), before)


@pytest.mark.slow
def test_none_keeps_no_model_and_the_printed_command_rebuilds_the_chosen_run(tmp_path: Path) -> None:
    out = tmp_path / "study"
    summary = _compare(out, "--keep-models", "none")
    assert _models(out) == [] and summary["model"] is None
    command = shlex.split(summary["rebuild"])
    assert command[:2] == ["imblab", "train"]
    rebuilt = run_cli(*command[1:])
    assert rebuilt.returncode == 0, rebuilt.stderr
    target = Path(command[command.index("--out") + 1])
    chosen = chosen_model(out, load_study(out, write=False))
    pd.testing.assert_frame_equal(pd.read_csv(target / "predictions.csv"),
                                  pd.read_csv(chosen.run_dir / "predictions.csv"))
    assert (target / "model" / "imblab.json").is_file()
    # A run without its model says so, in one line.
    assert_one_line_error(run_cli("predict", str(chosen.run_dir), "hello"), "without its model", "imblab train")
    # The terminal summary prints the command too.
    printed = run_cli(*STUDY, "--out", str(out), "--keep-models", "none")
    assert printed.returncode == 0, printed.stderr
    assert f"not kept; rebuild it with: {summary['rebuild']}" in printed.stdout


@pytest.mark.slow
def test_keep_models_is_checked(tmp_path: Path) -> None:
    result = run_cli(*STUDY, "--out", str(tmp_path / "o"), "--keep-models", "some")
    assert result.returncode == 2 and "--keep-models" in result.stderr
    study_file = tmp_path / "study.toml"
    study_file.write_text('[data]\ndataset = "sms_spam"\n[study]\nkeep_models = "most"\n')
    assert_one_line_error(run_cli("compare", "--config", str(study_file), "--out", str(tmp_path / "p")),
                          "keep_models", "most")
