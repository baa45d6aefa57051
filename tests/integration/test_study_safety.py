"""Issue 11, "nothing lost, no traceback": a study folder survives crashes, bad settings, look-alike names and
concurrent processes.

* D2: a run killed while it was written leaves a temporary folder; runs are found by the plan, a stored
  run counts only if complete and valid, and leftovers are removed once no process owns them.
* D4: every setting is checked before anything is written.
* D7: display names that slug alike get their own run folders.
* Chaos: ``compare`` killed with SIGKILL at 5 moments, resumed each time, ends as an uninterrupted run.
* Three ``compare`` processes on one folder train every run once and end with the same results.

Small studies (TF-IDF, 600 rows, 3 techniques × 2 seeds); the CLI runs in this process through
``imblab.cli.main`` except where a test needs processes of its own.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from imblab.study import SequentialExecutor, build_study_config, prepare_study, run_folder, run_study
from imblab.study._locks import StudyLocks
from tests.integration.test_cli_robustness import Result, cli
from tests.unit.test_cli_errors import assert_one_line_error

SMALL = ("sms_spam", "--backend", "tfidf", "--limit", "600")
STUDY = (*SMALL, "--techniques", "baseline,focal,weighted:spam=10", "--seeds", "2")
OUTPUTS = {"study.json", "split.json", "profile.json", "results.csv", "probes.csv", "differences.csv", "summary.md",
           "report.html", ".outputs.json", "runs", ".locks", "reference", ".imblab"}  # .imblab: the study marker


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study run once, uninterrupted."""
    from imblab.cli import main

    out = tmp_path_factory.mktemp("reference") / "study"
    assert main(["compare", *STUDY, "--out", str(out), "--json"]) == 0
    return out


def planned(study: Path) -> set[str]:
    meta = json.loads((study / "study.json").read_text())
    return {run_folder(t["display_name"], seed) for t in meta["techniques"] for seed in meta["config"]["seeds"]}


def assert_same_results(study: Path, reference: Path) -> None:
    """results, probes and differences as the reference's (the timing column apart)."""
    for name in ("results.csv", "probes.csv", "differences.csv"):
        got, expected = (pd.read_csv(d / name) for d in (study, reference))
        pd.testing.assert_frame_equal(got.drop(columns="seconds", errors="ignore"),
                                      expected.drop(columns="seconds", errors="ignore"))


def assert_clean(study: Path) -> None:
    """Only the study's files, its planned runs and lock files: no temporary file or folder anywhere."""
    assert set(os.listdir(study)) <= OUTPUTS, sorted(os.listdir(study))
    assert set(os.listdir(study / "runs")) == planned(study)
    strays = [p for p in study.rglob("*") if p.name.endswith((".tmp", ".partial", ".old"))]
    assert not strays, strays
    assert all(p.suffix == ".lock" for p in (study / ".locks").iterdir())


def stamps(study: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("*")}


# ------------------------------------------------------------------------------------- D2: crashes
def test_d2_a_killed_write_is_ignored_then_removed_and_retrained(reference: Path, tmp_path: Path, capsys) -> None:
    study = tmp_path / "study"
    shutil.copytree(reference, study)
    # What SIGKILL during the write of focal · seed 0 leaves: its temporary folder, a 0-byte predictions.csv.
    leftover = study / "runs" / ".focal__seed0.k7x2q9ab.partial"
    os.rename(study / "runs" / "focal__seed0", leftover)
    (leftover / "predictions.csv").write_bytes(b"")
    (study / ".results.csv.a1b2c3d4.tmp").write_text("technique,se")  # and one of a study file
    report = cli(capsys, "report", study)
    assert report.returncode == 0, report.stderr  # the leftover is no run: focal has seed 1 only
    assert "EmptyDataError" not in report.stderr and "two runs" not in report.stderr
    again = cli(capsys, "compare", *STUDY, "--out", study, "--json")
    assert again.returncode == 0, again.stderr
    assert_same_results(study, reference)
    assert_clean(study)

    # A damaged run folder imblab made: report names it in one line, compare trains it again.
    damaged = study / "runs" / "baseline__seed1" / "predictions.csv"
    damaged.write_bytes(b"")
    assert_one_line_error(cli(capsys, "report", study), str(damaged), "damaged")
    assert cli(capsys, "compare", *STUDY, "--out", study, "--json").returncode == 0
    assert_same_results(study, reference)
    assert_clean(study)

    # Files imblab did not make in a run's place: one line, nothing touched.
    shutil.rmtree(study / "runs" / "baseline__seed1")
    (study / "runs" / "baseline__seed1").mkdir()
    (study / "runs" / "baseline__seed1" / "notes.txt").write_text("mine")
    before = (study / "study.json").read_bytes()
    assert_one_line_error(cli(capsys, "compare", *STUDY, "--out", study, "--json"), "baseline__seed1", "did not make")
    assert (study / "runs" / "baseline__seed1" / "notes.txt").read_text() == "mine"
    assert (study / "study.json").read_bytes() == before


# ------------------------------------------------------------------------------------- D4: bad settings
BAD_FLAGS = [("--epochs", "-1"), ("--lr", "0"), ("--lr", "nan"), ("--batch-size", "0"), ("--max-length", "1")]


@pytest.mark.parametrize(("flag", "value"), BAD_FLAGS)
def test_d4_a_bad_flag_is_refused_before_anything_is_written(tmp_path: Path, flag: str, value: str, capsys) -> None:
    out = tmp_path / "study"
    line = assert_one_line_error(cli(capsys, "compare", *SMALL, flag, value, "--out", out), f"{flag} {value}")
    assert "must be" in line
    assert not out.exists()
    assert_one_line_error(cli(capsys, "train", *SMALL, flag, value, "--out", out), f"{flag} {value}")
    assert not out.exists()


def test_d4_study_file_and_the_corrected_command(tmp_path: Path, capsys) -> None:
    config = tmp_path / "study.toml"
    config.write_text('[data]\ndataset = "sms_spam"\nlimit = 600\n[training]\nbackend = "tfidf"\nepochs = "three"\n'
                      '[study]\nseeds = 1\n[[techniques]]\nname = "baseline"\n')
    out = tmp_path / "study"
    assert_one_line_error(cli(capsys, "compare", "--config", config, "--out", out), "epochs", "[training]",
                          str(config), "an integer ≥ 0")
    assert not out.exists()
    config.write_text(config.read_text().replace('epochs = "three"', "epochs = 3"))
    assert cli(capsys, "compare", "--config", config, "--out", out, "--json").returncode == 0

    # A bad value against a study folder leaves it as it was.
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for flag, value in BAD_FLAGS:
        assert_one_line_error(cli(capsys, "compare", "--config", config, flag, value, "--out", out), flag)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_d4_a_first_attempt_that_fails_before_any_run_does_not_lock_the_folder(tmp_path: Path, capsys) -> None:
    # Some problems show only when training starts (a model that cannot be loaded). The folder then holds a
    # study.json but no run, and the corrected command takes it over.
    out = tmp_path / "study"
    failed = cli(capsys, "compare", *SMALL, "--backend", "frozen", "--model", str(tmp_path / "no-such-model"),
                 "--techniques", "baseline", "--seeds", "1", "--out", out)
    banner, *rest = failed.stderr.splitlines()
    assert_one_line_error(Result(failed.returncode, "", "\n".join(rest)), "no-such-model")
    assert (out / "study.json").is_file()
    fixed = cli(capsys, "compare", *SMALL, "--techniques", "baseline", "--seeds", "1", "--out", out, "--json")
    assert fixed.returncode == 0, fixed.stderr
    # With a run stored, other settings are refused in one line naming them.
    line = assert_one_line_error(cli(capsys, "compare", *SMALL, "--techniques", "baseline", "--seeds", "1",
                                     "--C", "2", "--out", out), "other C")
    assert str(out) in line


# ------------------------------------------------------------------------------------- D7: look-alike names
def test_d7_display_names_that_slug_alike_get_folders_of_their_own(tmp_path: Path, capsys) -> None:
    config = tmp_path / "study.toml"
    config.write_text('[data]\ndataset = "sms_spam"\nlimit = 600\n[training]\nbackend = "tfidf"\n[study]\nseeds = 1\n'
                      '[[techniques]]\nname = "weighted"\ndisplay_name = "w/x"\nparams = { weights = { spam = 5 } }\n'
                      '[[techniques]]\nname = "focal"\ndisplay_name = "w x"\n')
    out = tmp_path / "study"
    assert cli(capsys, "compare", "--config", config, "--out", out, "--json").returncode == 0
    results = pd.read_csv(out / "results.csv")
    assert set(results.loc[~results["reference"], "technique"]) == {"w/x", "w x"}
    runs = sorted(os.listdir(out / "runs"))
    assert len(runs) == 2 and runs == sorted({run_folder("w/x", 0), run_folder("w x", 0)})
    assert {json.loads((out / "runs" / r / "metrics.json").read_text())["technique"] for r in runs} == {"w/x", "w x"}
    before = stamps(out)
    assert cli(capsys, "compare", "--config", config, "--out", out, "--json").returncode == 0
    assert stamps(out) == before  # nothing retrained
    # A study of imblab 0.1 stored "w/x" in the folder both names slug to: it is read, then moved, not retrained.
    os.rename(out / "runs" / run_folder("w/x", 0), out / "runs" / "w_x__seed0")
    assert cli(capsys, "report", out).returncode == 0
    results = pd.read_csv(out / "results.csv")
    assert set(results.loc[~results["reference"], "technique"]) == {"w/x", "w x"}
    assert cli(capsys, "compare", "--config", config, "--out", out, "--json").returncode == 0
    assert stamps(out) == before


# ------------------------------------------------------------------------------------- chaos
def _complete(study: Path, names: set[str]) -> int:
    return sum((study / "runs" / name).is_dir() for name in names)


def _writing(study: Path) -> bool:
    try:
        return any(n.endswith(".partial") for n in os.listdir(study / "runs"))
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_chaos_sigkill_at_five_moments_then_resume(reference: Path, tmp_path: Path, capsys) -> None:
    rng = random.Random(11)
    names = planned(reference)
    out = tmp_path / "chaos"
    command = [sys.executable, "-m", "imblab", "compare", *STUDY, "--out", str(out)]
    # Moments chosen by watching the study folder: study.json written (then a random delay: imports, the
    # first run), a run folder being written, a run just finished (then a random delay); last, every run
    # finished and the outputs being written. Each of the first four leaves work for the next.
    moments = ["study", "writing", "finished", rng.choice(["writing", "finished"])]
    rng.shuffle(moments)
    moments.append("outputs")
    kills = []
    for moment in moments:
        done_before = _complete(out, names)
        ready = {
            "study": lambda: (out / "study.json").is_file(),
            "writing": lambda: _writing(out) or _complete(out, names) > done_before,
            "finished": lambda: _complete(out, names) > done_before,
            "outputs": lambda: _complete(out, names) == len(names),
        }[moment]
        delay = {"study": rng.uniform(0, 3), "writing": 0.0, "finished": rng.uniform(0, 0.5),
                 "outputs": rng.uniform(0, 0.5)}[moment]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   env=os.environ.copy())
        deadline = time.time() + 300
        while process.poll() is None and not ready() and time.time() < deadline:
            time.sleep(0.002)
        # The random delay, cut short before the study runs out of work (a fast box finishes 6 small runs in less
        # than the 'study' moment's 3 s): each of the first four kills must leave a run for the next process.
        until = time.time() + delay
        while (time.time() < until and process.poll() is None
               and (moment == "outputs" or _complete(out, names) < len(names) - 1)):
            time.sleep(0.002)
        if process.poll() is None:
            process.kill()  # SIGKILL: no clean-up of any kind
            kills.append((moment, _writing(out)))
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr, stderr
        if (out / "study.json").is_file():  # the folder stays readable after every kill
            report = cli(capsys, "report", out)
            assert report.returncode == 0 or len(report.stderr.strip().splitlines()) == 1, report.stderr
    assert len(kills) == 5, kills  # (moment, whether a run folder was being written when it was killed)
    again = cli(capsys, "compare", *STUDY, "--out", out, "--json")
    assert again.returncode == 0, again.stderr
    assert_same_results(out, reference)
    assert_clean(out)


# ------------------------------------------------------------------------------------- concurrency
@pytest.mark.slow
def test_three_concurrent_compares_train_every_run_once(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    command = [sys.executable, "-m", "imblab", "-v", "compare", *STUDY, "--out", str(out)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=os.environ.copy()) for _ in range(3)]
    finished = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _, err in finished]
    # run_task logs "<technique> · seed <k> done in <t> s" once per run it trains, whichever process it is in.
    trained = Counter(
        line.split("imblab.study._tasks: ", 1)[1].rsplit(" done in ", 1)[0]
        for _, stderr in finished for line in stderr.splitlines()
        if "imblab.study._tasks:" in line and " done in " in line
    )
    meta = json.loads((reference / "study.json").read_text())
    expected = {f"{t['display_name']} · seed {s}" for t in meta["techniques"] for s in meta["config"]["seeds"]}
    assert trained == Counter(expected), trained
    assert len({stdout for stdout, _ in finished}) == 1  # every process printed the same results
    assert_same_results(out, reference)
    assert_clean(out)


class PairExecutor:
    """Takes tasks two at a time (as a pool of two workers would), checking that the driver claims a run only
    when it is taken: the runs taken are held, the others are still free for another process."""

    parallel = True

    def __init__(self, out: Path, study) -> None:  # type: ignore[no-untyped-def]
        self.out, self.study, self.calls = out, study, []  # type: ignore[var-annotated]

    def run(self, tasks, on_result, *, on_start=None) -> None:  # type: ignore[no-untyped-def]
        tasks = iter(tasks)
        while batch := [t for t in (next(tasks, None), next(tasks, None)) if t is not None]:
            self.calls.append([t.name for t in batch])
            other = StudyLocks(self.out)  # another process's view: the runs handed over are taken
            assert not any(other.claim(t.run_dir.name) for t in batch)
            done = {t.run_dir.name for t in batch}
            untaken = [t for t in self.study.tasks(self.out) if t.run_dir.name not in done
                       and not (self.out / "runs" / t.run_dir.name).exists()]
            assert all(other.claim(t.run_dir.name) for t in untaken)  # not claimed before they are taken
            other.release_all()
            SequentialExecutor().run(batch, on_result, on_start=on_start)


def test_an_executor_takes_runs_claimed_one_at_a_time(tmp_path: Path) -> None:
    study = prepare_study(build_study_config(dataset="sms_spam", backend="tfidf", limit=600, seeds=2,
                                             techniques="baseline,focal"))
    executor = PairExecutor(tmp_path, study)
    result = run_study(study, tmp_path, executor=executor)
    # The scikit-learn reference is claimed first, like one more run.
    assert executor.calls == [["scikit-learn reference", "baseline · seed 0"], ["baseline · seed 1", "focal · seed 0"],
                              ["focal · seed 1"]]
    assert len(result.outcomes) == 4
    free = StudyLocks(tmp_path)
    assert all(free.claim(t.run_dir.name) for t in study.tasks(tmp_path))  # every claim was released
    free.release_all()
