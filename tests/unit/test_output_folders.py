"""A tuning or study folder killed in the middle of an SQLite write is still imblab's (CI caught a tune killed
mid-trial that could not resume: the kill left SQLite's rollback journal beside ``tuning.db``); anything else
beside it still makes the folder the user's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from imblab._io import MARKER_FILE
from imblab.errors import OutputError
from imblab.study._store import is_study_dir
from imblab.study._tuning import check_tuning_out


def _tuning_folder(path: Path, *extra: str) -> Path:
    path.mkdir()
    (path / MARKER_FILE).write_text(json.dumps({"kind": "tuning"}))
    sqlite3.connect(path / "tuning.db").close()
    for name in extra:
        (path / name).write_bytes(b"\0" * 512)
    return path


@pytest.mark.parametrize("side_file", ["tuning.db-journal", "tuning.db-wal", "tuning.db-shm"])
def test_sqlite_side_files_keep_a_tuning_folder_imblabs(tmp_path: Path, side_file: str) -> None:
    folder = _tuning_folder(tmp_path / "tuning", side_file)
    assert check_tuning_out(folder) == folder


@pytest.mark.parametrize("foreign", ["tuning.db-journal.bak", "notes.txt", "tuning.sqlite-journal"])
def test_anything_else_beside_the_database_is_the_users(tmp_path: Path, foreign: str) -> None:
    folder = _tuning_folder(tmp_path / "tuning", "tuning.db-journal", foreign)
    with pytest.raises(OutputError, match="holds files imblab did not make"):
        check_tuning_out(folder)


def test_a_killed_write_keeps_a_study_folder_imblabs(tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    (study / MARKER_FILE).write_text(json.dumps({"kind": "study"}))
    (study / "study.json").write_text("{}")
    for name in ("tuning.db", "tuning.db-journal"):
        (study / name).write_bytes(b"")
    assert is_study_dir(study)
    (study / "tuning.db-journal.old").write_bytes(b"")
    assert not is_study_dir(study)
