"""Issue 25: the class prior of unlabelled texts — EM (Saerens et al. 2002) on calibrated scores recovers a known
prior, BBSE (Lipton et al. 2018) equals its closed form, the bootstrap interval covers, bad inputs are refused."""

from __future__ import annotations

import numpy as np
import pytest

from imblab.evaluation import (
    PriorEstimate,
    apply_bcts,
    bbse_prior,
    bcts,
    em_prior,
    estimate_prior_from_outputs,
    naive_prior,
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


def test_bcts_recovers_a_temperature_and_calibrates() -> None:
    rng = np.random.default_rng(2)
    training = np.array([0.5, 0.5])
    y = (rng.random(5000) < 0.5).astype(int)
    calibrated = _posteriors(y, training, rng)
    logits = np.log(calibrated)
    over = np.exp(logits * 3.0)
    over /= over.sum(axis=1, keepdims=True)  # over-confident: temperature 1/3
    temperature, bias = bcts(over, y)
    assert temperature == pytest.approx(3.0, rel=0.15) and abs(bias[1]) < 0.2
    np.testing.assert_allclose(apply_bcts(over, temperature, bias), calibrated, atol=0.05)


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
