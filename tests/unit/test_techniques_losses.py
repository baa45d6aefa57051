"""Loss properties in the papers' notation, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from imblab.techniques import (
    balanced_softmax_loss,
    binary_focal_loss,
    cross_entropy,
    focal_loss,
    ldam_loss,
    ldam_margins,
    logit_adjusted_loss,
)

DTYPES = [torch.float32, torch.float64]
SEEDS = [0, 1, 2]


def toy(seed: int, n: int = 64, c: int = 3, dtype: torch.dtype = torch.float64, spread: float = 3.0):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, c, generator=g) * spread).to(dtype).requires_grad_(True)
    targets = torch.randint(0, c, (n,), generator=g)
    return logits, targets


def reference_ce(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """−log softmax(f)_y, float64, written out."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(targets)), targets]


def np_(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_matches_reference(seed):
    logits, y = toy(seed)
    w = np.array([0.5, 2.0, 1.0])
    ref = reference_ce(np_(logits), y.numpy())
    np.testing.assert_allclose(np_(cross_entropy(logits, y, reduction="none")), ref, rtol=1e-12)
    wt = w[y.numpy()]
    np.testing.assert_allclose(cross_entropy(logits, y, w).item(), (wt * ref).sum() / wt.sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_focal_gamma0_is_cross_entropy_values_and_gradients(dtype, seed):
    logits, y = toy(seed, dtype=dtype)
    fl = focal_loss(logits, y, gamma=0.0)
    (g_fl,) = torch.autograd.grad(fl, logits)
    ce = F.cross_entropy(logits, y)
    (g_ce,) = torch.autograd.grad(ce, logits)
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    assert torch.allclose(fl, ce, rtol=tol, atol=tol)
    assert torch.allclose(g_fl, g_ce, rtol=tol, atol=tol)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_focal_below_ce_and_ratio_is_alpha_t_times_modulating_factor(gamma, seed):
    logits, y = toy(seed)
    alpha = [0.25, 0.5, 0.75]
    ce = reference_ce(np_(logits), y.numpy())
    fl = np_(focal_loss(logits, y, gamma=gamma, alpha=alpha, reduction="none"))
    p_t = np.exp(-ce)
    alpha_t = np.asarray(alpha)[y.numpy()]
    assert np.all(fl <= ce + 1e-12)
    np.testing.assert_allclose(fl, alpha_t * (1 - p_t) ** gamma * ce, rtol=1e-9, atol=1e-15)
    fl_noalpha = np_(focal_loss(logits, y, gamma=gamma, reduction="none"))
    assert np.all(fl_noalpha <= ce + 1e-12)
    assert np.all(fl_noalpha[ce > 1e-6] < ce[ce > 1e-6])  # strictly smaller wherever p_t < 1


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_and_two_class_softmax_focal_agree(gamma, alpha, seed):
    logits, y = toy(seed, c=2)
    soft = focal_loss(logits, y, gamma=gamma, alpha=alpha, reduction="none")
    binary = binary_focal_loss(logits[:, 1] - logits[:, 0], y, gamma=gamma, alpha=alpha, reduction="none")
    torch.testing.assert_close(soft, binary, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(focal_loss(logits, y, gamma=gamma, alpha=alpha),
                               binary_focal_loss(logits[:, 1] - logits[:, 0], y, gamma=gamma, alpha=alpha))


def test_focal_alpha_reduction_is_the_weighted_mean_and_gamma0_equals_weighted_ce():
    logits, y = toy(3)
    w = [0.2, 1.0, 3.0]
    expected = F.cross_entropy(logits, y, weight=torch.tensor(w, dtype=torch.float64))
    torch.testing.assert_close(focal_loss(logits, y, gamma=0.0, alpha=w), expected)


def test_focal_finite_gradient_when_confident_and_gamma_below_one():
    logits = torch.tensor([[60.0, -60.0], [0.0, 0.0]], requires_grad=True)
    loss = focal_loss(logits, torch.tensor([0, 1]), gamma=0.5)
    loss.backward()
    assert torch.isfinite(loss) and torch.all(torch.isfinite(logits.grad))


def test_focal_rejects_bad_arguments():
    logits, y = toy(0)
    with pytest.raises(ValueError, match="2 classes"):
        focal_loss(logits, y, alpha=0.25)
    with pytest.raises(ValueError, match="gamma"):
        focal_loss(logits, y, gamma=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        focal_loss(logits, y, reduction="avg")


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_with_equal_weights_is_cross_entropy(seed):
    logits, y = toy(seed)
    for w in ([1.0, 1.0, 1.0], [3.7, 3.7, 3.7]):
        torch.testing.assert_close(cross_entropy(logits, y, w), F.cross_entropy(logits, y))


@pytest.mark.parametrize("seed", SEEDS)
def test_logit_adjusted_tau0_is_ce_and_balanced_softmax_is_tau1(seed):
    logits, y = toy(seed)
    counts = np.array([900, 90, 10])
    prior = counts / counts.sum()
    torch.testing.assert_close(logit_adjusted_loss(logits, y, prior, tau=0.0), F.cross_entropy(logits, y))
    la1 = logit_adjusted_loss(logits, y, prior, tau=1.0, reduction="none")
    bs = balanced_softmax_loss(logits, y, counts, reduction="none")
    torch.testing.assert_close(la1, bs)  # log n = log π + log N: a per-row constant, softmax-invariant
    ref = reference_ce(np_(logits) + np.log(counts), y.numpy())
    np.testing.assert_allclose(np_(bs), ref, rtol=1e-12)


def test_ldam_margins_rarest_gets_max_and_scale_as_n_to_minus_quarter():
    counts = np.array([4827, 747, 30])
    m = ldam_margins(counts, max_margin=0.5)
    assert m[np.argmin(counts)] == pytest.approx(0.5)
    assert m.max() == pytest.approx(0.5)
    np.testing.assert_allclose(m * counts ** 0.25, np.full(3, m[0] * counts[0] ** 0.25), rtol=1e-12)


def test_ldam_loss_matches_reference():
    logits, y = toy(4)
    counts = np.array([500, 50, 5])
    m = ldam_margins(counts)
    z = np_(logits).copy()
    z[np.arange(len(y)), y.numpy()] -= m[y.numpy()]
    ref = reference_ce(30.0 * z, y.numpy())
    np.testing.assert_allclose(np_(ldam_loss(logits, y, m, scale=30.0, reduction="none")), ref, rtol=1e-10)
    # a zero margin at scale 1 is cross-entropy
    torch.testing.assert_close(ldam_loss(logits, y, np.zeros(3), scale=1.0), F.cross_entropy(logits, y))
