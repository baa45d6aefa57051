"""``imblab tune`` and ``compare --tune`` end to end: real data, real Optuna storages (SQLite, a real PostgreSQL
server started by the ``postgres_url`` fixture), real processes killed mid-trial."""

from __future__ import annotations

import json
import multiprocessing
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from imblab.study import run_folder
from imblab.data import load_dataset, split_dataset, stratified_subsample
from tests.unit.test_cli_errors import assert_one_line_error, run_cli

HATE = ["hate_speech", "--backend", "tfidf", "--limit", "1200"]
SMS = ["sms_spam", "--backend", "tfidf", "--limit", "600"]


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)


def _running_with_worker(db: Path) -> list[int]:
    """Numbers of the RUNNING trials whose process has recorded itself (a trial is under way, not just created)."""
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return [n for (n,) in conn.execute(
                "SELECT t.number FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
                "WHERE t.state = 'RUNNING' AND a.key = 'imblab_worker'").fetchall()]
    except sqlite3.OperationalError:
        return []


def _states(db: Path) -> dict[int, str]:
    """Trial number → state, read straight from an SQLite storage (the test does not go through imblab)."""
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return dict(conn.execute("SELECT number, state FROM trials ORDER BY number").fetchall())
    except sqlite3.OperationalError:  # Optuna is still creating its tables
        return {}


# ---------------------------------------------------------------------------------------------- the test split
@pytest.mark.slow
def test_permuting_test_labels_changes_no_trial_and_no_choice(shared_data, tmp_path: Path) -> None:
    import imblab

    data = stratified_subsample(load_dataset("hate_speech"), 1200, seed=42)
    split = split_dataset(data, seed=42)
    labels = np.array(data.labels, dtype=object)
    rng = np.random.default_rng(0)
    labels[split.test] = labels[rng.permutation(split.test)]
    permuted = replace(data, labels=tuple(labels))
    assert permuted.content_hash() != data.content_hash()
    assert list(np.array(permuted.labels)[split.test]) != list(np.array(data.labels)[split.test])
    results = [
        imblab.tune(ds, "focal", trials=3, backend="tfidf", split=replace(split, data_hash=ds.content_hash()),
                    out=tmp_path / name)
        for name, ds in (("original", data), ("permuted", permuted))
    ]
    rows = [[(t["number"], t["params"], t["value"], t["spec"]) for t in r.summary["trials"]] for r in results]
    assert rows[0] == rows[1]
    assert len(rows[0]) == 3 and len({spec for *_, spec in rows[0]}) == 3
    assert results[0].spec == results[1].spec and results[0].value == results[1].value
    assert results[0].study.user_attrs["imblab"]["data_sha256"] == results[1].study.user_attrs["imblab"]["data_sha256"]


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _race(url: str, barrier, trials: int) -> None:  # type: ignore[no-untyped-def]
    """One of two processes tuning one storage study: load everything, wait for the other, then go."""
    import imblab

    data = stratified_subsample(load_dataset("sms_spam"), 600, seed=42)
    barrier.wait(timeout=300)
    imblab.tune(data, "downsample", trials=trials, backend="tfidf", seeds=2, storage=url)


@pytest.mark.slow
def test_two_processes_racing_on_postgresql_create_exactly_n_trials(postgres_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_race, args=(postgres_url, barrier, 6)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    assert [w.exitcode for w in workers] == [0, 0]
    trials = _trials(postgres_url, "downsample")
    assert sorted(t.number for t in trials) == list(range(6))  # none lost, none duplicated, none beyond N
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert {t.user_attrs["imblab_worker"]["pid"] for t in trials} == {w.pid for w in workers}  # both worked


@pytest.mark.slow
def test_two_imblab_tune_processes_share_a_postgresql_study(postgres_url: str, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "imblab", "tune", *HATE, "--technique", "weighted", "--trials", "5",
            "--storage", postgres_url, "--json"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    trials = _trials(postgres_url, "weighted")
    assert sorted(t.number for t in trials) == list(range(5))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    best = optuna.load_study(study_name="weighted", storage=postgres_url).best_trial
    for out, _ in outputs:
        printed = json.loads(out)
        assert printed["best"]["number"] == best.number and printed["value"] == best.value
        assert printed["spec"] == best.user_attrs["spec"] and printed["complete"] == 5
        assert "tune-secret" not in out and printed["storage"].startswith("postgresql+psycopg://imblab:***@")
    # The printed spec is one `imblab train` accepts, and it reproduces the trial's validation score.
    spec = json.loads(outputs[0][0])["spec"]
    trained = run_cli("train", *HATE, "--technique", spec, "--seed", "0", "--out", str(tmp_path / "run"), "--json")
    assert trained.returncode == 0, trained.stderr
    validation = json.loads(trained.stdout)["validation"]["report"]["macro avg"]["f1-score"]
    assert validation == pytest.approx(best.value, abs=1e-12)


# ---------------------------------------------------------------------------------------------- resume
@pytest.mark.slow
def test_a_tune_killed_mid_trial_resumes_to_exactly_n_and_refuses_other_studies(tmp_path: Path) -> None:
    out = tmp_path / "tuning"
    db = out / "tuning.db"
    args = [sys.executable, "-m", "imblab", "tune", *SMS, "--technique", "focal", "--seeds", "2", "--trials", "3",
            "--out", str(out)]
    killed = None
    for _ in range(3):  # a trial may finish between seeing it run and the kill: then kill the next one
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                states = _states(db) if db.is_file() else {}
                running = _running_with_worker(db) if db.is_file() else []
                if running and any(s == "COMPLETE" for s in states.values()):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed = running[0]
                    break
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if killed is not None and _states(db)[killed] == "RUNNING":
            break
        killed = None
    assert killed is not None, "never caught a trial running"
    resumed = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    states = _states(db)
    assert sum(s == "COMPLETE" for s in states.values()) == 3
    assert states[killed] == "FAIL" and "RUNNING" not in states.values()
    summary = json.loads((out / "tuning" / "focal.json").read_text())
    assert summary["complete"] == 3 and summary["failed"] >= 1
    # The storage study is focal's, on these data: other data or another technique is refused, and nothing is added.
    assert_one_line_error(run_cli("tune", "sms_spam", "--backend", "tfidf", "--limit", "700", "--technique", "focal",
                                  "--seeds", "2", "--out", str(out)),
                          "storage study 'focal'", "was made with other data",
                          "choose another --out or --storage (with imblab tune, or another --study-name)")
    assert_one_line_error(run_cli("tune", *SMS, "--technique", "weighted", "--study-name", "focal", "--seeds", "2",
                                  "--out", str(out)),
                          "another technique (focal, not weighted)")
    assert _states(db) == states


# ---------------------------------------------------------------------------------------------- fine-tuning
@pytest.mark.slow
def test_fine_tuning_trials_report_every_epoch_to_the_pruner(shared_data, tmp_path: Path) -> None:
    import imblab
    from tests.unit.test_backends import _tiny

    model = _tiny("bert", tmp_path)
    data = stratified_subsample(load_dataset("sms_spam"), 160, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is fastest, and does not fight other processes for cores
    try:
        result = imblab.tune(data, "focal", trials=3, backend="finetune", model=model, epochs=2, batch_size=16,
                             max_length=16, out=tmp_path / "out", tune_training=True)
    finally:
        torch.set_num_threads(threads)
    trials = result.study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) == 3
    assert all(set(t.intermediate_values) == {0, 1} for t in finished if t.state.name == "COMPLETE")
    assert all(5e-5 / 5 <= t.params["lr"] <= 5e-5 * 5 for t in finished)  # MiniLM-sized: default lr 5e-5
    assert result.training == {"lr": result.study.best_trial.user_attrs["training"]["lr"]}


# ---------------------------------------------------------------------------------------------- compare --tune
@pytest.mark.slow
def test_compare_tune_runs_default_and_tuned_and_reports_the_difference(tmp_path: Path) -> None:
    out = tmp_path / "study"
    args = ["compare", *HATE, "--techniques", "baseline,focal", "--seeds", "2", "--tune", "3", "--no-reference",
            "--out", str(out)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    results = pd.read_csv(out / "results.csv")
    assert list(dict.fromkeys(results["technique"])) == ["baseline", "focal", "focal (tuned)"]
    assert (results["technique"] == "focal (tuned)").sum() == 2
    tuning = json.loads((out / "tuning.json").read_text())
    entries = {e["default"]: e for e in tuning["techniques"]}
    assert entries["baseline"]["tuned"] is None and "nothing to tune" in entries["baseline"]["reason"]
    focal = entries["focal"]
    assert focal["summary"]["complete"] == 3 and len(focal["summary"]["curve"]) == 3
    assert focal["summary"]["importances"] is not None  # gamma and two per-label α weights
    stored = json.loads((out / "runs" / run_folder("focal (tuned)", 0) / "config.json").read_text())
    assert stored["technique_spec"] == focal["spec"]
    summary = (out / "summary.md").read_text()
    assert "## Tuning" in summary and focal["spec"] in summary and "tuned − default on test" in summary
    html = (out / "report.html").read_text()
    assert 'id="plot-tuning"' in html and 'id="tuning-table"' in html
    # The re-run reads tuning.json and the runs: nothing is tuned or trained again.
    before = (out / "results.csv").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in [*(out / "runs").rglob("*"), out / "tuning.db"]}
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert (out / "results.csv").read_text() == before


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_tuning_input_is_one_line_and_exit_2_before_anything_is_written(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    cases = [
        (["--technique", "nope"], "unknown technique 'nope'"),
        (["--technique", "baseline"], "'baseline' has nothing to tune"),
        (["--technique", "weighted:spam=10"], "fixes its tunable parameter(s) weights"),
        (["--technique", "focal", "--trials", "0"], "--trials 0: must be an integer ≥ 1"),
    ]
    for extra, needle in cases:
        assert_one_line_error(run_cli("tune", *SMS, *extra, "--out", str(fresh)), needle)
        assert not fresh.exists()
    line = assert_one_line_error(
        run_cli("tune", *SMS, "--technique", "focal", "--storage", "postgresql+psycopg://imblab:s3cret@127.0.0.1:1/db"),
        "cannot open the tuning storage postgresql+psycopg://imblab:***@127.0.0.1:1/db")
    assert "s3cret" not in line


# ---------------------------------------------------------------------------------------------- trials as tasks
@pytest.mark.slow
def test_a_trial_is_a_picklable_task_that_another_process_runs_to_the_same_score(shared_data) -> None:
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from imblab.study import TrialTask, TuningData, run_trial
    from imblab.techniques import parse_spec

    data = stratified_subsample(load_dataset("sms_spam"), 600, seed=42)
    split = split_dataset(data, seed=42)
    parts = TuningData.from_split(data, split)
    assert len(parts.train_texts) + len(parts.val_texts) == len(split.train) + len(split.validation)
    assert not set(parts.train_texts + parts.val_texts) & {data.texts[i] for i in split.test}  # no test row
    task = TrialTask(data=parts, technique=parse_spec("focal:gamma=1.5", list(data.label_names)), seeds=(0, 1),
                     backend="tfidf", model=None, metric="macro_f1")
    here = run_trial(task)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = pool.submit(run_trial, pickle.loads(pickle.dumps(task))).result(timeout=600)
    assert there.values == here.values and there.value == pytest.approx(np.mean(here.values))


def assert_n_trials_each_scored_as_in_process(out: Path, printed: dict, n: int) -> None:  # type: ignore[type-arg]
    """``imblab tune SMS --technique focal --out OUT`` made exactly ``n`` complete trials, the printed best is
    the best of them, and each trial's score is the one it gets in this process (where it ran changes nothing)."""
    from imblab.study import TrialTask, TuningData, run_trial
    from imblab.techniques import parse_spec

    trials = _trials(f"sqlite:///{out / 'tuning.db'}", "focal")
    assert sorted(t.number for t in trials) == list(range(n))  # exactly N, none lost to a worker
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    best = max(trials, key=lambda t: t.value)
    assert printed["value"] == best.value and printed["spec"] == best.user_attrs["spec"]
    data = stratified_subsample(load_dataset("sms_spam"), 600, seed=42)
    parts = TuningData.from_split(data, split_dataset(data, seed=42))
    for trial in trials[:3]:
        task = TrialTask(data=parts, technique=parse_spec(trial.user_attrs["spec"], list(data.label_names)),
                         seeds=(0,), backend="tfidf", model=None, metric="macro_f1")
        assert run_trial(task).value == trial.value


@pytest.mark.slow
def test_imblab_tune_on_two_workers_runs_trials_at_once_each_scored_as_in_process(shared_data, tmp_path: Path) -> None:
    out = tmp_path / "tuning"
    result = run_cli("tune", *SMS, "--technique", "focal", "--trials", "5", "--workers", "2", "--out", str(out),
                     "--json")
    assert result.returncode == 0, result.stderr
    assert_n_trials_each_scored_as_in_process(out, json.loads(result.stdout), 5)
    trials = _trials(f"sqlite:///{out / 'tuning.db'}", "focal")
    driver = {t.user_attrs["imblab_worker"]["pid"] for t in trials}
    trainers = {t.user_attrs["trained_by_pid"] for t in trials}
    assert len(driver) == 1 and len(trainers) == 2 and not trainers & driver  # the two workers trained them
