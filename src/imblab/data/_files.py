"""Read a labelled text table from a user's file (.csv, .tsv, .jsonl, .json, .parquet), compressed or not.

A compressed file (``.gz``, ``.bz2``, ``.xz``, ``.zst``, ``.zip``) is read by the suffix under the
compression: ``train.csv.gz`` is a gzipped CSV; a ``.zip`` holds one table file (the name of the
member decides its format when the archive's name does not).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zipfile
from pathlib import Path

import pandas as pd

from .._io import read_regular_bytes
from ..errors import DataError

__all__ = ["SUPPORTED_SUFFIXES", "COMPRESSIONS", "decode", "read_table", "pick_column", "table_format", "read_file_bytes"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst", ".zip")
TEXT_CANDIDATES = ("text", "sms", "tweet", "sentence", "message")
LABEL_CANDIDATES = ("label", "class", "target", "y")


def decode(raw: bytes, encoding: str, where: str) -> str:
    """Decode ``raw``; an undecodable byte is reported with its line number."""
    try:
        return raw.decode(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} for {where}: pass --encoding with a Python codec name") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"cannot decode {where} as {encoding} at line {line} (byte 0x{raw[exc.start]:02x}): "
            f"pass --encoding with the file's encoding, e.g. --encoding latin-1"
        ) from None


def table_format(path: Path) -> tuple[str, str | None]:
    """(table suffix, compression suffix or None) from a file name: ``a.csv.gz`` → (".csv", ".gz")."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = suffixes.pop() if suffixes and suffixes[-1] in COMPRESSIONS else None
    return (suffixes[-1] if suffixes else ""), compression


def _decompress(raw: bytes, compression: str, path: Path) -> tuple[bytes, str | None]:
    """The decompressed bytes, and for a zip the suffix of its one member."""
    try:
        if compression == ".gz":
            return gzip.decompress(raw), None
        if compression == ".bz2":
            return bz2.decompress(raw), None
        if compression == ".xz":
            return lzma.decompress(raw), None
        if compression == ".zst":
            return _zstd_decompress(raw, path), None
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
            if len(members) != 1:
                raise DataError(f"{path} holds {len(members)} files: a .zip must hold exactly one table file")
            return archive.read(members[0]), Path(members[0].filename).suffix.lower()
    except DataError:
        raise
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot decompress {path} as {compression}: {exc}") from None


def _zstd_decompress(raw: bytes, path: Path) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python ≥ 3.14

        return zstd.decompress(raw)
    except ImportError:
        pass
    try:
        import zstandard
    except ImportError:
        raise DataError(f"reading {path} needs Zstandard support: pip install zstandard (or Python ≥ 3.14)") from None
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
            return reader.read()
    except zstandard.ZstdError as exc:
        raise ValueError(str(exc)) from None


def read_file_bytes(path: Path) -> tuple[bytes, str]:
    """The file's bytes, decompressed when its name says it is compressed, and its table suffix."""
    suffix, compression = table_format(path)
    raw = read_regular_bytes(path, DataError)  # a regular file: never a device or a FIFO
    if compression is not None:
        raw, member_suffix = _decompress(raw, compression, path)
        if member_suffix and suffix not in SUPPORTED_SUFFIXES:
            suffix = member_suffix
    return raw, suffix


def _jsonl_records(text: str, path: Path) -> list[dict] | list[list]:
    """One record per line: all objects (columns by key) or all arrays (columns "0", "1", ... by position).

    A bad line is reported with its own line number.
    """
    records: list = []
    kind: type | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise DataError(f"cannot parse {path} at line {number}: {message}") from None
        if not isinstance(record, (dict, list)) or (kind is not None and not isinstance(record, kind)):
            expected = "an object" if kind is dict else "an array" if kind is list else "an object or an array"
            raise DataError(
                f"{path} line {number} is a JSON {type(record).__name__}, not {expected} like the lines before: "
                'each line must be one record such as {"text": "...", "label": "..."}'
            )
        kind = type(record)
        records.append(record)
    return records


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read ``path`` by its suffix into a DataFrame whose cells are strings or missing; column names are strings."""
    suffix, compression = table_format(path)
    if suffix not in SUPPORTED_SUFFIXES and compression != ".zip":
        shown = "".join(s for s in (suffix, compression) if s) or "(none)"
        raise DataError(
            f"unsupported file type {shown} for {path}: use one of {', '.join(SUPPORTED_SUFFIXES)}, "
            f"optionally compressed ({', '.join(COMPRESSIONS)}), or a Hugging Face datasets folder"
        )
    raw, suffix = read_file_bytes(path)
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(f"{path} holds a {suffix or 'file without suffix'}: use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not raw.strip():
        raise DataError(f"{path} is empty")
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(io.BytesIO(raw))
        else:
            text = decode(raw, encoding, str(path))
            if not text.strip():
                raise DataError(f"{path} is empty")
            if suffix in (".csv", ".tsv"):
                # dtype=str keeps labels as written ("1" stays "1"); only truly empty cells are missing.
                frame = pd.read_csv(
                    io.StringIO(text), sep="\t" if suffix == ".tsv" else ",", dtype=str,
                    keep_default_na=False, na_values=[""],
                )
            elif suffix == ".jsonl":
                frame = pd.DataFrame(_jsonl_records(text, path))
            else:
                records = json.loads(text)
                if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                    raise DataError(f"{path} must hold a JSON list of records ({{column: value}} objects)")
                frame = pd.DataFrame(records)
    except DataError:
        raise
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot parse {path}: {first}") from None
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{path} is empty: no rows")
    # Column names as the user types them in --text-column (a parquet or JSON key may be an int).
    frame.columns = [str(c) for c in frame.columns]
    return frame


def pick_column(frame: pd.DataFrame, requested: str | None, candidates: tuple[str, ...], role: str, flag: str, where: str) -> str:
    """The column named ``requested``, or the one column whose name is a known ``role`` name."""
    columns = [str(c) for c in frame.columns]
    if requested is not None:
        if requested not in columns:
            raise DataError(f"no column {requested!r} in {where}; available columns: {', '.join(columns)}")
        return requested
    matches = [c for c in columns if c.strip().lower() in candidates]
    if len(matches) == 1:
        return matches[0]
    found = f"several {role} columns ({', '.join(matches)}) found" if matches else f"no {role} column found"
    raise DataError(
        f"{found} in {where} (looked for {'/'.join(candidates)}); "
        f"pass {flag} with one of the available columns: {', '.join(columns)}"
    )
