"""The contract every preset keeps, on binary and 3-class toy data (like imbalanced-learn's
estimator checks): finite loss, gradients flow, deterministic for a seed, valid epoch indices
covering every class, priors that are distributions, a working post-hoc step, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.special import softmax

from imblab.techniques import GROUPS, PRESETS, FittedTechnique, PostHoc, Technique, list_presets, parse_spec

CASES = {
    "binary": (["ham", "spam"], np.array([90, 12])),
    "3-class": (["hate", "offensive", "neither"], np.array([8, 70, 25])),
}


def _case(name):
    labels, counts = CASES[name]
    return labels, counts, np.random.default_rng(0).permutation(np.repeat(np.arange(len(counts)), counts))


def _batch(n_classes: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, n_classes, generator=g, dtype=torch.float64) * 2, torch.randint(0, n_classes, (32,), generator=g)


def test_groups():
    assert GROUPS["seed"] == ["baseline", "bias-init", "downsample-upweight", "upsample-downweight", "focal",
                              "weighted", "downsample", "upsample"]
    assert GROUPS["all"] == [name for name, p in PRESETS.items() if not p.feature_space]  # every backend's
    assert set(GROUPS["seed"]) <= set(PRESETS)


def test_list_presets_lists_every_issue_preset_with_citations():
    listed = list_presets()
    assert [p["name"] for p in listed] == list(PRESETS)
    for p in listed:
        assert {"name", "description", "parameters", "citation", "parts"} <= set(p)
        assert (p["citation"] is None) == (p["name"] == "baseline")
        for q in p["parameters"]:
            assert {"name", "default", "type", "help"} <= set(q)
    json.dumps(listed)  # JSON-able
    defaults = {p["name"]: {q["name"]: q["default"] for q in p["parameters"]} for p in listed}
    assert defaults["focal"]["gamma"] == 2.0 and defaults["focal"]["alpha"] is None
    assert defaults["downsample-upweight"]["factor"] == 2.0 and defaults["downsample"]["ratio"] == 1.0
    assert defaults["class-balanced"]["beta"] == 0.999 and defaults["logit-adjusted"]["tau"] == 1.0
    assert defaults["ldam-drw"]["drw_start"] == 0.8 and defaults["ldam-drw"]["max_margin"] == 0.5
    assert defaults["weighted"]["weights"] == "inverse-frequency"


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_contract(name, case):
    labels, counts, y = _case(case)
    tech = parse_spec(name, labels)
    fitted = tech.fit(counts, labels)
    assert isinstance(fitted, FittedTechnique)
    for prior in (fitted.true_prior, fitted.effective_prior):
        assert prior.shape == (len(labels),) and np.all(prior > 0) and prior.sum() == pytest.approx(1.0)

    # epoch indices: valid, every class present, deterministic for a seed
    idx = fitted.epoch_indices(y, np.random.default_rng(7))
    assert idx.dtype == np.int64 and idx.size == fitted.epoch_size
    assert idx.min() >= 0 and idx.max() < len(y)
    assert set(y[idx].tolist()) == set(range(len(labels)))
    np.testing.assert_array_equal(idx, fitted.epoch_indices(y, np.random.default_rng(7)))

    # loss: finite, gradients flow, deterministic, at the start and the end of training
    logits, targets = _batch(len(labels))
    for progress in (0.0, 1.0):
        leaf = logits.clone().requires_grad_(True)
        loss = fitted.loss(leaf, targets, progress=progress)
        assert loss.ndim == 0 and torch.isfinite(loss)
        loss.backward()
        assert torch.all(torch.isfinite(leaf.grad)) and leaf.grad.abs().sum() > 0
        assert fitted.loss(logits, targets, progress=progress).item() == loss.item()

    # bias init: absent or a (C,) log-prior
    bias = fitted.initial_bias()
    assert bias is None or (bias.shape == (len(labels),) and np.all(np.isfinite(bias)))

    # post-hoc: fitted on validation logits, applies to new logits, round-trips
    val_logits = np.random.default_rng(1).normal(size=(60, len(labels)))
    val_y = np.arange(60) % len(labels)
    posthoc = fitted.fit_posthoc(val_logits, val_y)
    p = softmax(posthoc.transform_logits(val_logits), axis=1)
    assert np.all(np.isfinite(p))
    pred = posthoc.decide(p)
    assert pred.shape == (60,) and set(pred.tolist()) <= set(range(len(labels)))
    assert PostHoc.from_dict(json.loads(json.dumps(posthoc.to_dict()))) == posthoc

    # identity: spec and dict round trips
    assert parse_spec(tech.spec, labels) == tech
    assert Technique.from_dict(json.loads(json.dumps(tech.to_dict())), labels) == tech


def test_epoch_indices_rejects_a_different_training_split():
    labels, counts, y = _case("binary")
    fitted = parse_spec("downsample", labels).fit(counts, labels)
    with pytest.raises(ValueError, match="class counts"):
        fitted.epoch_indices(y[:-1], np.random.default_rng(0))


def test_sampling_presets_redraw_each_epoch():
    labels, counts, y = _case("binary")
    fitted = parse_spec("downsample", labels).fit(counts, labels)
    rng = np.random.default_rng(0)
    first, second = fitted.epoch_indices(y, rng), fitted.epoch_indices(y, rng)
    assert first.size == second.size == 24
    assert set(first.tolist()) != set(second.tolist())


def test_ldam_drw_switches_weights_on_at_drw_start():
    labels, counts, _ = _case("binary")
    fitted = parse_spec("ldam-drw:drw_start=0.5", labels).fit(counts, labels)
    logits, targets = _batch(2)
    assert fitted.loss(logits, targets, 0.0).item() == fitted.loss(logits, targets, 0.49).item()
    assert fitted.loss(logits, targets, 0.5).item() != fitted.loss(logits, targets, 0.49).item()


def test_fit_rejects_empty_classes_and_mismatched_labels():
    from imblab.errors import DataError

    with pytest.raises(DataError, match="no training rows for label\\(s\\) spam"):
        parse_spec("weighted").fit([10, 0], ["ham", "spam"])
    with pytest.raises(DataError, match="one training count per label"):
        parse_spec("weighted").fit([10, 3, 4], ["ham", "spam"])


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p["name"])
def test_every_listed_example_is_a_valid_non_default_spec(preset):
    tech = parse_spec(preset["example"], ["ham", "spam"])
    assert tech.name == preset["name"] and tech.display_name != tech.name
