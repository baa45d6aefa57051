"""Shared fixtures: real data from ../shared/data, never the network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("IMBLAB_DATA_DIR") or ROOT.parent / "shared" / "data")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A per-session cache before any fixture runs: a module's fixture (a study run once for its tests) must not
    read the user's ``~/.cache/imblab``, whose entries an older imblab may have made."""
    given = os.environ.get("IMBLAB_CACHE_DIR")
    if given is None:
        os.environ["IMBLAB_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "imblab-cache")
    yield
    if given is None:
        os.environ.pop("IMBLAB_CACHE_DIR", None)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point imblab at the shared data and no downloads (the cache: ``_session_cache``)."""
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("IMBLAB_OFFLINE", "1")


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


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _postgres_bin(name: str) -> str:
    """``initdb``/``pg_ctl``: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin. Fails loudly if absent."""
    import shutil

    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    pytest.fail(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql); the distributed "
                "tuning tests need a real server")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server on 127.0.0.1 for this session: a database ``tune`` owned by the
    password-protected role ``imblab``; yields its SQLAlchemy URL and always stops the server and removes it.

    PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (``runuser``).
    """
    import shutil
    import socket
    import subprocess
    import tempfile

    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="imblab-pg-"))
    data, sockets, logfile = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []

    def run(*args: str) -> None:
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = logfile.read_text() if logfile.is_file() else ""
            pytest.fail(f"{' '.join(args[:2])} failed: {result.stderr.strip()} {log[-2000:]}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        run(initdb, "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
            "--no-sync", "-E", "UTF8")
        run(pg_ctl, "-D", str(data), "-l", str(logfile), "-w", "-t", "60", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off", "start")
        import psycopg

        with psycopg.connect(host=str(sockets), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE ROLE imblab LOGIN PASSWORD 'tune-secret'")
            conn.execute("CREATE DATABASE tune OWNER imblab")
        yield f"postgresql+psycopg://imblab:tune-secret@127.0.0.1:{port}/tune"
    finally:
        if (data / "postmaster.pid").exists():  # started, even if a later step failed
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "stop", "-m", "immediate"], capture_output=True,
                           timeout=120)
        shutil.rmtree(root, ignore_errors=True)
