"""The training loop on small synthetic problems with plain cross-entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from imblab.training import (Batches, EarlyStopping, EpochListener, LoopConfig, Loss, Validation,
                             length_grouped_batches, shuffled_batches, train, weight_scale)


def _ce(logits: torch.Tensor, targets: torch.Tensor, progress: float) -> torch.Tensor:
    return F.cross_entropy(logits, targets)


class _Linear(nn.Module):
    def __init__(self, d: int = 5, c: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(d, c)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(x))


def _problem(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    x[:, 0] += 2.0 * y
    return torch.from_numpy(x), y


def _fit(seed: int, **overrides) -> tuple[_Linear, list[dict]]:  # type: ignore[no-untyped-def]
    x, y = _problem()
    torch.manual_seed(123)  # identical initial weights; the loop's seed drives the rest
    model = _Linear()
    config = LoopConfig(**{"epochs": 3, "batch_size": 16, "lr": 0.05, "mixed_precision": "no", **overrides})
    history = train(model, Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(_ce), config, seed=seed,
                    progress=False)
    return model, history


def test_loss_falls_and_history_has_one_row_per_epoch() -> None:
    _, history = _fit(0, epochs=5)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    assert history[-1]["loss"] < history[0]["loss"]
    assert all(row["samples"] == 200 and row["samples_per_second"] > 0 for row in history)
    assert history[-1]["lr"] == pytest.approx(0.0, abs=1e-9)  # linear decay ends at zero


def test_same_seed_same_weights_other_seed_differs() -> None:
    a, _ = _fit(7)
    b, _ = _fit(7)
    c, _ = _fit(8)
    assert torch.equal(a.linear.weight, b.linear.weight)
    assert not torch.equal(a.linear.weight, c.linear.weight)


def test_zero_epochs_leave_the_model_as_initialised() -> None:
    torch.manual_seed(123)
    before = _Linear().linear.weight.clone()
    model, history = _fit(0, epochs=0)
    assert history == []
    assert torch.equal(model.linear.weight, before)


def test_sampling_plan_redrawn_each_epoch_and_progress_rises() -> None:
    x, y = _problem()
    plans: list[np.ndarray] = []
    progress: list[float] = []

    def epoch_indices(y_train: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        minority = np.flatnonzero(y_train == 1)
        plan = np.concatenate([np.flatnonzero(y_train == 0), rng.choice(minority, size=100)])
        plans.append(plan)
        return plan

    def loss(logits: torch.Tensor, targets: torch.Tensor, p: float) -> torch.Tensor:
        progress.append(p)
        return F.cross_entropy(logits, targets)

    history = train(_Linear(), Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(loss, epoch_indices),
                    LoopConfig(epochs=3, batch_size=32, lr=0.01, mixed_precision="no"), seed=0, progress=False)
    assert len(plans) == 3
    assert not np.array_equal(plans[0], plans[1])
    assert all(row["samples"] == len(plan) for row, plan in zip(history, plans))
    assert progress[0] == 0.0 and progress == sorted(progress) and progress[-1] < 1.0


def test_early_stopping_restores_the_best_epoch() -> None:
    x, y = _problem()
    scores = iter([0.5, 0.9, 0.7, 0.6, 0.95, 0.99])
    snapshots: list[torch.Tensor] = []

    def validate(model: nn.Module) -> float:
        snapshots.append(model.linear.weight.detach().clone())
        return next(scores)

    model = _Linear()
    history = train(model, Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(_ce),
                    LoopConfig(epochs=6, batch_size=32, lr=0.05, mixed_precision="no"), seed=0,
                    callbacks=[Validation(validate), EarlyStopping(2)], progress=False)
    assert [row["validation_score"] for row in history] == [0.5, 0.9, 0.7, 0.6]
    assert torch.equal(model.linear.weight, snapshots[1])


@pytest.mark.parametrize("max_norm", [0.5, None])
def test_gradients_are_clipped_before_the_step(monkeypatch: pytest.MonkeyPatch, max_norm: float | None) -> None:
    x, y = _problem()
    norms: list[float] = []
    step = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)

    def huge(logits: torch.Tensor, targets: torch.Tensor, p: float) -> torch.Tensor:
        return 1e4 * F.cross_entropy(logits, targets)

    train(_Linear(), Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(huge),
          LoopConfig(epochs=1, batch_size=50, lr=0.01, max_grad_norm=max_norm, mixed_precision="no"), seed=0,
          progress=False)
    assert len(norms) == 4
    if max_norm is None:
        assert max(norms) > 10
    else:
        assert max(norms) <= max_norm + 1e-4


def test_length_grouped_batches_cover_all_and_pad_less() -> None:
    rng_lengths = np.random.default_rng(0)
    lengths = rng_lengths.integers(5, 128, size=1000)
    indices = np.arange(1000)
    grouped = length_grouped_batches(indices, lengths, 32, np.random.default_rng(1), mega_batch=10)
    plain = shuffled_batches(indices, 32, np.random.default_rng(1))
    assert sorted(np.concatenate(grouped).tolist()) == indices.tolist()
    assert sorted(np.concatenate(plain).tolist()) == indices.tolist()

    def padded(batches: list[np.ndarray]) -> int:
        return sum(len(b) * lengths[b].max() for b in batches)

    assert padded(grouped) < 0.7 * padded(plain)
    again = length_grouped_batches(indices, lengths, 32, np.random.default_rng(1), mega_batch=10)
    assert all(np.array_equal(a, b) for a, b in zip(grouped, again))
    # Repeated indices (oversampling) are kept.
    repeated = length_grouped_batches(np.array([3, 3, 3, 7]), lengths, 2, np.random.default_rng(0))
    assert sorted(np.concatenate(repeated).tolist()) == [3, 3, 3, 7]


@pytest.mark.parametrize("spec", ["weighted", "weighted:spam=10", "class-balanced", "focal:alpha=0.75"])
def test_weighted_loss_over_length_grouped_batches_adds_up_to_the_weighted_mean(spec: str) -> None:
    # Like SMS spam: the minority class is much longer, so length-grouped batches are single-class.
    # A weighted *batch* mean would cancel the class weights there; the loop's per-epoch constant
    # normaliser makes the epoch's loss (batch losses weighted by batch size) the weighted mean.
    from imblab.techniques import parse_spec

    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.15).astype(np.int64)
    lengths = np.where(y == 1, rng.integers(40, 60, size=600), rng.integers(5, 30, size=600))
    x = torch.from_numpy(rng.normal(size=(600, 5)).astype(np.float32))
    fitted = parse_spec(spec, ["ham", "spam"]).fit(np.bincount(y), ["ham", "spam"])
    batches = length_grouped_batches(np.arange(600), lengths, 32, np.random.default_rng(1))
    assert sum(0 < y[b].mean() < 1 for b in batches) <= 2  # nearly all batches are single-class

    def model() -> nn.Linear:  # leans towards ham, so ham and spam rows have very different losses
        torch.manual_seed(0)
        linear = nn.Linear(5, 2)
        with torch.no_grad():
            linear.bias.copy_(torch.tensor([1.5, -1.5]))
        return linear

    def epoch_loss(rescale: bool) -> float:
        config = LoopConfig(epochs=1, batch_size=32, lr=0.0, weight_decay=0.0, mixed_precision="no")
        objective = Loss(fitted.loss, lambda y_, rng_: np.arange(600), fitted.reduction_weights if rescale else None)
        history = train(model(), Batches(lambda rows: {"input": x[torch.as_tensor(rows)]}, y, lengths), objective,
                        config, seed=0, progress=False)
        return history[0]["loss"]

    with torch.no_grad():
        full = fitted.loss(model()(x), torch.as_tensor(y)).item()  # the weighted mean over all rows
    assert epoch_loss(rescale=True) == pytest.approx(full, rel=1e-5)
    assert epoch_loss(rescale=False) < 0.8 * full  # the batch mean cancels the weights


def test_weight_scale_and_deferred_reweighting() -> None:
    share = np.array([0.8, 0.2])
    w = np.array([1.0, 4.0])  # E[w] = 1.6
    assert weight_scale(w, np.array([1, 1]), share) == pytest.approx(4.0 / 1.6)
    assert weight_scale(w, np.array([0, 0, 0, 0, 1]), share) == pytest.approx(1.0)
    from imblab.techniques import parse_spec

    ldam = parse_spec("ldam-drw:drw_start=0.6").fit([900, 100], ["a", "b"])
    assert ldam.reduction_weights(0.59) is None
    np.testing.assert_allclose(ldam.reduction_weights(0.6), ldam.class_weights)
    assert parse_spec("baseline").fit([900, 100], ["a", "b"]).reduction_weights(0.5) is None


def test_learning_rate_warms_up_then_decays_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _problem()
    lrs: list[float] = []
    step = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        lrs.append(self.param_groups[0]["lr"])
        assert all(group["lr"] == lrs[-1] for group in self.param_groups)
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    # 200 examples in batches of 20 for 2 epochs: 20 steps, the first 4 warming up.
    history = train(_Linear(), Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(_ce),
                    LoopConfig(epochs=2, batch_size=20, lr=0.5, warmup_ratio=0.2, mixed_precision="no"), seed=0,
                    progress=False)
    expected = [0.5 * (s + 1) / 5 for s in range(4)] + [0.5 * (20 - s) / 16 for s in range(4, 20)]
    assert lrs == pytest.approx(expected)
    assert history[0]["lr"] == pytest.approx(0.5 * 10 / 16)  # the rate of the next step, as a scheduler reports it


def test_on_epoch_hears_each_row_after_validation_and_can_stop_training() -> None:
    x, y = _problem()
    heard: list[dict] = []

    class Stop(Exception):
        pass

    def on_epoch(row: dict) -> None:
        heard.append(dict(row))
        if row["epoch"] == 2:
            raise Stop  # what tuning's pruning does

    with pytest.raises(Stop):
        train(_Linear(), Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(_ce),
              LoopConfig(epochs=5, batch_size=32, lr=0.05, mixed_precision="no"), seed=0,
              callbacks=[Validation(lambda model: 0.5), EpochListener(on_epoch)], progress=False)
    assert [row["epoch"] for row in heard] == [1, 2]
    assert all(row["validation_score"] == 0.5 for row in heard)


def test_the_epoch_loss_is_the_mean_of_the_batch_losses_weighted_by_size() -> None:
    # Accumulated on the device, read once an epoch: the same number as summing each batch's loss on the host.
    x, y = _problem(n=70)
    seen: list[tuple[float, int]] = []

    def recording(logits: torch.Tensor, targets: torch.Tensor, p: float) -> torch.Tensor:
        loss = F.cross_entropy(logits, targets)
        seen.append((float(loss.detach()), len(targets)))
        return loss

    history = train(_Linear(), Batches(lambda rows: {"x": x[torch.as_tensor(rows)]}, y), Loss(recording),
                    LoopConfig(epochs=1, batch_size=16, lr=0.0, mixed_precision="no"), seed=0, progress=False)
    assert history[0]["loss"] == pytest.approx(sum(v * n for v, n in seen) / 70, rel=1e-12)
