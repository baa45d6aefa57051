"""File-system rules for everything imblab writes and reads back.

Writes are atomic: readers see the old file or the new one, never half of one. Every file
gets the mode the user's umask gives (0644 for the usual 022), whatever wrote it.

Where imblab writes a folder (``train --out``, ``compare --out``, ``TrainedModel.save``), a
folder it did not make is never deleted or replaced: the target must be missing, an empty
folder, or a folder imblab recognises as its own by its marker files; anything else is an
``OutputError`` raised *before* any work starts (:func:`check_output_dir`).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ImblabError, OutputError

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_write_csv", "atomic_directory",
    "atomic_remove", "remove_partial", "check_output_dir", "read_json", "neutralise_csv_cells", "read_regular_bytes",
    "check_regular_files", "holds_only", "write_csv_text", "unescape_csv_cells", "MAX_FILE_BYTES",
    "write_marker", "has_marker", "MARKER_FILE", "TEMP_FILE", "umask", "nearest_existing", "write_error",
    "sqlite_files",
]

Recognise = Callable[[Path], bool]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


TEMP_FILE = re.compile(r"\.[^/]+\.[a-z0-9_]{8}\.tmp")
"""The name :func:`atomic_write_bytes` gives a file while it is written (``tempfile.mkstemp``: 8 characters)."""


def umask() -> int:
    """The process's umask (read without changing it)."""
    return _umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n")


# Spreadsheets run a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose *text* cells and column names cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (the
    OWASP "CSV Injection" advice); numbers, including negative ones, stay numbers.
    """

    def safe(value: Any) -> Any:
        return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value

    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(i, column.map(safe))
    out.columns = [safe(c) for c in out.columns]
    return out


def _escape_cell(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and value.startswith((*_FORMULA_START, "'")) else value


def _unescape_cell(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def write_csv_text(frame: pd.DataFrame, *, reversible: bool = False) -> str:
    """``frame`` as CSV text: every text cell quoted (a bare carriage return inside a text is a line break to
    most readers, pandas' among them) and neutralised against spreadsheet formulas.

    With ``reversible``, a text starting with ``'`` gets one more, so :func:`unescape_csv_cells` gives back
    exactly what was written (imblab's own run files, which it reads back); without, only formula starts are
    prefixed (the study's tables, for people).
    """
    if reversible:
        frame = frame.copy()
        for i in range(frame.shape[1]):
            column = frame.iloc[:, i]
            if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
                frame.isetitem(i, column.map(_escape_cell))
    else:
        frame = neutralise_csv_cells(frame)
    return frame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)


def unescape_csv_cells(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Undo :func:`write_csv_text`'s reversible prefix in ``columns`` of ``frame`` (in place)."""
    for name in columns:
        if name in frame.columns:
            frame[name] = frame[name].map(_unescape_cell)


def atomic_write_csv(path: str | os.PathLike[str], frame: pd.DataFrame, *, reversible: bool = False) -> Path:
    """``frame`` as CSV for people (spreadsheets): text cells quoted and neutralised, written atomically."""
    return atomic_write_text(path, write_csv_text(frame, reversible=reversible))


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays appear in metrics; JSON has no type for them.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


MAX_FILE_BYTES = 4 << 30
"""The most imblab reads of one file from a folder a user hands it (a model, run, study or cache folder)."""


def read_regular_bytes(path: str | os.PathLike[str], error: type[ImblabError] = ImblabError, *,
                       limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    A link is followed, but what it leads to must be a regular file: a device (``/dev/zero``), a FIFO or a
    socket is refused without reading a byte (a FIFO is opened non-blocking, so no writer is waited for).

    Raises:
        error: naming the file when it is missing, not a regular file, larger than ``limit`` or unreadable.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path} is missing") from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise error(f"{path} is {kind}, not a regular file: imblab reads only regular files there")
        if info.st_size > limit:
            raise error(f"{path} is {info.st_size:,} bytes, more than the {limit:,} imblab reads of such a file")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:  # it grew while being read
            raise error(f"{path} is more than the {limit:,} bytes imblab reads of such a file")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)


def check_regular_files(folder: str | os.PathLike[str], error: type[ImblabError] = ImblabError, *,
                        limit: int = MAX_FILE_BYTES) -> None:
    """Refuse ``folder`` when an entry in it (one level) is not a regular file of at most ``limit`` bytes, or a
    folder: what a third-party loader (``from_pretrained``) would otherwise open blindly."""
    folder = Path(folder)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise error(f"cannot read {folder}: {exc.strerror or type(exc).__name__}") from None
    for name in names:
        path = folder / name
        try:
            info = path.stat()
        except OSError as exc:
            raise error(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path} is a device, FIFO or socket, not a regular file: imblab reads only regular files there")
        if info.st_size > limit:
            raise error(f"{path} is {info.st_size:,} bytes, more than the {limit:,} imblab reads of such a file")


def read_json(path: str | os.PathLike[str], error: type[ImblabError] = ImblabError, *, kind: type = dict,
              limit: int = 1 << 30) -> Any:
    """The JSON document in ``path``; ``error`` naming the file if it is missing, unreadable or truncated.

    Only a regular file of at most ``limit`` bytes is read (:func:`read_regular_bytes`).

    Args:
        path: the file.
        error: the ``ImblabError`` subclass to raise.
        kind: the type the top-level value must have (``dict`` by default; ``object`` for any).
        limit: the largest file read.
    """
    path = Path(path)
    data = read_regular_bytes(path, error, limit=limit)
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {path}: {exc}") from None
    except RecursionError:
        raise error(f"cannot read {path}: it is damaged (nested too deeply)") from None
    except ValueError as exc:  # json.JSONDecodeError: typically a file cut short by a crash or a full disk
        raise error(f"cannot read {path}: it is damaged (not valid JSON: {str(exc)[:200]})") from None
    if not isinstance(value, kind):
        expected = "object" if kind is dict else kind.__name__
        raise error(f"cannot read {path}: it is damaged (a JSON {expected} was expected, not {type(value).__name__})")
    return value


# ---------------------------------------------------------------------------------------------- output folders
def nearest_existing(path: Path) -> Path:
    """``path``, or its nearest parent that exists."""
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def write_error(folder: Path) -> str | None:
    """Why a file cannot be made in ``folder`` (None: it can). A file is created and removed: the only test that
    also holds for root, ACLs and read-only mounts."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".imblab-write-test.")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    os.unlink(probe)
    return None


def _probe_writable(folder: Path, what: str, target: Path) -> None:
    reason = write_error(folder)
    if reason is not None:
        raise OutputError(f"cannot write the {what} to {target}: {folder} is not writable ({reason})")


def check_output_dir(
    path: str | os.PathLike[str], *, recognise: Recognise | None = None, what: str = "output",
    replace: bool = True,
) -> Path:
    """Check, before any work, that imblab may write the folder ``path``; return it.

    The rule: ``path`` is missing, an empty folder, or a folder that ``recognise`` identifies as
    imblab's own (by its marker files); and the place it will be written is writable.

    Args:
        path: the folder to be written.
        recognise: says whether an existing, non-empty folder is one imblab made (and may rewrite).
        what: names the folder's contents in messages ("run", "model", "study").
        replace: True when the folder is replaced as a whole (written beside it, then renamed: its
            parent must be writable); False when files are written into it.

    Raises:
        OutputError: ``path`` (or a parent) is a file, a non-empty folder imblab did not make, or not writable.
    """
    path = Path(path)
    existing = nearest_existing(path)
    if existing.exists() and not existing.is_dir():
        where = "" if existing == path else f" (a parent of {path})"
        raise OutputError(f"{existing} is a file, not a folder{where}: give a new or empty folder for the {what}")
    if path.is_symlink() and not path.is_dir():
        raise OutputError(f"{path} is a link to no folder: give a new or empty folder for the {what}")
    if replace and path.is_symlink():
        raise OutputError(
            f"{path} is a symbolic link: imblab writes the {what} beside it and renames it into place, which would "
            f"replace the link; give the folder it points to ({os.path.realpath(path)}) or a new folder"
        )
    if replace and path.is_dir() and os.path.ismount(path):
        raise OutputError(
            f"{path} is a mount point: imblab writes the {what} beside it and renames it into place, which a mount "
            f"point cannot take; give a new folder inside it"
        )
    if path.is_dir():
        try:
            with os.scandir(path) as listing:
                entries = next(listing, None) is not None
        except OSError as exc:
            raise OutputError(f"cannot read {path}: {exc.strerror}") from None
        if entries and not (recognise is not None and recognise(path)):
            raise OutputError(
                f"{path} holds files imblab did not make (it is not an imblab {what}): give a new or empty folder "
                f"for the {what}; imblab never replaces your files"
            )
        # A replaced folder is built beside it and renamed: that needs its parent, not itself, writable.
        _probe_writable(path.parent if replace else path, what, path)
    else:
        _probe_writable(existing, what, path)
    return path


def sqlite_files(database: str) -> tuple[str, ...]:
    """``database`` and SQLite's own files beside it: the rollback journal a write in flight keeps (and a process
    killed in one leaves, for the next connection to roll back), and the write-ahead log's two files."""
    return (database, *(database + suffix for suffix in ("-journal", "-wal", "-shm")))


MARKER_FILE = ".imblab"
"""The file that marks a folder imblab writes files into (a study, a tuning folder) as imblab's, written first."""


def write_marker(folder: str | os.PathLike[str], kind: str) -> None:
    """Mark ``folder`` as imblab's ``kind`` of folder (``study``, ``tuning``); the folder is made if missing."""
    folder = Path(folder)
    for _ in range(3):
        if has_marker(folder, kind):
            return
        try:
            atomic_write_json(folder / MARKER_FILE, {"kind": kind, "note": "written by imblab: this folder is imblab's"})
            return
        except FileNotFoundError:
            # Another process on the same folder removed this write's temporary file as a leftover (its clean-up
            # runs under the study lock, the marker is written before it): look again, write again.
            continue
    raise FileNotFoundError(f"could not write imblab's marker in {folder}: its temporary file kept disappearing")


def has_marker(folder: str | os.PathLike[str], kind: str) -> bool:
    """Whether ``folder`` carries imblab's marker for ``kind``."""
    path = Path(folder) / MARKER_FILE
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 4096:
            return False
        return json.loads(path.read_text(encoding="utf-8")).get("kind") == kind
    except (OSError, ValueError, AttributeError):
        return False


def holds_only(folder: str | os.PathLike[str], names: Iterable[str], *,
               temporary: re.Pattern[str] | None = None) -> bool:
    """Whether every entry of ``folder`` is one of ``names`` (or matches ``temporary``): nothing imblab does
    not write there. False when the folder cannot be listed."""
    allowed = set(names)
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    return all(name in allowed or (temporary is not None and temporary.fullmatch(name)) for name in entries)


def _give_umask_modes(root: Path) -> None:
    """Files and folders under ``root`` get the umask's modes: some writers (safetensors) make files 0600."""
    mask = _umask()
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o666 & ~mask)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, recognise: Recognise | None = None,
                     what: str = "output") -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place on success.

    An exception (or SIGINT) inside the block removes the temporary directory, so ``path``
    either does not exist or is complete. An existing ``path`` is replaced only when it is an
    empty folder or ``recognise`` says imblab made it (see :func:`check_output_dir`); otherwise
    ``OutputError`` is raised before anything is moved.
    """
    path = Path(path)
    check_output_dir(path, recognise=recognise, what=what)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(path)
    # The writer's pid in the name: a later write removes what a killed writer left (and only that).
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.p{os.getpid()}.", suffix=".partial"))
    try:
        yield tmp
        _give_umask_modes(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            # Checked again at the last moment: the folder may have changed while the block ran.
            check_output_dir(path, recognise=recognise, what=what)
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old)  # an empty placeholder: replaced atomically by the old folder
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _remove_dead_partials(path: Path) -> None:
    """Remove the ``.<name>.p<pid>.*.partial`` folders beside ``path`` whose writer (on this machine) is gone."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.p(\d+)\.[a-z0-9_]{{8}}\.partial")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match and not _pid_alive(int(match.group(1))):
            shutil.rmtree(path.parent / name, ignore_errors=True)


def remove_partial(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what :func:`atomic_directory` left beside ``path`` when its writer was killed (SIGKILL, a lost
    worker): the ``.<name>.*.partial`` folders. Only their owner may call this (the process that writes
    ``path``, or the driver that gave the run to a worker that died); returns what was removed."""
    path = Path(path)
    removed = sorted(path.parent.glob(f".{glob.escape(path.name)}.*.partial")) if path.parent.is_dir() else []
    for leftover in removed:
        shutil.rmtree(leftover, ignore_errors=True)
    return removed


def atomic_remove(path: str | os.PathLike[str]) -> None:
    """Remove the folder ``path`` so that it is whole or gone, never half-deleted: it is renamed to a hidden
    ``.<name>.*.old`` sibling first (one atomic rename), then deleted."""
    path = Path(path)
    if not path.exists():
        return
    old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
    os.replace(path, old)  # onto the empty placeholder: atomic
    shutil.rmtree(old, ignore_errors=True)
