"""Read a labelled text table from a user's file (.csv, .tsv, .jsonl, .json, .parquet)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from ..errors import DataError

__all__ = ["SUPPORTED_SUFFIXES", "decode", "read_table", "pick_column"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
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


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read ``path`` by its suffix into a DataFrame whose cells are strings or missing."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(f"unsupported file type {suffix or '(none)'} for {path}: use one of {', '.join(SUPPORTED_SUFFIXES)}")
    raw = path.read_bytes()
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
                frame = pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()])
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
    found = "several" if matches else "no"
    raise DataError(
        f"{found} {role} column found in {where} (looked for {'/'.join(candidates)}); "
        f"pass {flag} with one of the available columns: {', '.join(columns)}"
    )
