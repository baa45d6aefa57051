"""imblab's version, in a module of its own (any module may import it without importing the package), and the
one collector of installed packages' versions that runs, models and reports record."""

from __future__ import annotations

import functools
from importlib import metadata

__version__ = "0.1.0"


@functools.lru_cache(maxsize=None)
def package_version(name: str) -> str | None:
    """The installed version of the distribution ``name``, None if it is not installed (looked up once per process:
    reading a package's metadata takes milliseconds, and a study records it for every run)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
