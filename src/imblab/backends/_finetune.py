"""Full fine-tuning of ``AutoModelForSequenceClassification`` by the loop.

Defaults follow BERT's fine-tuning recipe (Devlin et al. 2019) as used in the study:
3 epochs, batch 32, max length 128, 6 % linear warm-up then linear decay, weight decay
0.01, clipping at 1.0, and lr 2e-5 for base-size encoders (hidden size >= 768); small
encoders such as MiniLM-L6 (hidden 384) learn too slowly at 2e-5 in 3 epochs, so they get
5e-5. Batches are grouped by length and padded per batch; on a GPU the forward pass runs
in bf16 (Accelerate). The technique's initial bias goes to the final ``Linear`` layer that
produces the ``num_labels`` logits (BERT ``classifier``, RoBERTa ``classifier.out_proj``,
DistilBERT ``classifier``, ...).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors import SafetensorError

from ..errors import ModelError
from ..training import (Batches, Callback, EarlyStopping, EpochListener, LoopConfig, Validation, autocast,
                        cast_linears_to_bf16, resolve_mixed_precision, seed_everything, train)
from ._encoders import (DEFAULT_MODEL, check_encoder_folder, length_chunks, quiet_loading, resolve_model_name,
                        token_lengths)
from ._protocol import FitData, FitSettings, macro_f1_scorer

__all__ = ["FinetuneBackend"]

log = logging.getLogger(__name__)

_SUBDIR = "transformer"
_PREDICT_BATCH = 64

class FinetuneBackend:
    """A transformer fine-tuned end to end, head and encoder."""

    name: ClassVar[str] = "finetune"

    @classmethod
    def create(cls, *, model_name: str | None = None, max_length: int = 128, **_: Any) -> FinetuneBackend:
        return cls(model_name, max_length=max_length)

    def __init__(self, model_name: str | None = None, *, max_length: int = 128) -> None:
        self.model_name = model_name if model_name not in (None, DEFAULT_MODEL) else None
        self.model_path = resolve_model_name(model_name)
        self.max_length = max_length
        self.model: Any = None
        self.tokenizer: Any = None
        self.fit_info: dict[str, Any] | None = None
        #: ``bf16`` or ``no``, resolved at fit from the loop's ``mixed_precision``; what prediction computes in too.
        self._mixed_precision = "no"

    @property
    def precision(self) -> str:
        """What the network computes in (``bf16`` or ``no``): resolved at fit, stored with the model."""
        return self._mixed_precision

    def default_loop(self) -> LoopConfig:
        from transformers import AutoConfig

        try:
            hidden = getattr(AutoConfig.from_pretrained(self.model_path), "hidden_size", 768)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load model {self.model_path!r}: {str(exc).splitlines()[0]}") from None
        return LoopConfig(epochs=3, batch_size=32, lr=2e-5 if hidden >= 768 else 5e-5, weight_decay=0.01,
                          warmup_ratio=0.06, max_grad_norm=1.0, mixed_precision="auto")

    def _batch(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return dict(self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                                   return_tensors="pt"))

    def fit(self, data: FitData, fitted: Any, how: FitSettings) -> list[dict[str, Any]]:
        texts, y, val_texts, val_y = data.texts, data.y, data.val_texts, data.val_y
        loop, seed, progress, head, on_epoch = how.loop, how.seed, how.progress, how.head, how.on_epoch
        # ``head`` configures the convex heads of the other backends; fine-tuning trains by SGD (with an
        # ``on_epoch`` listener, its per-epoch validation is scored by ``head.metric``).
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from ..integrations.transformers import apply_bias_init

        if loop is None:
            raise ValueError("fine-tuning needs a LoopConfig")
        labels = list(fitted.labels)
        seed_everything(seed)  # the new classification layer's initial weights
        try:
            with quiet_loading():  # the fresh classification layer is always reported as missing
                self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
                self.model = AutoModelForSequenceClassification.from_pretrained(
                    # fp32 master weights whatever the checkpoint's dtype (transformers 5 loads "auto"):
                    # AdamW on fp16 weights loses small updates; bf16 enters through autocast on GPU.
                    self.model_path, dtype=torch.float32, num_labels=len(labels), id2label=dict(enumerate(labels)),
                    label2id={label: i for i, label in enumerate(labels)},
                )
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load model {self.model_path!r}: {str(exc).splitlines()[0]}") from None
        apply_bias_init(self.model, fitted)  # a no-op for techniques without bias init
        texts = list(texts)
        lengths = token_lengths(self.tokenizer, texts, self.max_length)
        self._mixed_precision = resolve_mixed_precision(loop.mixed_precision)
        callbacks: list[Callback] = []
        validation = val_texts is not None and val_y is not None
        if validation and (on_epoch is not None or loop.patience is not None):
            callbacks.append(Validation(self._validation_score(val_texts, np.asarray(val_y), labels, head, on_epoch)))
        if on_epoch is not None:
            callbacks.append(EpochListener(on_epoch))
        if validation and loop.patience is not None:
            callbacks.append(EarlyStopping(loop.patience))
        batches = Batches(lambda rows: self._batch([texts[i] for i in rows]), np.asarray(y), lengths)
        history = train(self.model, batches, fitted, loop, seed=seed, callbacks=callbacks, progress=progress,
                        description="fine-tuning")
        # A copy for prediction made by validation during training is of the model as training had it (its
        # CPU dropout path swapped in, training/_dropout.py), not of the model training leaves behind.
        self._bf16_copy = None
        return history

    def _validation_score(self, val_texts: Sequence[str], val_y: np.ndarray, labels: list[str], head: Any,
                          on_epoch: Any) -> Callable[[Any], float]:
        """The per-epoch validation score: the study's metric when tuning listens (pruning), signed so that higher
        is better; macro-F1 for early stopping alone."""
        if on_epoch is not None:
            from ._convex import validation_scorer

            scorer = validation_scorer(val_y, labels, getattr(head, "metric", "macro_f1"))
            return lambda _model: scorer(self.predict_logits(val_texts))[0]
        return macro_f1_scorer(lambda: self.predict_logits(val_texts), val_y)

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise ModelError("the finetune backend is not fitted")
        texts = list(texts)
        self.model.eval()
        device = next(self.model.parameters()).device
        chunks = length_chunks(token_lengths(self.tokenizer, texts, self.max_length), max_texts=_PREDICT_BATCH,
                               device_type=device.type, threads=torch.get_num_threads())
        out = np.zeros((len(texts), self.model.config.num_labels), dtype=np.float32)
        model = self._inference_model()
        with torch.inference_mode(), autocast(self._mixed_precision, device):
            for rows in chunks:
                batch = {k: v.to(device) for k, v in self._batch([texts[i] for i in rows]).items()}
                out[rows] = model(**batch).logits.float().cpu().numpy()
        return out

    def _inference_model(self) -> Any:
        """The model to predict with: in bf16, a copy whose linear layers hold bf16 weights (bit-identical to
        autocast on the fp32 ones, without casting every weight in every pass), remade whenever training has
        changed a weight since (each parameter's in-place version counter)."""
        if self._mixed_precision != "bf16":
            return self.model
        versions = tuple(p._version for p in self.model.parameters())
        cached = getattr(self, "_bf16_copy", None)
        if cached is None or cached[0] is not self.model or cached[1] != versions:
            cached = (self.model, versions, cast_linears_to_bf16(copy.deepcopy(self.model)).eval())
            self._bf16_copy = cached
        return cached[2]

    def settings(self) -> dict[str, Any]:
        return {"model_name": self.model_name or DEFAULT_MODEL, "model_path": self.model_path,
                "max_length": self.max_length, "precision": self._mixed_precision}

    def save(self, directory: Path) -> None:
        if self.model is None:
            raise ModelError("the finetune backend is not fitted")
        target = directory / _SUBDIR
        with quiet_loading():
            self.model.save_pretrained(target)  # safetensors (the only format transformers 5 writes)
        self.tokenizer.save_pretrained(target)

    @classmethod
    def load(cls, directory: Path, settings: dict[str, Any]) -> FinetuneBackend:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        target = directory / _SUBDIR
        if not target.is_dir():
            raise ModelError(f"{directory} has no folder {_SUBDIR}/ with the fine-tuned weights")
        backend = cls.__new__(cls)
        backend.fit_info = None
        backend.model_name = settings.get("model_name")
        backend.model_path = settings.get("model_path", "")
        try:
            backend.max_length = int(settings["max_length"])
            # Predict in the precision it was trained and evaluated in (a model stored before it was recorded: fp32).
            backend._mixed_precision = resolve_mixed_precision(str(settings.get("precision", "no")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{directory}: the finetune backend's settings are damaged ({type(exc).__name__}: {exc})") from None
        check_encoder_folder(target)
        try:
            backend.tokenizer = AutoTokenizer.from_pretrained(target)
            with quiet_loading():
                # Safetensors only: a pytorch_model.bin beside it is never unpickled, whatever it holds.
                backend.model, info = AutoModelForSequenceClassification.from_pretrained(
                    target, dtype=torch.float32, use_safetensors=True, output_loading_info=True,
                )
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"cannot load the fine-tuned model in {target}: {first}") from None
        # A weight the file lacks would be initialised at random: the model would predict noise without a word.
        missing = sorted({*info.get("missing_keys", ()), *(k for k, *_ in info.get("mismatched_keys", ()))})
        if missing:
            raise ModelError(f"{target} is not the whole fine-tuned model: it lacks {', '.join(missing[:3])}"
                             f"{' and more' if len(missing) > 3 else ''} (an encoder without its trained head?)")
        backend.model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        return backend
