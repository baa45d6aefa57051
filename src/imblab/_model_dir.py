"""What makes a folder an imblab model folder, checked without importing the model stack (torch, scikit-learn).

``imblab.json`` is a model folder's own file, what ``load_model`` reads first; it names the format. A folder is
an imblab model folder only with that file **and** nothing in it that a model folder does not hold.
"""

from __future__ import annotations

from pathlib import Path

from ._io import holds_only, read_json
from .errors import ModelError

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_FILE", "METADATA_LIMIT", "MODEL_FILES", "check_model_dir",
           "is_model_dir", "resolve_model_dir"]

FORMAT = "imblab-model"
FORMAT_VERSION = 1
METADATA_LIMIT = 256 << 20  # imblab.json: labels, counts, technique, a history row per epoch
METADATA_FILE = "imblab.json"


def resolve_model_dir(path: str | Path) -> Path:
    """The model folder of ``path``: a run directory's ``model/`` folder, or ``path`` itself.

    ``imblab train`` and ``imblab compare`` store a run with its model in ``model/``; a user may
    name the run or the model folder. Whether the result holds a model is :func:`check_model_dir`'s
    to check.
    """
    path = Path(path)
    if (path / "model" / METADATA_FILE).is_file():
        return path / "model"
    return path


def check_model_dir(directory: str | Path) -> Path:
    """``directory`` if it is an imblab model folder (checked before the model stack is imported).

    Raises:
        ModelError: it does not exist or holds no ``imblab.json``.
    """
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"model directory {directory} does not exist")
    if not directory.is_dir() or not (directory / METADATA_FILE).is_file():
        raise ModelError(f"{directory} is not an imblab model directory (no {METADATA_FILE})")
    return directory


MODEL_FILES = (METADATA_FILE, "tfidf.json", "tfidf_idf.npz", "head.safetensors", "transformer")
"""Everything a model folder of any backend holds: a folder with anything else is not one imblab made."""


def is_model_dir(directory: str | Path) -> bool:
    """Whether ``directory`` is a model folder imblab made: its ``imblab.json`` names the format, and it holds
    nothing a model folder does not (so imblab may replace it)."""
    directory = Path(directory)
    if directory.is_symlink() or not holds_only(directory, MODEL_FILES):
        return False
    try:
        meta = read_json(directory / METADATA_FILE, ModelError, limit=METADATA_LIMIT)
    except ModelError:
        return False
    return meta.get("format") == FORMAT
