"""Find a built-in data set's file: ``$IMBLAB_DATA_DIR``, then the cache, then the network."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .._io import atomic_write_bytes
from ..errors import DataError
from ._builtins import Builtin

__all__ = ["cache_dir", "fetch_builtin"]

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``$IMBLAB_CACHE_DIR``, default ``~/.cache/imblab``."""
    return Path(os.environ.get("IMBLAB_CACHE_DIR") or Path.home() / ".cache" / "imblab")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified(builtin: Builtin, raw: bytes, where: str) -> bytes:
    """Canonical bytes of ``raw``; a checksum mismatch is an error, not a warning."""
    data = builtin.canonicalise(raw)
    digest = _sha256(data)
    if digest != builtin.sha256:
        raise DataError(
            f"{where} does not match the published {builtin.name} data (sha256 {digest[:12]}…, "
            f"expected {builtin.sha256[:12]}…): replace it with the file from {builtin.url}"
        )
    return data


def fetch_builtin(builtin: Builtin, *, download: bool = True) -> bytes:
    """The canonical bytes of a built-in data set's file.

    Looks in ``$IMBLAB_DATA_DIR/<name>/<file>``, then ``<cache>/<name>/<file>``, and
    finally downloads it (progress bar, checksum, atomic write into the cache) unless
    ``download`` is false or ``$IMBLAB_OFFLINE`` is set.
    """
    data_dir = os.environ.get("IMBLAB_DATA_DIR")
    if data_dir:
        local = Path(data_dir) / builtin.name / builtin.filename
        if local.is_file():
            return _verified(builtin, local.read_bytes(), str(local))
    cached = cache_dir() / builtin.name / builtin.filename
    if cached.is_file():
        return _verified(builtin, cached.read_bytes(), str(cached))
    where_to_put = (
        f"put {builtin.filename} in $IMBLAB_DATA_DIR/{builtin.name}/ "
        f"(IMBLAB_DATA_DIR={data_dir or 'unset'}) or in {cached.parent}/"
    )
    if not download or os.environ.get("IMBLAB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise DataError(f"{builtin.name} is not available offline: download {builtin.url} and {where_to_put}")
    try:
        payload = _download(builtin.url)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"cannot download {builtin.name} from {builtin.url} ({reason}): download it elsewhere and {where_to_put}"
        ) from None
    raw = payload
    if builtin.archive_member is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                raw = archive.read(builtin.archive_member)
        except (zipfile.BadZipFile, KeyError):
            raise DataError(f"{builtin.url} is not the expected zip archive with {builtin.archive_member}") from None
    data = _verified(builtin, raw, builtin.url)
    atomic_write_bytes(cached, data)
    log.info("cached %s at %s", builtin.name, cached)
    return data


def _download(url: str, timeout: float = 30.0) -> bytes:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https URLs
        total = int(response.headers.get("Content-Length") or 0) or None
        chunks = []
        with Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            transient=True,
        ) as progress:
            task = progress.add_task(f"downloading {url.rsplit('/', 1)[-1]}", total=total)
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                progress.advance(task, len(chunk))
    return b"".join(chunks)
