"""Hugging Face ``transformers`` drop-in: any imblab technique in a stock ``Trainer``.

Three pieces, usable on their own:

* :func:`make_compute_loss_func` — the technique's loss as ``Trainer(compute_loss_func=...)``
  (transformers ≥ 4.46). Pass the same object in ``callbacks=[...]`` so that techniques that
  change over training (LDAM-DRW) see the training progress.
* :func:`apply_bias_init` — set the output bias of any ``AutoModelForSequenceClassification``
  head (the last ``nn.Linear`` with ``num_labels`` outputs: BERT ``classifier``, RoBERTa
  ``classifier.out_proj``, DistilBERT ``classifier``, …) to the technique's prior bias.
* :class:`TechniqueSampler` — the technique's sampling plan as a ``torch`` sampler, re-drawn
  every epoch; :class:`ImbalancedTrainer` is ``Trainer`` with a ``train_sampler=`` argument.

Example (see ``examples/trainer_dropin.py``)::

    loss = make_compute_loss_func("focal:gamma=2,bias_init=true", train_y, ["ham", "spam"])
    apply_bias_init(model, loss.fitted)
    trainer = Trainer(model=model, args=args, train_dataset=train, compute_loss_func=loss, callbacks=[loss])
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainerCallback

from ..errors import ModelError
from ..techniques import FittedTechnique, Technique, parse_spec

__all__ = [
    "fit_technique",
    "TechniqueLoss",
    "make_compute_loss_func",
    "find_classifier_head",
    "apply_bias_init",
    "TechniqueSampler",
    "ImbalancedTrainer",
]

log = logging.getLogger(__name__)


def fit_technique(
    technique: Technique | str | FittedTechnique,
    train_labels: Sequence[int] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> FittedTechnique:
    """Fit a technique (or a spec string) on the class counts of ``train_labels``.

    Args:
        technique: a :class:`Technique`, a spec such as ``"weighted:spam=10"``, or an already
            fitted technique (returned as is).
        train_labels: (n,) class index of every training example.
        labels: class names in index order (the model's ``id2label``); default "0", "1", ….
    """
    if isinstance(technique, FittedTechnique):
        return technique
    y = np.asarray(train_labels, dtype=np.int64)
    n_classes = len(labels) if labels is not None else int(y.max()) + 1
    names = list(labels) if labels is not None else [str(i) for i in range(n_classes)]
    tech = parse_spec(technique, names) if isinstance(technique, str) else technique
    return tech.fit(np.bincount(y, minlength=n_classes), names)


class TechniqueLoss(TrainerCallback):
    """A ``compute_loss_func`` for ``transformers.Trainer`` and the callback that feeds it progress.

    Called as ``loss(outputs, labels, num_items_in_batch=...)``. The loss is computed in float32
    on the logits of rows whose label is not -100. With ``num_items_in_batch`` (the Trainer's
    count over all gradient-accumulation micro-batches, and devices), the batch loss is scaled by
    rows_in_batch / num_items_in_batch, so accumulated micro-batches add up to the mean over the
    whole accumulated batch (for weighted losses: the sum of per-micro-batch weighted means,
    each weighted by its share of rows).

    Attributes:
        fitted: the :class:`FittedTechnique`.
        progress: share of training done in [0, 1]; updated at each step when this object is
            also passed in ``callbacks``.
    """

    def __init__(self, fitted: FittedTechnique) -> None:
        self.fitted = fitted
        self.progress = 0.0

    def __call__(self, outputs: Any, labels: torch.Tensor | None, num_items_in_batch: Any = None) -> torch.Tensor:
        if labels is None:
            raise ModelError("the imblab loss needs labels; the batch has none")
        logits = outputs["logits"] if isinstance(outputs, Mapping) and "logits" in outputs else outputs[0]
        if logits.ndim != 2 or labels.ndim != 1:
            raise ModelError(f"the imblab loss is for single-label classification: logits (B, C) and labels (B,), "
                             f"got {tuple(logits.shape)} and {tuple(labels.shape)}")
        keep = labels != -100
        if not bool(keep.any()):
            return logits.sum() * 0.0
        loss = self.fitted.loss(logits[keep].float(), labels[keep].long(), self.progress)
        if num_items_in_batch is not None:
            loss = loss * keep.sum() / num_items_in_batch
        return loss

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.max_steps:
            self.progress = min(1.0, state.global_step / state.max_steps)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.progress = 1.0


def make_compute_loss_func(
    technique: Technique | str | FittedTechnique,
    train_labels: Sequence[int] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> TechniqueLoss:
    """Turn a technique plus the training labels into a ``Trainer`` ``compute_loss_func``.

    Args:
        technique: a :class:`Technique`, a spec string, or a fitted technique.
        train_labels: (n,) class index of every training example (for the class counts).
        labels: class names in index order; default "0", "1", ….

    Returns:
        A :class:`TechniqueLoss`; pass it as ``compute_loss_func=`` and in ``callbacks=[...]``.
        Its ``.fitted`` gives the priors, the bias and the post-hoc step.
    """
    return TechniqueLoss(fit_technique(technique, train_labels, labels))


def find_classifier_head(model: nn.Module, num_labels: int | None = None) -> nn.Linear:
    """The final ``nn.Linear`` with ``num_labels`` outputs (default ``model.config.num_labels``).

    BERT: ``classifier``; RoBERTa: ``classifier.out_proj``; DistilBERT: ``classifier``.

    Raises:
        ModelError: no such layer.
    """
    if num_labels is None:
        config = getattr(model, "config", None)
        num_labels = getattr(config, "num_labels", None) or getattr(model, "num_labels", None)
    if num_labels is None:
        raise ModelError("cannot tell the number of labels; pass num_labels=")
    heads = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == num_labels]
    if not heads:
        raise ModelError(f"the model has no nn.Linear layer with {num_labels} outputs")
    return heads[-1]


def apply_bias_init(
    model: nn.Module,
    bias: FittedTechnique | np.ndarray | Sequence[float],
    num_labels: int | None = None,
) -> nn.Linear | None:
    """Set the classification head's bias to the technique's prior bias (in place).

    Args:
        model: e.g. an ``AutoModelForSequenceClassification``.
        bias: a fitted technique (its :meth:`~FittedTechnique.initial_bias`; nothing happens when
            the technique has no bias init) or the (C,) bias itself.
        num_labels: override ``model.config.num_labels``.

    Returns:
        The head whose bias was set, or None when the technique has no bias init.
    """
    values = bias.initial_bias() if isinstance(bias, FittedTechnique) else np.asarray(bias, dtype=np.float64)
    if values is None:
        log.info("technique has no bias init; the head is left as it is")
        return None
    head = find_classifier_head(model, num_labels)
    if head.bias is None:
        raise ModelError("the classification head has no bias")
    if head.bias.shape != (len(values),):
        raise ModelError(f"the head has {head.bias.shape[0]} outputs but the bias has {len(values)} values")
    with torch.no_grad():
        head.bias.copy_(torch.as_tensor(values, dtype=head.bias.dtype, device=head.bias.device))
    return head


class TechniqueSampler(torch.utils.data.Sampler[int]):
    """The technique's sampling plan as a sampler: one epoch of indices, shuffled, re-drawn per epoch.

    Epoch e uses ``np.random.default_rng([seed, e])``. The Trainer calls :meth:`set_epoch`
    before each epoch; without it, every ``__iter__`` moves on to the next epoch. Techniques
    without a sampling plan give every row once, shuffled. The length is fixed per technique.
    """

    def __init__(self, fitted: FittedTechnique, train_labels: Sequence[int] | np.ndarray, seed: int = 0) -> None:
        self.fitted = fitted
        self.train_labels = np.asarray(train_labels, dtype=np.int64)
        self.seed = int(seed)
        self.epoch = 0
        fitted.epoch_indices(self.train_labels, np.random.default_rng(0))  # fail early on mismatched labels

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.fitted.epoch_size

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        indices = rng.permutation(self.fitted.epoch_indices(self.train_labels, rng))
        return iter(indices.tolist())


class ImbalancedTrainer(Trainer):
    """``transformers.Trainer`` that draws training batches from ``train_sampler`` (e.g. a
    :class:`TechniqueSampler`); everything else is the stock Trainer."""

    def __init__(self, *args: Any, train_sampler: torch.utils.data.Sampler | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.train_sampler = train_sampler

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler | None:
        if self.train_sampler is None:
            return super()._get_train_sampler(train_dataset)
        dataset = self.train_dataset if train_dataset is None else train_dataset
        expected = getattr(self.train_sampler, "train_labels", None)
        if expected is not None and dataset is not None and len(dataset) != len(expected):
            raise ModelError(f"the sampler was built for {len(expected)} training rows, the dataset has {len(dataset)}")
        return self.train_sampler
