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
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ImblabError, OutputError

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_write_csv", "atomic_directory",
    "atomic_remove", "remove_partial", "check_output_dir", "read_json", "neutralise_csv_cells",
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


def atomic_write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """``frame`` as CSV for people (spreadsheets): text cells neutralised, written atomically."""
    return atomic_write_text(path, neutralise_csv_cells(frame).to_csv(index=False))


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays appear in metrics; JSON has no type for them.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_json(path: str | os.PathLike[str], error: type[ImblabError] = ImblabError, *, kind: type = dict) -> Any:
    """The JSON document in ``path``; ``error`` naming the file if it is missing, unreadable or truncated.

    Args:
        path: the file.
        error: the ``ImblabError`` subclass to raise.
        kind: the type the top-level value must have (``dict`` by default; ``object`` for any).
    """
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    except ValueError as exc:  # json.JSONDecodeError: typically a file cut short by a crash or a full disk
        raise error(f"cannot read {path}: it is damaged (not valid JSON: {exc})") from None
    if not isinstance(value, kind):
        expected = "object" if kind is dict else kind.__name__
        raise error(f"cannot read {path}: it is damaged (a JSON {expected} was expected, not {type(value).__name__})")
    return value


# ---------------------------------------------------------------------------------------------- output folders
def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _probe_writable(folder: Path, what: str, target: Path) -> None:
    """Create and remove a file in ``folder``: the only test that also holds for root, ACLs and read-only mounts."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".imblab-write-test.")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write the {what} to {target}: {folder} is not writable ({reason})") from None
    os.close(fd)
    os.unlink(probe)


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
    existing = _nearest_existing(path)
    if existing.exists() and not existing.is_dir():
        where = "" if existing == path else f" (a parent of {path})"
        raise OutputError(f"{existing} is a file, not a folder{where}: give a new or empty folder for the {what}")
    if path.is_symlink() and not path.is_dir():
        raise OutputError(f"{path} is a link to no folder: give a new or empty folder for the {what}")
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
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial"))
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
