"""Shared fixtures: real data from ../shared/data, never the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("IMBLAB_DATA_DIR") or ROOT.parent / "shared" / "data")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point imblab at the shared data, a per-session cache and no downloads."""
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("IMBLAB_OFFLINE", "1")
    if "IMBLAB_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("IMBLAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "imblab-cache"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "sms_spam" / "SMSSpamCollection").is_file():
        pytest.fail(f"reference data not found at {SHARED_DATA}: set IMBLAB_DATA_DIR to ../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sms(shared_data: Path):
    os.environ["IMBLAB_DATA_DIR"] = str(shared_data)
    from imblab.data import load_dataset

    return load_dataset("sms_spam", download=False)
