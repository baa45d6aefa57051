"""Issue 25: the class prior of unlabelled texts — EM (Saerens et al. 2002) on calibrated scores recovers a known
prior, BBSE (Lipton et al. 2018) equals its closed form, the bootstrap interval covers, bad inputs are refused."""

from __future__ import annotations

import numpy as np
import pytest

from imblab.evaluation import (
    PriorEstimate,
    bbse_prior,
    em_calibration,
    em_prior,
    estimate_prior_from_outputs,
    naive_prior,
    vector_scaling,
)


def _posteriors(y: np.ndarray, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exact posteriors at ``prior`` of 1-d Gaussian class conditionals N(±1, 1): calibrated by construction."""
    x = rng.normal(np.where(y == 1, 1.0, -1.0), 1.0)
    like = np.stack([np.exp(-0.5 * (x + 1.0) ** 2), np.exp(-0.5 * (x - 1.0) ** 2)], axis=1)
    joint = like * prior
    return joint / joint.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("target", [0.02, 0.1, 0.3, 0.6])
def test_em_recovers_a_known_prior_from_calibrated_scores(target: float) -> None:
    rng = np.random.default_rng(0)
    training = np.array([0.8, 0.2])
    y = (rng.random(20_000) < target).astype(int)
    estimate = em_prior(_posteriors(y, training, rng), training)
    assert estimate.sum() == pytest.approx(1.0)
    assert abs(estimate[1] - target) < 0.015
    # Far from the training prior, the naive share of predicted labels is biased by the classifier's errors; EM is not.
    if target in (0.02, 0.6):
        naive = naive_prior(_posteriors(y, training, rng).argmax(axis=1), 2)
        assert abs(estimate[1] - target) < abs(naive[1] - target) - 0.02


def test_em_keeps_the_training_prior_when_nothing_moved() -> None:
    rng = np.random.default_rng(1)
    training = np.array([0.7, 0.3])
    y = (rng.random(30_000) < 0.3).astype(int)
    assert em_prior(_posteriors(y, training, rng), training)[1] == pytest.approx(0.3, abs=0.01)


def test_bbse_equals_its_closed_form_on_a_hand_made_confusion_matrix() -> None:
    # Validation: 100 rows, labels y and decisions ŷ chosen so that C[i, j] = P(ŷ = i, y = j) is known exactly.
    val_y = np.array([0] * 60 + [1] * 40)
    val_pred = np.array([0] * 50 + [1] * 10 + [0] * 8 + [1] * 32)
    joint = np.array([[0.50, 0.08], [0.10, 0.32]])
    pred = np.array([0] * 70 + [1] * 30)  # μ = (0.7, 0.3)
    w = np.linalg.solve(joint, np.array([0.7, 0.3]))
    expected = w * joint.sum(axis=0) / (w * joint.sum(axis=0)).sum()
    np.testing.assert_allclose(bbse_prior(pred, val_pred, val_y, 2), expected, atol=1e-12)


def _three_class(n: int, prior: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn at ``prior`` and exact posteriors at ``train_prior`` of 2-d Gaussian class conditionals."""
    centres = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])
    y = rng.choice(3, size=n, p=prior)
    x = centres[y] + rng.normal(size=(n, 2))
    like = np.exp(-0.5 * ((x[:, None, :] - centres[None]) ** 2).sum(axis=2))
    joint = like * TRAIN_PRIOR_3
    return y, joint / joint.sum(axis=1, keepdims=True)


TRAIN_PRIOR_3 = np.array([0.75, 0.2, 0.05])


def _distort(proba: np.ndarray) -> np.ndarray:
    """Miscalibrated class by class: one over-confident class, one under-confident, a shifted bias."""
    z = np.log(proba) * np.array([1.0, 3.0, 0.5]) + np.array([0.0, -0.5, 0.8])
    out = np.exp(z - z.max(axis=1, keepdims=True))
    return out / out.sum(axis=1, keepdims=True)


def test_vector_scaling_undoes_a_per_class_miscalibration() -> None:
    rng = np.random.default_rng(2)
    y, calibrated = _three_class(6000, TRAIN_PRIOR_3, rng)
    distorted = _distort(calibrated)
    found = vector_scaling(distorted, y)
    assert found.scales[2] > 1.5 * found.scales[1]  # the under-confident class sharpened, the over-confident softened

    def log_loss(p: np.ndarray) -> float:
        return float(-np.log(p[np.arange(len(y)), y]).mean())

    assert log_loss(found.apply(distorted)) < log_loss(distorted) - 0.05
    assert abs(log_loss(found.apply(distorted)) - log_loss(calibrated)) < 0.01  # as good as the true posteriors
    assert np.abs(found.apply(distorted) - calibrated).mean() < 0.02


def test_em_on_recalibrated_scores_recovers_a_shifted_prior_with_an_interval_that_covers() -> None:
    rng = np.random.default_rng(5)
    target, covered = np.array([0.35, 0.15, 0.5]), 0  # the rare class (5 % in training) is now half the texts
    for k in range(10):
        val_y, val_p = _three_class(2000, TRAIN_PRIOR_3, rng)  # 100 rare validation rows: calibration uncertain
        _, p = _three_class(1000, target, rng)
        found = estimate_prior_from_outputs(["a", "b", "c"], _distort(p), TRAIN_PRIOR_3, method="em",
                                            val_proba=_distort(val_p), val_y=val_y, n_boot=50, seed=k)
        assert abs(found.prior[2] - 0.5) < 0.1
        covered += found.low[2] <= 0.5 <= found.high[2]
        if k == 0:  # the replicates hold the calibration's uncertainty: wider than the texts' alone
            fixed = em_calibration(_distort(val_p), val_y, n_boot=0)
            texts_only = estimate_prior_from_outputs(["a", "b", "c"], fixed.point.apply(_distort(p)), fixed.base,
                                                     method="em", n_boot=50, seed=k)
            assert found.high[2] - found.low[2] > texts_only.high[2] - texts_only.low[2]
    assert covered >= 9  # 95 % nominal; 10 draws (measured: 30 of 30 with 100 replicates, 23 of 30 texts-only)


def test_the_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(3)
    training = np.array([0.8, 0.2])
    covered = 0
    for k in range(40):
        y = (rng.random(800) < 0.1).astype(int)
        estimate = estimate_prior_from_outputs(["ham", "spam"], _posteriors(y, training, rng), training, n_boot=200,
                                               seed=k)
        covered += estimate.low[1] <= 0.1 <= estimate.high[1]
    assert 34 <= covered <= 40  # 95 % nominal; 40 draws


def test_an_estimate_says_whether_the_mix_moved_and_reads_as_json() -> None:
    rng = np.random.default_rng(4)
    training = np.array([0.8, 0.2])
    y = (rng.random(3000) < 0.05).astype(int)
    estimate = estimate_prior_from_outputs(["ham", "spam"], _posteriors(y, training, rng), training)
    assert isinstance(estimate, PriorEstimate) and estimate.shifted
    d = estimate.to_dict()
    assert set(d) >= {"prior", "interval", "method", "n", "training_prior"} and d["n"] == 3000
    assert d["interval"]["spam"][0] <= d["prior"]["spam"] <= d["interval"]["spam"][1]
    same = (rng.random(3000) < 0.2).astype(int)
    assert not estimate_prior_from_outputs(["ham", "spam"], _posteriors(same, training, rng), training).shifted


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "magic"}, "unknown prior estimation method"),
    ({"method": "bbse"}, "bbse needs"),
    ({"rows": 1}, "at least 2 texts"),
])
def test_bad_requests_are_one_sentence(kwargs: dict, message: str) -> None:
    rows = kwargs.pop("rows", 10)
    with pytest.raises(ValueError, match=message):
        estimate_prior_from_outputs(["a", "b"], np.full((rows, 2), 0.5), np.array([0.5, 0.5]), **kwargs)
