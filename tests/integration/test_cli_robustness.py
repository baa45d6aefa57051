"""Issue 11, "nothing lost, no traceback": every finding as a regression test at the CLI.

Each bad input ends with exit code 2 and exactly one line on stderr naming the problem (no
traceback), or with the recovered result. Runs are small (TF-IDF, 600 rows, one seed) so the
whole module stays within a minute; the CLI runs in a subprocess where what the user sees on
stderr matters (warnings), and in this process (``imblab.cli.main``) where only the exit code
and the message do, to pay torch's import once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from imblab.cli import main
from tests.unit.test_cli_errors import assert_one_line_error, run_cli

SMALL = ("--backend", "tfidf", "--limit", "600")


class Result:
    """A CLI call made in this process, shaped like ``subprocess.CompletedProcess``."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def umask_mode(directory: bool = False) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small TF-IDF run made by ``imblab train`` (its model is the one the model tests damage)."""
    out = tmp_path_factory.mktemp("train") / "run"
    assert main(["train", "sms_spam", *SMALL, "--out", str(out), "--json"]) == 0
    return out


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder nobody may write into: chmod for a normal user; /proc (not writable even by root) for root."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


# ------------------------------------------------------------------------------------- D1, D6: --out
def test_train_out_folder_with_user_files_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "chapter").mkdir(parents=True)
    (out / "thesis.txt").write_text("years of work")
    (out / "chapter" / "one.txt").write_text("more")
    line = assert_one_line_error(run_cli("train", "sms_spam", *SMALL, "--out", str(out)), str(out), "did not make")
    assert "never replaces" in line
    assert (out / "thesis.txt").read_text() == "years of work"
    assert (out / "chapter" / "one.txt").read_text() == "more"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no hidden .old / .partial left


def test_train_out_regular_file_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("keep me")
    assert_one_line_error(run_cli("train", "sms_spam", *SMALL, "--out", str(out)), str(out), "is a file")
    assert out.is_file() and out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    below = assert_one_line_error(run_cli("train", "sms_spam", *SMALL, "--out", str(out / "run")), "is a file")
    assert str(out) in below


def test_train_out_unwritable_is_one_line_before_training(tmp_path: Path) -> None:
    folder = unwritable_folder(tmp_path)
    assert_one_line_error(run_cli("train", "sms_spam", *SMALL, "--out", str(folder / "run")), "not writable")


def test_compare_out_checked_before_training(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.csv").write_text("my own results")
    small = ("--backend", "tfidf", "--limit", "600", "--seeds", "1", "--techniques", "baseline")
    assert_one_line_error(run_cli("compare", "sms_spam", *small, "--out", str(mine)), "did not make")
    assert (mine / "results.csv").read_text() == "my own results" and len(list(mine.iterdir())) == 1
    file = tmp_path / "file.txt"
    file.write_text("x")
    assert_one_line_error(run_cli("compare", "sms_spam", *small, "--out", str(file)), "is a file")
    folder = unwritable_folder(tmp_path)
    assert_one_line_error(run_cli("compare", "sms_spam", *small, "--out", str(folder / "study")), "not writable")


def test_train_replaces_its_own_run_and_files_get_umask_modes(trained_run: Path, capsys) -> None:
    # The fixture's folder is an imblab run: training into it again replaces it (and only it).
    again = cli(capsys, "train", "sms_spam", *SMALL, "--seed", "1", "--out", trained_run, "--json")
    assert again.returncode == 0, again.stderr
    assert '"seed": 1' in (trained_run / "metrics.json").read_text()
    assert not [p for p in trained_run.parent.iterdir() if p.name.startswith(".")]
    for path in [trained_run, *trained_run.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == umask_mode(path.is_dir()), f"{path}: {oct(mode)}"
