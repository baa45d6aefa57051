"""Losses on logits, in the notation of their papers. Pure functions of torch tensors.

Reduction of weighted losses: ``reduction="mean"`` with class weights w is the weighted mean

    L = Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i},

PyTorch's convention for ``F.cross_entropy(weight=w)``. We use it everywhere (class weights,
focal α, deferred re-weighting) because (1) it reproduces what the study did with
``CrossEntropyLoss(weight=...)``, (2) only the *ratios* of the weights matter, so the loss scale
(and hence the right learning rate) does not change when weights are rescaled, and (3) the
weighted class mass in a batch is still n_c · w_c, so downsample-upweight keeps the true prior.
Without weights it is the plain mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "Reduction",
    "cross_entropy",
    "focal_loss",
    "binary_focal_loss",
    "logit_adjusted_loss",
    "balanced_softmax_loss",
    "ldam_margins",
    "ldam_loss",
]

Reduction = Literal["none", "mean", "sum"]
Alpha = float | Sequence[float] | Mapping[int, float] | np.ndarray | torch.Tensor | None


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _class_vector(values: Sequence[float] | np.ndarray | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64) if not torch.is_tensor(values) else values,
                           dtype=like.dtype, device=like.device)


def _reduce(loss: torch.Tensor, weight_t: torch.Tensor | None, reduction: str) -> torch.Tensor:
    """Reduce per-example losses (already multiplied by ``weight_t``) by the module convention."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight_t.sum() if weight_t is not None else loss.mean()


def cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: Sequence[float] | np.ndarray | torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """(Weighted) softmax cross-entropy: ℓ_i = −w_{y_i} log softmax(f_i)_{y_i}.

    Args:
        logits: (B, C) scores f.
        targets: (B,) class indices y.
        weight: (C,) class weights w, or None.
        reduction: "mean" (weighted mean Σ w ℓ / Σ w, see the module docstring), "sum" or "none".
    """
    _check_reduction(reduction)
    w = None if weight is None else _class_vector(weight, logits)
    return F.cross_entropy(logits, targets, weight=w, reduction=reduction)


def _alpha_vector(alpha: Alpha, n_classes: int, like: torch.Tensor) -> torch.Tensor | None:
    if alpha is None:
        return None
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        if n_classes != 2:
            raise ValueError("a single float alpha is only defined for 2 classes; give one weight per class")
        return _class_vector([1.0 - alpha, alpha], like)
    if isinstance(alpha, Mapping):
        vec = np.ones(n_classes)
        for c, a in alpha.items():
            vec[int(c)] = float(a)
        return _class_vector(vec, like)
    vec = _class_vector(alpha, like)
    if vec.shape != (n_classes,):
        raise ValueError(f"alpha needs {n_classes} values, got shape {tuple(vec.shape)}")
    return vec


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 2.0,
    alpha: Alpha = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Softmax (multiclass) focal loss: FL(p_t) = −α_t (1 − p_t)^γ log p_t.

    Lin, Goyal, Girshick, He & Dollár (2017), "Focal Loss for Dense Object Detection", ICCV.
    p_t = softmax(f)_{y} is the probability of the true class. γ = 0 with no α is cross-entropy.

    Args:
        logits: (B, C) scores.
        targets: (B,) class indices.
        gamma: focusing parameter γ ≥ 0.
        alpha: class weighting α: None (no class preference), a float (2 classes only: α for
            class 1, the positive class, and 1 − α for class 0, as in the paper and torchvision),
            a sequence of C weights, or a mapping {class index: weight} (unnamed classes get 1).
        reduction: "mean" (weighted by α_t when α is given: Σ α_t (1−p_t)^γ CE_t / Σ α_t),
            "sum" or "none".

    Returns:
        The loss; per example with ``reduction="none"``.
    """
    _check_reduction(reduction)
    if gamma < 0:
        raise ValueError(f"gamma must be ≥ 0, got {gamma}")
    log_pt = F.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    loss = -log_pt
    if gamma != 0:
        # 1 − p_t via expm1 for accuracy near p_t = 1; clamp so (1 − p_t)^(γ−1) stays finite for γ < 1.
        one_minus_pt = (-torch.expm1(log_pt)).clamp_min(torch.finfo(logits.dtype).tiny)
        loss = one_minus_pt.pow(gamma) * loss
    alpha_vec = _alpha_vector(alpha, logits.shape[-1], logits)
    alpha_t = None if alpha_vec is None else alpha_vec[targets]
    if alpha_t is not None:
        loss = alpha_t * loss
    return _reduce(loss, alpha_t, reduction)


def binary_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Sigmoid (binary) focal loss, the paper's original form (torchvision ``sigmoid_focal_loss``).

    Lin et al. (2017): p = σ(x); p_t = p if y = 1 else 1 − p; α_t = α if y = 1 else 1 − α;
    FL = −α_t (1 − p_t)^γ log p_t. With logits (f_0, f_1), the 2-class softmax form on
    (f_0, f_1) equals this form on x = f_1 − f_0.

    Args:
        logits: (B,) scores x of the positive class.
        targets: (B,) 0/1 labels.
        gamma: focusing parameter γ ≥ 0.
        alpha: weight α of the positive class, or None.
        reduction: as in :func:`focal_loss`.
    """
    _check_reduction(reduction)
    if gamma < 0:
        raise ValueError(f"gamma must be ≥ 0, got {gamma}")
    y = targets.to(logits.dtype)
    log_pt = -F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    loss = -log_pt
    if gamma != 0:
        one_minus_pt = (-torch.expm1(log_pt)).clamp_min(torch.finfo(logits.dtype).tiny)
        loss = one_minus_pt.pow(gamma) * loss
    alpha_t = None
    if alpha is not None:
        alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
        loss = alpha_t * loss
    return _reduce(loss, alpha_t, reduction)


def logit_adjusted_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    prior: Sequence[float] | np.ndarray,
    tau: float = 1.0,
    weight: Sequence[float] | np.ndarray | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Logit-adjusted softmax cross-entropy: ℓ = −log softmax(f + τ log π)_y.

    Menon, Jayasumana, Rawat, Jain, Veit & Kumar (2021), "Long-tail learning via logit
    adjustment", ICLR, eq. (10). τ = 0 is cross-entropy. The model learns f ≈ log p(y|x) − τ log π
    (+ const), i.e. its softmax is calibrated to the prior π^(1−τ) (normalised).
    """
    offset = _class_vector(np.log(np.asarray(prior, dtype=np.float64)) * tau, logits)
    return cross_entropy(logits + offset, targets, weight, reduction)


def balanced_softmax_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    class_counts: Sequence[int] | np.ndarray,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Balanced softmax: ℓ = −log( n_y e^{f_y} / Σ_j n_j e^{f_j} ) = CE(f + log n).

    Ren, Yu, Ma, Zhao, Yi & Li (2020), "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
    NeurIPS. Equal to the logit-adjusted loss with τ = 1 (log n and log π differ by a constant);
    the model's softmax is calibrated to the uniform prior.
    """
    offset = _class_vector(np.log(np.asarray(class_counts, dtype=np.float64)), logits)
    return cross_entropy(logits + offset, targets, None, reduction)


def ldam_margins(class_counts: Sequence[int] | np.ndarray, max_margin: float = 0.5) -> np.ndarray:
    """LDAM margins Δ_j = C / n_j^{1/4}, with C chosen so that the rarest class gets ``max_margin``.

    Cao, Wei, Gaidon, Arechiga & Ma (2019), "Learning Imbalanced Datasets with
    Label-Distribution-Aware Margin Loss", NeurIPS, eq. (12).
    """
    n = np.asarray(class_counts, dtype=np.float64)
    m = n ** -0.25
    return m * (max_margin / m.max())


def ldam_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    margins: Sequence[float] | np.ndarray,
    scale: float = 30.0,
    weight: Sequence[float] | np.ndarray | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """LDAM loss: ℓ = −log( e^{s(f_y − Δ_y)} / (e^{s(f_y − Δ_y)} + Σ_{j≠y} e^{s f_j}) ).

    Cao et al. (2019), eq. (13) with the scale s of their code: the true class's logit is
    lowered by its margin Δ_y, then all logits are multiplied by s. ``weight`` gives the
    deferred re-weighting (DRW) of the paper's last training phase.
    """
    delta = _class_vector(margins, logits)[targets]
    adjusted = logits - F.one_hot(targets, logits.shape[-1]).to(logits.dtype) * delta.unsqueeze(-1)
    return cross_entropy(scale * adjusted, targets, weight, reduction)
