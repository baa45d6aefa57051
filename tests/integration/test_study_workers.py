"""`imblab compare --workers N` (issue 13): local worker processes give the sequential results, a run's error
is one line, a killed worker's run is retried, and SIGTERM stops the workers and keeps finished runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.unit.test_cli_errors import assert_one_line_error, run_cli

STUDY = ["compare", "sms_spam", "--backend", "tfidf", "--techniques", "baseline,weighted,focal", "--seeds", "2",
         "--limit", "600"]


def comparable(out: Path, name: str = "results.csv") -> pd.DataFrame:
    """A study's table without its timing columns (the only ones that may differ between executors)."""
    frame = pd.read_csv(out / name)
    return frame.drop(columns=[c for c in frame.columns if "second" in c])


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sequential") / "study"
    result = run_cli(*STUDY, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: no extra dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _workers(pid: int) -> list[int]:
    """The worker processes of the study driver ``pid`` (its resource tracker is not one)."""
    workers = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(child)
    return workers


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_two_workers_give_the_sequential_results(sequential: Path, tmp_path: Path) -> None:
    out = tmp_path / "workers"
    result = run_cli(*STUDY, "--workers", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in ("results.csv", "probes.csv", "differences.csv"):
        pd.testing.assert_frame_equal(comparable(out, name), comparable(sequential, name))
    assert "Traceback" not in result.stderr
    assert "Model (" in result.stdout and str(out / "runs") in result.stdout


@pytest.mark.slow
def test_a_runs_error_in_a_worker_is_one_line(tmp_path: Path) -> None:
    # The worker fails to load the encoder: the run's own error, as one process would print it.
    missing = tmp_path / "no-such-model"
    result = run_cli("compare", "sms_spam", "--backend", "frozen", "--model", str(missing), "--techniques",
                     "baseline,weighted", "--seeds", "1", "--limit", "300", "--workers", "2", "--out",
                     str(tmp_path / "study"))
    # After the study's header line, the error: one line, no traceback (as when the run fails in one process).
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 2 and lines[0].startswith("imblab: 2 techniques"), result.stderr
    assert lines[1].startswith("imblab: error: cannot load model") and str(missing) in lines[1]
    runs = tmp_path / "study" / "runs"
    assert not (runs.exists() and list(runs.glob(".*")))  # no temporary folder left behind


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_run_retried(sequential: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "imblab", *STUDY, "--workers", "2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    # Kill a worker once it is training (the first run folder shows the workers are past their start-up).
    deadline = time.time() + 240
    victim = None
    while time.time() < deadline and proc.poll() is None and victim is None:
        if (out / "runs").exists() and list((out / "runs").glob("*__seed*")):
            workers = _workers(proc.pid)
            victim = workers[0] if workers else None
        time.sleep(0.05)
    assert victim is not None, "no worker process seen"
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "died: running it again" in stderr  # the run in flight was given to a fresh worker
    pd.testing.assert_frame_equal(comparable(out), comparable(sequential))
    assert not [p.name for p in (out / "runs").iterdir() if p.name.startswith(".")]


def _finished_runs(out: Path) -> list[Path]:
    return [p for p in (out / "runs").glob("*__seed*") if not p.name.startswith(".")]


@pytest.mark.slow
def test_sigterm_stops_the_workers_and_the_study_resumes(sequential: Path, tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-m", "imblab", *STUDY, "--workers", "2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline = time.time() + 240
    workers: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        workers = _workers(proc.pid)
        # a finished run (a run being written is a hidden ".<run>.….partial" folder, removed by the SIGTERM)
        if len(workers) == 2 and (out / "runs").exists() and _finished_runs(out):
            break
        time.sleep(0.05)
    assert len(workers) == 2 and proc.poll() is None, "the study ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "resume" in stderr
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the driver"
    assert not [p.name for p in (out / "runs").iterdir() if p.name.startswith(".")]
    kept = {p.name for p in (out / "runs").iterdir()}
    assert kept and len(kept) < 6
    result = run_cli(*STUDY, "--out", str(out))  # resume, in one process
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(comparable(out), comparable(sequential))


def test_execution_flags_are_checked_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "never"
    assert_one_line_error(run_cli(*STUDY, "--workers", "0", "--out", str(out)), "--workers")
    assert_one_line_error(run_cli(*STUDY, "--workers", "many", "--out", str(out)), "many")
    assert_one_line_error(run_cli(*STUDY, "--workers", "2", "--ray", "--out", str(out)), "--ray")
    assert_one_line_error(run_cli(*STUDY, "--cpus-per-run", "2", "--out", str(out)), "--ray")
    assert_one_line_error(run_cli(*STUDY, "--ray", "127.0.0.1:1", "--cpus-per-run", "0", "--out", str(out)),
                          "--cpus-per-run")
    assert not out.exists()


def test_ray_missing_says_how_to_install_it(tmp_path: Path) -> None:
    # `import ray` fails as it does where Ray is not installed (a None entry in sys.modules).
    code = "import sys; sys.modules['ray'] = None; from imblab.cli import main; raise SystemExit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, *STUDY, "--ray", "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 'pip install "imblab[ray]"')
    assert not (tmp_path / "o").exists()
