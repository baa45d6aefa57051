"""The one training loop every backend uses, readable top to bottom (minGPT's is the model).

A backend hands over a model (``nn.Module`` returning logits, or an output with ``.logits``), its
:class:`Batches` (indices -> the model's keyword inputs, the targets, token lengths) and the technique
(:class:`Objective`: its loss, its sampling plan re-drawn every epoch, its class weights). Behaviour
added around the loop — scoring validation, early stopping, a listener that may stop training — is a
:class:`Callback` (the idea of Hugging Face's ``TrainerCallback``), so the loop itself stays fixed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ._batching import length_grouped_batches, shuffled_batches, weight_scale
from ._dropout import fast_dropout
from ._precision import resolve_mixed_precision
from ._progress import progress_bar

__all__ = ["Batches", "Callback", "EarlyStopping", "EpochListener", "LoopConfig", "Loss", "Objective", "Validation", "train",
           "resolve_mixed_precision", "seed_everything"]

log = logging.getLogger(__name__)

LossFn = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
EpochIndices = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass
class LoopConfig:
    """Optimisation settings of one training run.

    Attributes:
        epochs: passes over the (re-sampled) training set; 0 leaves the model as initialised.
        batch_size: examples per optimiser step.
        lr: peak learning rate of AdamW.
        weight_decay: AdamW's decoupled weight decay (not applied to biases and norms).
        warmup_ratio: share of the steps spent warming the learning rate up linearly from 0;
            it then decays linearly to 0 (BERT's schedule, Devlin et al. 2019).
        max_grad_norm: gradient clipping norm; ``None`` disables clipping.
        mixed_precision: "auto" (bf16 on a CUDA GPU that supports it or a CPU with AVX512-BF16/AMX, else none),
            "bf16" or "no" (:mod:`._precision`).
        patience: stop after this many epochs without a better validation score and restore
            the best weights; ``None`` trains all epochs.
        mega_batch: batches per length-sorting window (see ``length_grouped_batches``).
    """

    epochs: int = 3
    batch_size: int = 32
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_grad_norm: float | None = 1.0
    mixed_precision: str = "auto"
    patience: int | None = None
    mega_batch: int = 50

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (model init, dropout)."""
    from accelerate.utils import set_seed

    set_seed(seed)


def _accelerator(mixed_precision: str):  # type: ignore[no-untyped-def]
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    try:
        return Accelerator(mixed_precision=mixed_precision)
    except ValueError:
        # Accelerate keeps one process-wide state; a single process may switch precision
        # between runs (a bf16 fine-tune, then an fp32 linear head), a launched job may not.
        if PartialState().num_processes > 1:
            raise
        AcceleratorState._reset_state()
        return Accelerator(mixed_precision=mixed_precision)


def _logits(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    # Decay matrices only: decaying biases and LayerNorm gains only hurts (Loshchilov & Hutter 2019).
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@dataclass(frozen=True)
class Batches:
    """The training examples as the loop sees them.

    Attributes:
        make: training indices -> keyword inputs of the model (tensors on any device).
        y: (n,) int targets.
        lengths: per-example token lengths; given, batches are grouped by length.
    """

    make: Callable[[np.ndarray], Mapping[str, torch.Tensor]]
    y: np.ndarray
    lengths: np.ndarray | None = None


class Objective(Protocol):
    """What a technique brings to the loop (a :class:`~imblab.techniques.FittedTechnique` is one).

    ``loss(logits, targets, progress)`` is the scalar loss, ``progress`` in [0, 1] the share of steps done;
    ``epoch_indices(y, rng)`` one epoch's sampling plan; ``reduction_weights(progress)`` the (C,) class weights of
    the loss's weighted mean, or None when unweighted. With length-grouped batches, which are often
    single-class, the loss is rescaled by :func:`weight_scale` so that it is normalised by a per-epoch constant
    instead of the batch's weight sum.
    """

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, progress: float) -> torch.Tensor: ...

    def epoch_indices(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...

    def reduction_weights(self, progress: float) -> np.ndarray | None: ...


@dataclass(frozen=True)
class Loss:
    """An :class:`Objective` from plain functions: a loss, and optionally a sampling plan and class weights."""

    fn: LossFn
    plan: EpochIndices | None = None
    weights: Callable[[float], np.ndarray | None] | None = None

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, progress: float) -> torch.Tensor:
        return self.fn(logits, targets, progress)

    def epoch_indices(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.plan(y, rng) if self.plan is not None else np.arange(len(y))

    def reduction_weights(self, progress: float) -> np.ndarray | None:
        return self.weights(progress) if self.weights is not None else None


class Callback:
    """Behaviour added to the loop without touching it: hooks called after each epoch and at the end."""

    def on_epoch_end(self, model: nn.Module, row: dict[str, Any]) -> bool:
        """Called with the epoch's history row (which it may extend); True asks the loop to stop."""
        return False

    def on_train_end(self, model: nn.Module) -> None:
        """Called once training ends (also after an early stop)."""


class Validation(Callback):
    """Scores the model after every epoch: ``row["validation_score"]`` (higher is better)."""

    def __init__(self, score: Callable[[nn.Module], float]) -> None:
        self.score = score

    def on_epoch_end(self, model: nn.Module, row: dict[str, Any]) -> bool:
        model.eval()
        row["validation_score"] = float(self.score(model))
        return False


class EpochListener(Callback):
    """Hands each epoch's row (after validation) to ``listener``; it may raise to stop training (tuning prunes an
    unpromising trial so), and the exception propagates."""

    def __init__(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self.listener = listener

    def on_epoch_end(self, model: nn.Module, row: dict[str, Any]) -> bool:
        self.listener(row)
        return False


class EarlyStopping(Callback):
    """Stops after ``patience`` epochs without a better ``validation_score`` and restores the best weights
    (put it after :class:`Validation`)."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_score, self.best_state, self.bad_epochs = -math.inf, None, 0

    def on_epoch_end(self, model: nn.Module, row: dict[str, Any]) -> bool:
        if row["validation_score"] > self.best_score:
            self.best_score, self.best_state, self.bad_epochs = row["validation_score"], copy.deepcopy(model.state_dict()), 0
            return False
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            log.info("early stop after epoch %d: no better validation score in %d epochs", row["epoch"], self.bad_epochs)
            return True
        return False

    def on_train_end(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def train(
    model: nn.Module,
    batches: Batches,
    technique: Objective,
    config: LoopConfig,
    *,
    seed: int,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    description: str = "training",
) -> list[dict[str, Any]]:
    """Train ``model`` in place and return one history row per epoch.

    Args:
        model: returns logits (B, C), or an output with ``.logits``, for ``model(**batch)``.
        batches: the training examples.
        technique: its loss, sampling plan and class weights.
        config: optimisation settings.
        seed: seeds model-side randomness (dropout) and the epoch plans and batch order.
        callbacks: called in order after every epoch and at the end (:class:`Validation`, :class:`EarlyStopping`).
        progress: show a progress bar with the loss and samples/s on stderr.
        description: the progress bar's label.

    Returns:
        Rows with ``epoch``, ``loss``, ``samples``, ``seconds``, ``samples_per_second``, ``lr`` and what the
        callbacks add (``validation_score``).
    """
    run = _Run(model, batches, technique, config, seed)
    history: list[dict[str, Any]] = []
    if run.total_steps == 0:
        return history
    # On CPU the masks come from a fast generator (the same dropout, about twice as cheap; see ._dropout).
    masks = fast_dropout(model, seed) if run.accelerator.device.type == "cpu" else contextlib.nullcontext()
    with masks, progress_bar(run.total_steps, description, enabled=progress and run.accelerator.is_main_process) as bar:
        for epoch, plan in enumerate(run.plans, start=1):
            row = run.epoch(epoch, plan, bar)
            history.append(row)
            stop = False
            for callback in callbacks:  # every callback hears every epoch, even after one asked to stop
                stop = callback.on_epoch_end(model, row) or stop
            log.info("%s epoch %d: %s", description, epoch,
                     {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
            if stop:
                break
    for callback in callbacks:
        callback.on_train_end(model)
    model.eval()
    return history


class _Run:
    """One call of :func:`train`: the epoch plans, the optimiser and its schedule, and one epoch's steps."""

    def __init__(self, model: nn.Module, batches: Batches, technique: Objective, config: LoopConfig,
                 seed: int) -> None:
        self.batches, self.technique, self.config = batches, technique, config
        self.y = np.asarray(batches.y, dtype=np.int64)
        self.targets = torch.as_tensor(self.y)
        self.rng = np.random.default_rng(seed)
        seed_everything(seed)
        # Every epoch's plan is drawn up front: the schedule needs the number of steps, and the plans stay a
        # function of the seed alone.
        self.plans = [np.asarray(technique.epoch_indices(self.y, self.rng)) for _ in range(config.epochs)]
        self.total_steps = sum(math.ceil(len(plan) / config.batch_size) for plan in self.plans)
        self.step = 0
        if self.total_steps == 0:
            return
        self.accelerator = _accelerator(resolve_mixed_precision(config.mixed_precision))
        # Accelerate places the model (and wraps it for DDP under `accelerate launch`). The optimiser and the
        # schedule stay plain torch: in bf16 or fp32 without gradient accumulation their Accelerate wrappers only
        # add per-step checks (~0.6 ms a step on CPU, more than a linear head's whole update).
        self.wrapped = self.accelerator.prepare(model)
        # The fused kernel updates each tensor in one pass: on CPU ~0.5 ms less a step.
        fused = True if self.accelerator.device.type in ("cpu", "cuda") else None
        self.optimizer = torch.optim.AdamW(_param_groups(self.wrapped, config.weight_decay), lr=config.lr, fused=fused)
        self.warmup = int(config.warmup_ratio * self.total_steps)

    def lr_at(self, step: int) -> float:
        """Linear warm-up to ``lr``, then linear decay to 0 (BERT's schedule)."""
        warmup, total = self.warmup, self.total_steps
        factor = (step + 1) / (warmup + 1) if step < warmup else max(0.0, (total - step) / max(1, total - warmup))
        return self.config.lr * factor

    def _epoch_batches(self, plan: np.ndarray) -> list[np.ndarray]:
        if self.batches.lengths is not None:
            out = length_grouped_batches(plan, self.batches.lengths, self.config.batch_size, self.rng,
                                         self.config.mega_batch)
        else:
            out = shuffled_batches(plan, self.config.batch_size, self.rng)
        # Under `accelerate launch` every process draws the same batches and takes its share; all take the same
        # number of steps (DDP synchronises every step), dropping < 1 batch each.
        world = self.accelerator.num_processes
        return out if world == 1 else out[: len(out) - len(out) % world][self.accelerator.process_index :: world]

    def epoch(self, epoch: int, plan: np.ndarray, bar: Any) -> dict[str, Any]:
        """Train one epoch over ``plan``; its history row."""
        self.wrapped.train()
        device, world = self.accelerator.device, self.accelerator.num_processes
        rescale = self.batches.lengths is not None
        epoch_share = None  # each class's share of this epoch's rows, counted once when first needed
        started, seen, shown = time.perf_counter(), 0, math.nan
        # The epoch's loss stays on the device: reading it every step would synchronise the device every step.
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        for k, rows in enumerate(self._epoch_batches(plan)):
            inputs = {name: v.to(device) for name, v in self.batches.make(rows).items()}
            progress = self.step / self.total_steps
            # The loss sees fp32 logits whatever the autocast precision of the forward pass.
            loss = self.technique.loss(_logits(self.wrapped(**inputs)).float(), self.targets[rows].to(device), progress)
            class_weights = self.technique.reduction_weights(progress) if rescale else None
            if class_weights is not None:
                if epoch_share is None:
                    epoch_share = np.bincount(self.y[plan], minlength=len(class_weights)) / len(plan)
                loss = loss * weight_scale(class_weights, self.y[rows], epoch_share)
            self.accelerator.backward(loss)
            if self.config.max_grad_norm is not None:
                self.accelerator.clip_grad_norm_(self.wrapped.parameters(), self.config.max_grad_norm)
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr_at(self.step)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += world  # the schedule counts the batches of all processes
            seen += len(rows)
            loss_sum += loss.detach().double() * len(rows)
            if k % 32 == 0:  # the bar's loss, read now and then
                shown = float(loss_sum) / seen
            bar.update(epoch=epoch, loss=shown, rate=seen / max(time.perf_counter() - started, 1e-9))
        seconds = time.perf_counter() - started
        return {"epoch": epoch, "loss": float(loss_sum) / max(seen, 1), "samples": seen, "seconds": seconds,
                "samples_per_second": seen / max(seconds, 1e-9), "lr": self.lr_at(self.step)}
