"""Where tuning trials live: an Optuna RDB storage, the study's identity, a lock, and dead-trial recovery.

Optuna's documented way to distribute a search is several processes on one RDB storage: each asks the
storage for a trial, runs it and tells the result. Three things are added here:

* **Identity.** A storage study records what it tunes (the content hash of the training and validation
  parts, the split, the technique and the fixed parameters, the search space, backend, model, metric,
  seeds, training settings) in its user attrs; opening it with anything else is refused with one line.
* **An exact budget.** "Count the finished trials, then ask" must be atomic, or two processes that both see
  N − 1 finished trials create N + 1. The critical section holds a lock shared by every process on the
  storage: ``pg_advisory_lock`` on PostgreSQL (through the storage's own SQLAlchemy engine; the server
  releases it if the process dies), a file lock beside the database on SQLite. Other databases (MySQL…)
  get no lock: processes racing there may overshoot the budget by one trial each, as Optuna's
  ``MaxTrialsCallback`` does (a warning says so).
* **Recovery.** A killed process leaves its trial RUNNING. Such a trial is marked FAILED — immediately when
  it was started on this machine by a process that is gone (its host, pid and the pid's start time are
  recorded with the trial), otherwise by Optuna's heartbeat (``heartbeat_interval``, ``grace_period``) — and
  its place in the budget is taken by a new trial.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import socket
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import Timeout

from ..._io import nearest_existing, umask, write_error
from ...errors import SpecError

if TYPE_CHECKING:
    import optuna

__all__ = [
    "HEARTBEAT_SECONDS",
    "GRACE_SECONDS",
    "Heartbeat",
    "check_identity",
    "fail_dead_trials",
    "mask_url",
    "open_storage",
    "sqlite_url",
    "study_lock",
    "worker_info",
]

log = logging.getLogger(__name__)

#: A running trial records a heartbeat this often (seconds) ...
HEARTBEAT_SECONDS = 10
#: ... and is failed by another process when its last heartbeat is older than this.
GRACE_SECONDS = 60
#: The user attr of a trial that says which process runs it.
WORKER_ATTR = "imblab_worker"


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The SQLAlchemy URL of an SQLite database file (absolute, so that it does not depend on the cwd)."""
    return f"sqlite:///{Path(path).resolve()}"


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (SQLAlchemy's rendering; a regex for an unparsable URL)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable URL: mask by hand, never show it raw
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _first_line(exc: BaseException, url: str) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = re.sub(r"^\([\w.]+\)\s*", "", text)  # SQLAlchemy's "(psycopg.OperationalError) " prefix
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    return text.replace(password, "***") if password else text


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage at ``url`` (any SQLAlchemy URL), its tables created if needed.

    Raises:
        SpecError: the URL is malformed, its driver is not installed, or the database cannot be reached;
            the message names the URL with its password masked.
    """
    import optuna
    import sqlalchemy.exc

    shown = mask_url(url)
    database = _sqlite_file(url)
    created = database is not None and not database.exists()
    if database is not None:
        _check_sqlite_place(database, shown)
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    lowered = url.lower()
    if lowered.startswith("postgresql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    elif lowered.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 60}  # several processes write one file: wait for the lock
    try:
        # Optuna creates its tables when a storage opens; two processes doing so at once on a new database
        # collide (PostgreSQL: duplicate key in pg_type), so they take turns.
        with _schema_lock(url, engine_kwargs), warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat_interval
            storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_SECONDS,
                                                 grace_period=GRACE_SECONDS)
    except ImportError as exc:  # ModuleNotFoundError included: the URL's database driver
        missing = getattr(exc, "name", None) or _missing_driver(url) or "a module"
        extra = ' (pip install "imblab[postgres]")' if "psycopg" in str(missing) else ""
        raise SpecError(f"cannot open the tuning storage {shown}: its database driver ({missing}) is not "
                        f"installed{extra}") from None
    except Timeout:
        raise SpecError(f"cannot open the tuning storage {shown}: its lock file is held by another process for "
                        f"more than {_LOCK_SECONDS} s") from None
    except (sqlalchemy.exc.SQLAlchemyError, ValueError, OSError) as exc:
        raise SpecError(f"cannot open the tuning storage {shown}: {_first_line(exc, url)}") from None
    if created and database is not None and database.is_file():
        # SQLite makes its file 0644 whatever the umask: give it the mode every other imblab file gets.
        with contextlib.suppress(OSError):
            os.chmod(database, 0o666 & ~umask())
    return storage


_LOCK_SECONDS = 600  # the longest a process waits for another's table creation on one SQLite file


def _missing_driver(url: str) -> str | None:
    """The module the URL's SQLAlchemy dialect cannot import (Optuna's own ImportError does not name it)."""
    try:
        from sqlalchemy.engine import make_url

        make_url(url).get_dialect().import_dbapi()
    except ImportError as exc:
        return getattr(exc, "name", None)
    except Exception:  # noqa: BLE001 - any other failure: the caller says "a module"
        return None
    return None


def _sqlite_file(url: str) -> Path | None:
    """The database file of an ``sqlite:///`` URL (None for other databases and in-memory SQLite)."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is reported when the storage opens
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _check_sqlite_place(database: Path, shown: str) -> None:
    """Refuse, at once, an SQLite file that cannot be written: its folder must be a writable folder where a file
    can be made (a lock file goes beside it), and the file, if any, a regular file.

    Raises:
        SpecError: naming the storage and the reason.
    """
    existing = nearest_existing(database.parent)
    if not existing.is_dir():
        raise SpecError(f"cannot open the tuning storage {shown}: {existing} is not a folder")
    if database.exists() and not database.is_file():
        raise SpecError(f"cannot open the tuning storage {shown}: {database} is not a regular file")
    reason = write_error(existing)
    if reason is not None:
        raise SpecError(f"cannot open the tuning storage {shown}: {existing} is not writable ({reason})")


# ---------------------------------------------------------------------------------------------- the locks
def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"imblab-tune:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory_lock(engine: Any, name: str) -> Iterator[None]:
    """A PostgreSQL session-level advisory lock on a connection of its own, outside any transaction: held until
    unlocked or until the connection ends (a killed process's locks go with its connection)."""
    from sqlalchemy import text

    key = _advisory_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextlib.contextmanager
def _schema_lock(url: str, engine_kwargs: dict[str, Any]) -> Iterator[None]:
    """While a storage creates its tables: an advisory lock (PostgreSQL) or the database's file lock (SQLite)."""
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = sqlalchemy.create_engine(url, **engine_kwargs)
        try:
            with _advisory_lock(engine, "schema"):
                yield
        finally:
            engine.dispose()
    elif parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from filelock import FileLock

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{parsed.database}.lock", timeout=_LOCK_SECONDS, mode=0o666 & ~umask()):
            yield
    else:
        yield


@contextlib.contextmanager
def study_lock(storage: optuna.storages.RDBStorage, study_name: str) -> Iterator[None]:
    """Hold the lock of ``study_name`` on ``storage`` (see the module docstring) inside the block."""
    engine = storage.engine
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with _advisory_lock(engine, f"study:{study_name}"):
            yield
    elif dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        from filelock import FileLock

        with FileLock(f"{engine.url.database}.lock", mode=0o666 & ~umask()):
            yield
    else:
        if dialect != "sqlite":
            log.warning("no cross-process lock for %s storages: processes racing for the last trials may run "
                        "one trial each beyond the budget", dialect)
        yield


# ---------------------------------------------------------------------------------------------- identity
_WHAT = {
    "data_sha256": "other data (the training and validation parts differ)",
    "split": "another split",
    "labels": "other labels",
    "technique": "another technique",
    "space": "another search space",
    "backend": "another backend",
    "model": "another model",
    "metric": "another metric",
    "seeds": "other seeds",
    "tune_training": "another --tune-training",
    "training": "other training settings",
}


_ADVICE = "choose another --out or --storage (with imblab tune, or another --study-name)"


def check_identity(study: optuna.Study, identity: Mapping[str, Any], shown_url: str) -> None:
    """Record ``identity`` in a new storage study, or check that an existing one was made with it.

    Raises:
        SpecError: the storage study tunes something else; the message says what differs.
    """
    stored = study.user_attrs.get("imblab")
    if stored is None:
        if study.trials:
            raise SpecError(f"storage study '{study.study_name}' in {shown_url} was not made by imblab: "
                            f"{_ADVICE}")
        study.set_user_attr("imblab", dict(identity))
        return
    differ = [key for key in _WHAT if stored.get(key) != identity.get(key)]
    if differ:
        details = []
        for key in differ:
            text = _WHAT[key]
            if key in ("technique", "backend", "metric", "model") and stored.get(key) != identity.get(key):
                text += f" ({stored.get(key)}, not {identity.get(key)})"
            details.append(text)
        raise SpecError(f"storage study '{study.study_name}' in {shown_url} was made with {'; '.join(details)}: "
                        f"{_ADVICE}")


# ---------------------------------------------------------------------------------------------- workers
def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux: field 22 of /proc/PID/stat), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def worker_info() -> dict[str, Any]:
    """This process: host, pid and the pid's start time."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_time(os.getpid())}


def _gone(worker: Mapping[str, Any]) -> bool:
    """Whether the process of ``worker`` (recorded on this host) has ended."""
    pid = worker.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    start = worker.get("start")
    return start is not None and _start_time(pid) not in (None, start)


def fail_dead_trials(study: optuna.Study, storage: optuna.storages.RDBStorage) -> list[int]:
    """Mark FAILED the RUNNING trials whose process is gone; returns their numbers.

    A trial started on this host by a process that no longer exists is failed at once; any other is
    failed by Optuna's heartbeat rule (no heartbeat for ``GRACE_SECONDS``). A trial without the record of
    its process (killed between Optuna creating it and imblab writing its heartbeat and host: a few
    milliseconds) is failed ``GRACE_SECONDS`` after it started.
    """
    import datetime

    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    now = datetime.datetime.now()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        orphan = (worker is None and trial.datetime_start is not None
                  and (now - trial.datetime_start).total_seconds() > GRACE_SECONDS)
        if orphan or (isinstance(worker, dict) and worker.get("host") == host and _gone(worker)):
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                if storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                    failed.append(trial.number)
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    failed += sorted({t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))} - before)
    if failed:
        log.warning("trial(s) %s of '%s' were left running by a process that is gone: marked failed",
                    ", ".join(map(str, failed)), study.study_name)
    return failed


class Heartbeat:
    """Records a running trial's heartbeat every ``HEARTBEAT_SECONDS`` on a daemon thread (Optuna's
    ``optimize`` does this itself; a driver that asks and tells must)."""

    def __init__(self, storage: optuna.storages.RDBStorage, trial_id: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"imblab-heartbeat-{trial_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as exc:  # noqa: BLE001 - a lost beat is retried; the trial goes on
                log.warning("heartbeat of trial %d not recorded: %s", self._trial_id, exc)

    def __enter__(self) -> Heartbeat:
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
