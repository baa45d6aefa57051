"""A frozen Hugging Face encoder's pooled embeddings with a linear head fitted as a convex problem.

Embeddings are cached on disk under ``<IMBLAB_CACHE_DIR>/embeddings/`` keyed by the
encoder's identity (hash of its files, or hub id + revision), max length, pooling and
the texts' content hash: a second run, another technique or another seed never re-embeds.
Pooled embeddings are L2-normalised before the head (as sentence-transformers does for
all-MiniLM-L6-v2). The head is fitted like the TF-IDF backend's: full-batch L-BFGS with L2, the
strength chosen on the validation split (``_convex.py``) — on the same embeddings, scikit-learn's
``LogisticRegression`` with the technique's loss.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._cores import usable_cores
from .._io import atomic_write_bytes, read_regular_bytes
from ..data import cache_dir
from ..errors import ModelError
from ..training import autocast, cast_linears_to_bf16, resolve_mixed_precision
from ._features import FeatureBackend
from ._encoders import (CPU_TOKENS_PER_THREAD, DEFAULT_MODEL, check_encoder_folder, length_chunks, model_identity,
                        quiet_loading, resolve_model_name, token_lengths)
from ._heads import LinearHead
from ._protocol import texts_hash

if TYPE_CHECKING:
    import torch


__all__ = ["FrozenBackend", "POOLINGS"]

log = logging.getLogger(__name__)

POOLINGS = ("mean", "cls")
_HEAD = "head.safetensors"
_EMBED_BATCH = 64


def _pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    if pooling == "cls":
        return hidden[:, 0]
    # Mean over real tokens only (Reimers & Gurevych, Sentence-BERT, EMNLP 2019).
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def _read_cached(path: Path) -> np.ndarray | None:
    if not path.exists():
        return None
    try:  # a regular file of bounded size, never unpickled; anything else is computed again
        pooled = np.load(io.BytesIO(read_regular_bytes(path, ModelError)), allow_pickle=False)
    except (OSError, ValueError, EOFError, ModelError):
        return None
    if pooled.ndim != 2 or pooled.dtype.kind != "f":
        return None
    log.info("re-using %d cached embeddings from %s", len(pooled), path)
    return pooled


@contextlib.contextmanager
def _every_core() -> Iterator[None]:
    """Embed on every core this process may use, even in a worker limited to its share (``--workers``): other
    workers wait for this cache entry or fit one-thread heads meanwhile, and the embeddings are computed with
    the thread count of a run in one process (so, bit for bit, the same numbers)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(before, usable_cores()))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class FrozenBackend(FeatureBackend):
    """Frozen encoder -> pooled, normalised embedding -> :class:`LinearHead` fitted by ``fit_head``."""

    name: ClassVar[str] = "frozen"
    head_transposed: ClassVar[bool] = True  # (C, d), as nn.Linear stores it

    @classmethod
    def create(cls, *, model_name: str | None = None, max_length: int = 128, pooling: str = "mean",
               mixed_precision: str | None = None, **_: Any) -> FrozenBackend:
        return cls(model_name, max_length=max_length, pooling=pooling, mixed_precision=mixed_precision)

    def __init__(self, model_name: str | None = None, *, max_length: int = 128, pooling: str = "mean",
                 mixed_precision: str | None = None) -> None:
        if pooling not in POOLINGS:
            raise ModelError(f"unknown pooling {pooling!r}: use one of {', '.join(POOLINGS)}")
        self.model_name = model_name if model_name not in (None, DEFAULT_MODEL) else None
        self.model_path = resolve_model_name(model_name)
        self.max_length = max_length
        self.pooling = pooling
        #: ``bf16`` or ``no``: what the encoder computes in (``auto`` resolved for this machine; training/_precision).
        self.precision = resolve_mixed_precision(mixed_precision)
        #: Whether embeddings go through the disk cache: a study's splits are embedded once for every run. A loaded
        #: model (``imblab predict``, ``imblab serve``) computes them and writes nothing: a server's every
        #: micro-batch would otherwise become a file, without end.
        self.cache = True
        self._identity: str | None = None
        self._encoder: Any = None
        self._tokenizer: Any = None
        self.head: LinearHead | None = None
        self.fit_info: dict[str, Any] | None = None


    # ------------------------------------------------------------------ embeddings
    @property
    def identity(self) -> str:
        if self._identity is None:
            self._identity = model_identity(self.model_path)
        return self._identity

    def _load_encoder(self) -> None:
        if self._encoder is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer

        log.info("loading encoder %s", self.model_path)
        check_encoder_folder(self.model_path)
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
            with quiet_loading():
                # Safetensors only: a pickled pytorch_model.bin is never opened, whatever it holds.
                self._encoder = AutoModel.from_pretrained(self.model_path, dtype=torch.float32, use_safetensors=True)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"cannot load encoder {self.model_path!r}: {first}") from None
        self._encoder.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        if self.precision == "bf16":  # the encoder is never trained nor saved: its bf16 weights can replace fp32's
            cast_linears_to_bf16(self._encoder)

    def _cache_path(self, texts: Sequence[str]) -> Path:
        # bf16 embeddings are other numbers: their own entries (an fp32 key keeps its old form, so old entries hold).
        # In bf16 a text's numbers also move with the length of the pass it is padded to, so the passes are part of
        # the key: the token budget a thread and the cores of the machine (`_every_core` embeds on all of them).
        # An entry made another way (by an imblab before length-sorted passes, or on a machine with other cores)
        # is never served: a study reads the numbers a fresh computation here gives.
        precision = ["bf16", f"passes:{CPU_TOKENS_PER_THREAD}x{usable_cores()}"] if self.precision == "bf16" else []
        key = json.dumps([self.identity, self.max_length, self.pooling, texts_hash(texts), *precision])
        return cache_dir() / "embeddings" / f"{hashlib.sha256(key.encode()).hexdigest()}.npy"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self._load_encoder()
        device = next(self._encoder.parameters()).device
        chunks = length_chunks(token_lengths(self._tokenizer, texts, self.max_length), max_texts=_EMBED_BATCH,
                               device_type=device.type, threads=torch.get_num_threads())
        out = np.zeros((len(texts), self._encoder.config.hidden_size), dtype=np.float32)
        with torch.inference_mode(), autocast(self.precision, device):
            for rows in chunks:
                batch = self._tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                        max_length=self.max_length, return_tensors="pt").to(device)
                hidden = self._encoder(**batch).last_hidden_state
                out[rows] = _pool(hidden, batch["attention_mask"], self.pooling).float().cpu().numpy()
        return out

    def embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) L2-normalised pooled embeddings, through the disk cache (a loaded model's: computed, never stored).

        Safe with concurrent writers (a study's worker processes, several studies): an entry is computed
        under its own file lock, so the others wait for it and read the same file — one key never gets two
        different embeddings, and no work is done twice.
        """
        pooled = self._cached(texts) if self.cache else self._embed(texts)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _cached(self, texts: Sequence[str]) -> np.ndarray:
        """The pooled embeddings of ``texts`` from the disk cache, computed and stored first when missing."""
        path = self._cache_path(texts)
        pooled = _read_cached(path)
        if pooled is None:
            from filelock import FileLock

            path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(f"{path}.lock"):
                pooled = _read_cached(path)  # another process may have written it while this one waited
                if pooled is None:
                    with _every_core():
                        pooled = self._embed(texts)
                    buffer = io.BytesIO()
                    np.save(buffer, pooled, allow_pickle=False)
                    atomic_write_bytes(path, buffer.getvalue())
                    log.info("cached %d embeddings at %s", len(texts), path)
        return pooled

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return self.embeddings(texts)

    def features_key(self, texts: Sequence[str], val_texts: Sequence[str] | None) -> tuple[str, str | None]:
        # The embedding cache's entries identify the features: a fit repeated with them is made once.
        return (str(self._cache_path(texts)), str(self._cache_path(val_texts)) if val_texts is not None else None)

    def settings(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name or DEFAULT_MODEL,
            "model_path": self.model_path,
            "model_identity": self.identity,
            "max_length": self.max_length,
            "pooling": self.pooling,
            "precision": self.precision,
        }

    # The encoder is referenced (name + identity), not copied: it is frozen and often large; save_features
    # writes nothing.

    @classmethod
    def from_settings(cls, settings: dict[str, Any], directory: Path) -> FrozenBackend:
        try:
            # A model stored before precision was recorded embedded in fp32.
            precision = str(settings.get("precision", "no"))
            backend = cls(str(settings["model_name"]), max_length=int(settings["max_length"]),
                          pooling=str(settings["pooling"]), mixed_precision=precision)
            identity = str(settings["model_identity"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{directory}: the frozen backend's settings are damaged ({type(exc).__name__}: {exc})") from None
        if backend.identity != identity:
            raise ModelError(
                f"the encoder {backend.model_path} differs from the one this model was trained with "
                f"({settings['model_identity'][:19]}…): install or pass the same encoder"
            )
        backend.cache = False  # a loaded model predicts for a user or a server: nothing written to the cache
        return backend

    def check_loaded(self, directory: Path) -> None:
        self._load_encoder()  # now, not at the first prediction: a model that cannot predict is refused at load
