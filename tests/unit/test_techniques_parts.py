"""Weights, sampling plans, bias init, effective priors and prior correction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from imblab.techniques import (
    class_balanced_weights,
    correct_prior,
    downsample_sizes,
    downsample_upweight_plan,
    draw_epoch,
    inverse_frequency_weights,
    parse_spec,
    prior_bias,
    sqrt_inverse_frequency_weights,
    upsample_downweight_plan,
    upsample_sizes,
)

SMS = np.array([4827, 747])
LABELS = ["ham", "spam"]
counts_st = st.lists(st.integers(1, 400), min_size=2, max_size=5).map(np.array)


def y_from_counts(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def test_inverse_frequency_weights_of_sms_spam():
    np.testing.assert_allclose(inverse_frequency_weights(SMS), [0.5774, 3.7309], atol=5e-5)
    np.testing.assert_allclose(sqrt_inverse_frequency_weights(SMS), np.sqrt([0.57738, 3.73092]), atol=5e-5)


def test_class_balanced_weights_of_sms_spam():
    w = class_balanced_weights(SMS, beta=0.999)
    np.testing.assert_allclose(w, [0.693, 1.307], atol=5e-4)
    assert w.sum() == pytest.approx(2.0)
    np.testing.assert_allclose(class_balanced_weights(SMS, beta=0.0), [1.0, 1.0])


def test_weighted_preset_resolves_the_studys_weights():
    fitted = parse_spec("weighted:spam=10", LABELS).fit(SMS, LABELS)
    np.testing.assert_allclose(fitted.class_weights, [0.5774, 10.0], atol=5e-5)
    fitted = parse_spec("weighted", LABELS).fit(SMS, LABELS)
    np.testing.assert_allclose(fitted.effective_prior, [0.5, 0.5])  # inverse frequency balances the classes


@pytest.mark.parametrize("spec", ["bias-init", "baseline:bias_init=true", "focal:bias_init=true"])
def test_bias_init_softmax_is_the_class_prior_exactly(spec):
    bias = parse_spec(spec, LABELS).fit(SMS, LABELS).initial_bias()
    np.testing.assert_allclose(softmax(bias), SMS / SMS.sum(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(bias, np.log(SMS / SMS.sum()), rtol=1e-15)


def test_bias_init_follows_the_training_prior_and_the_logit_scale():
    assert parse_spec("baseline", LABELS).fit(SMS, LABELS).initial_bias() is None
    balanced = parse_spec("downsample:bias_init=true", LABELS).fit(SMS, LABELS).initial_bias()
    np.testing.assert_allclose(softmax(balanced), [0.5, 0.5])
    ldam = parse_spec("ldam-drw:bias_init=true,scale=10", LABELS).fit(SMS, LABELS)
    np.testing.assert_allclose(softmax(10 * ldam.initial_bias()), ldam.effective_prior)
    np.testing.assert_allclose(softmax(prior_bias([0.2, 0.3, 0.5])), [0.2, 0.3, 0.5])


@settings(max_examples=40, deadline=None)
@given(counts=counts_st, factor=st.sampled_from([1.0, 1.5, 2.0, 3.0, 10.0]), seed=st.integers(0, 2**16))
def test_compensated_resampling_keeps_the_original_class_distribution(counts, factor, seed):
    y = y_from_counts(counts)
    for name, plan in (("downsample-upweight", downsample_upweight_plan), ("upsample-downweight", upsample_downweight_plan)):
        sizes, w = plan(counts, factor)
        idx = draw_epoch(y, sizes, np.random.default_rng(seed))
        mass = np.bincount(y[idx], minlength=len(counts)) * w
        np.testing.assert_allclose(mass / mass.sum(), counts / counts.sum(), rtol=1e-12)
        fitted = parse_spec(f"{name}:factor={factor}").fit(counts, [f"c{i}" for i in range(len(counts))])
        np.testing.assert_allclose(fitted.effective_prior, fitted.true_prior, rtol=1e-12)


def test_downsample_upweight_uses_the_factor_and_respects_the_smallest_class():
    sizes, w = downsample_upweight_plan(SMS, 2.0)
    assert sizes.tolist() == [2414, 747] and w[1] == 1.0 and w[0] == pytest.approx(2.0, abs=1e-3)
    sizes, w = downsample_upweight_plan(np.array([100, 80, 10]), 4.0)
    assert sizes.tolist() == [25, 20, 10] and w.tolist() == [4.0, 4.0, 1.0]
    sizes, _ = downsample_upweight_plan(np.array([100, 80, 10]), 20.0)
    assert sizes.tolist() == [10, 10, 10]  # never below the smallest
    sizes, w = upsample_downweight_plan(np.array([100, 80, 10]), 4.0)
    assert sizes.tolist() == [100, 100, 40] and w.tolist() == [1.0, 0.8, 0.25]  # never above the largest


@settings(max_examples=40, deadline=None)
@given(counts=counts_st, seed=st.integers(0, 2**16))
def test_plain_resampling_is_balanced_and_valid(counts, seed):
    y = y_from_counts(counts)
    for sizes in (downsample_sizes(counts, 1.0), upsample_sizes(counts, 1.0)):
        assert len(set(sizes.tolist())) == 1
        idx = draw_epoch(y, sizes, np.random.default_rng(seed))
        assert idx.min() >= 0 and idx.max() < len(y)
        np.testing.assert_array_equal(np.bincount(y[idx], minlength=len(counts)), sizes)
    labels = [f"c{i}" for i in range(len(counts))]
    for spec in ("downsample", "upsample"):
        uniform = np.full(len(counts), 1 / len(counts))
        np.testing.assert_allclose(parse_spec(spec).fit(counts, labels).effective_prior, uniform)


def test_resampling_ratio_and_draws():
    assert downsample_sizes(np.array([1000, 100]), 0.5).tolist() == [200, 100]
    assert upsample_sizes(np.array([1000, 100]), 0.5).tolist() == [1000, 500]
    y = y_from_counts(np.array([10, 3]))
    idx = draw_epoch(y, np.array([4, 7]), np.random.default_rng(0))
    minority = idx[y[idx] == 1]
    assert sorted(set(minority.tolist())) == [10, 11, 12]  # every minority row used
    assert np.bincount(minority).max() - np.bincount(minority)[10:].min() <= 1  # repeats spread evenly
    majority = idx[y[idx] == 0]
    assert len(set(majority.tolist())) == 4  # downsampling draws without replacement
    a = draw_epoch(y, np.array([4, 7]), np.random.default_rng(5))
    b = draw_epoch(y, np.array([4, 7]), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_effective_priors_of_loss_techniques():
    prior = SMS / SMS.sum()
    f = parse_spec("logit-adjusted:tau=0.5", LABELS).fit(SMS, LABELS)
    np.testing.assert_allclose(f.effective_prior, prior ** 0.5 / (prior ** 0.5).sum())
    np.testing.assert_allclose(parse_spec("logit-adjusted", LABELS).fit(SMS, LABELS).effective_prior, [0.5, 0.5])
    np.testing.assert_allclose(parse_spec("balanced-softmax", LABELS).fit(SMS, LABELS).effective_prior, [0.5, 0.5])
    np.testing.assert_allclose(parse_spec("focal", LABELS).fit(SMS, LABELS).effective_prior, prior)
    f = parse_spec("focal:alpha=0.75", LABELS).fit(SMS, LABELS)  # float alpha weights the minority (spam)
    np.testing.assert_allclose(f.effective_prior, prior * [0.25, 0.75] / (prior * [0.25, 0.75]).sum())
    f = parse_spec("baseline:posthoc=logit-adjusted-posthoc", LABELS).fit(SMS, LABELS)
    np.testing.assert_allclose(f.effective_prior, [0.5, 0.5])


def test_prior_correction_of_a_balanced_model_to_the_sms_prior():
    corrected = correct_prior(np.array([[0.1, 0.9]]), [0.5, 0.5], SMS / SMS.sum())
    assert corrected[0, 1] == pytest.approx(0.582, abs=5e-4)
    np.testing.assert_allclose(corrected.sum(axis=1), 1.0)


def test_prior_correction_after_downsample_upweight_is_the_identity():
    fitted = parse_spec("downsample-upweight", LABELS).fit(SMS, LABELS)
    p = softmax(np.random.default_rng(0).normal(size=(20, 2)), axis=1)
    np.testing.assert_allclose(correct_prior(p, fitted.effective_prior, fitted.true_prior), p, rtol=1e-12)


def test_prior_correction_round_trip():
    p = softmax(np.random.default_rng(1).normal(size=(10, 3)), axis=1)
    a, b = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(correct_prior(correct_prior(p, a, b), b, a), p, rtol=1e-12)
