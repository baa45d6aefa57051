"""Costs and decisions: the cost matrix and prior (parsing, validation), Bayes decisions, expected cost,
the validation-tuned rule and cost curves — checked by hand, against scikit-learn, and as properties."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import confusion_matrix, make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV

from imblab.errors import SpecError
from imblab.evaluation import (
    CostRule,
    Costs,
    bayes_decisions,
    cheapest,
    cheapest_sentences,
    cost_curve,
    cost_from_confusion,
    cost_ratio,
    expected_cost,
    one_error_tolerance,
    parse_prior,
    probability_cost,
    tune_cost_threshold,
)
from imblab.techniques import correct_prior

LABELS = ["ham", "spam"]
LABELS3 = ["normal", "offensive", "hate"]


def _sk_cost(y, pred, matrix, sample_weight=None):
    """Mean cost per example from scikit-learn's confusion matrix (the test split's own class mix)."""
    cm = confusion_matrix(y, pred, labels=list(range(len(matrix))), sample_weight=sample_weight)
    return float((cm * np.asarray(matrix)).sum() / cm.sum())


def _sk_cost_at_prior(y, pred, matrix, prior):
    """Expected cost at a prior from scikit-learn's row-normalised confusion matrix (P(pred | true))."""
    rates = confusion_matrix(y, pred, labels=list(range(len(matrix))), normalize="true")
    return float(((rates * np.asarray(matrix)).sum(axis=1) * prior).sum())


def _scored(n: int, prior: float, seed: int, separation: float = 2.0, calibrated: bool = True):
    """Binary labels and probabilities of the positive class (index 1) at the data's prior.

    x ~ N(separation·y, 1); the calibrated posterior has log-odds log(π/(1−π)) + separation·x − separation²/2.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prior).astype(np.int64)
    x = rng.normal(size=n) + separation * y
    log_odds = np.log(prior / (1 - prior)) + separation * x - separation**2 / 2
    if not calibrated:
        log_odds = log_odds / 3 + 1.5  # too flat and shifted towards the positive label
    p = 1 / (1 + np.exp(-log_odds))
    return y, np.column_stack([1 - p, p])


# ------------------------------------------------------------------------------------- Costs: construction


def test_parse_binary_costs_default_positive_is_the_minority():
    costs = Costs.parse("fn=10, fp=1", LABELS, [4827, 747])
    assert costs.positive == "spam"
    assert costs.matrix.tolist() == [[0.0, 1.0], [10.0, 0.0]]  # rows true, columns predicted
    assert (costs.fn, costs.fp) == (10.0, 1.0)
    assert costs.bayes_threshold == pytest.approx(1 / 11)
    assert costs.describe() == "a missed spam costs 10, a false alarm 1"


def test_parse_binary_costs_with_an_explicit_positive_label():
    costs = Costs.parse("fn=3,fp=2,positive=ham", LABELS, [4827, 747])
    assert costs.positive == "ham"
    assert costs.matrix.tolist() == [[0.0, 3.0], [2.0, 0.0]]


def test_costs_round_trip_through_json_and_are_read_only():
    for costs in (Costs.binary(LABELS, fn=10, fp=1, positive="spam"),
                  Costs.from_matrix(LABELS3, [[0, 1, 1], [1, 0, 1], [20, 5, 0]])):
        restored = Costs.from_dict(json.loads(json.dumps(costs.to_dict())))
        assert restored == costs
        with pytest.raises(ValueError):
            costs.matrix[0, 1] = 5.0


def test_config_matrix_with_labels_is_reordered_to_the_data_order():
    # The file lists hate first; the data's order is normal, offensive, hate.
    value = {"labels": ["hate", "normal", "offensive"], "matrix": [[0, 20, 5], [1, 0, 1], [1, 1, 0]]}
    costs = Costs.from_config(value, LABELS3)
    assert costs.labels == tuple(LABELS3)
    assert costs.matrix[2, 0] == 20  # true hate predicted normal
    assert costs.matrix[2, 1] == 5
    assert costs.matrix[0, 2] == 1
    assert costs == Costs.from_matrix(LABELS3, [[0, 1, 1], [1, 0, 1], [20, 5, 0]])


def test_config_fn_fp_and_a_binary_matrix_agree():
    by_fn = Costs.from_config({"fn": 10, "fp": 1.5}, LABELS, [4827, 747])
    by_matrix = Costs.from_config({"matrix": [[0, 1.5], [10, 0]], "positive": "spam"}, LABELS)
    assert by_fn == by_matrix


BAD_COSTS = [
    ("fn=-1,fp=1", "≥ 0"),
    ("fn=abc,fp=1", "not a number"),
    ("fn=inf,fp=1", "finite"),
    ("fn=nan,fp=1", "finite"),
    ("fn=10", "missing fp"),
    ("fn=1,fp=1,cost=3", "unknown key"),
    ("fn=1,fn=2,fp=1", "twice"),
    ("fn 10, fp 1", "key=value"),
    ("fn=0,fp=0", "every cost is 0"),
    ("fn=1,fp=1,positive=eggs", "unknown label 'eggs'"),
]


@pytest.mark.parametrize("text, expected", BAD_COSTS)
def test_bad_cost_flags_are_one_line_spec_errors(text, expected):
    with pytest.raises(SpecError) as info:
        Costs.parse(text, LABELS, [4827, 747])
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_fn_fp_costs_for_three_labels_point_to_the_matrix():
    with pytest.raises(SpecError, match="cost matrix"):
        Costs.parse("fn=1,fp=1", LABELS3, [10, 5, 1])


def test_equally_frequent_classes_need_an_explicit_positive_label():
    with pytest.raises(SpecError, match="equally frequent"):
        Costs.parse("fn=1,fp=2", LABELS, [50, 50])


BAD_CONFIGS = [
    ({"matrix": [[0, 1, 1], [1, 0, 1]]}, "must be 3×3"),
    ({"matrix": [[0, 1, 1], [1, 0], [1, 1, 0]]}, "must be 3×3"),
    ({"matrix": "0 1 1"}, "must be 3×3"),
    ({"matrix": [[0, 1, 1], [1, 2, 1], [1, 1, 0]]}, "a correct decision costs 0"),
    ({"matrix": [[0, 1, 1], [1, 0, -3], [1, 1, 0]]}, "≥ 0"),
    ({"matrix": [[0, 1, 1], [1, 0, "x"], [1, 1, 0]]}, "not a number"),
    ({"matrix": [[0, 1, 1], [1, 0, True], [1, 1, 0]]}, "not a number"),
    ({"matrix": [[0, 0, 0], [0, 0, 0], [0, 0, 0]]}, "every cost is 0"),
    ({"matrix": [[0, 1, 1], [1, 0, 1], [1, 1, 0]], "fn": 3}, "not both"),
    ({"matrix": [[0, 1, 1], [1, 0, 1], [1, 1, 0]], "labels": ["normal", "hate", "spam"]}, "unknown label 'spam'"),
    ({"matrix": [[0, 1], [1, 0]], "labels": ["normal", "hate"]}, "missing offensive"),
    ({"matrix": [[0, 1, 1], [1, 0, 1], [1, 1, 0]], "labels": ["normal", "hate", "hate"]}, "every label once"),
    ({"matrix": [[0, 1, 1], [1, 0, 1], [1, 1, 0]], "weights": 1}, "unknown key 'weights'"),
    ({"fn": 1, "fp": 1}, "two classes"),
    ({"fn": 1}, "give fn and fp"),
]

BAD_BINARY_CONFIGS = [
    ({"fn": "10", "fp": 1}, "fn is '10', not a number"),  # a TOML string is a type error, as elsewhere
    ({"fn": 10, "fp": -1}, "≥ 0"),
    ({"fn": 10, "fp": 1, "positive": "eggs"}, "unknown label 'eggs'"),
    ({"fn": 10, "fp": 1, "labels": ["ham", "spam"]}, "labels names the order of a matrix"),
    ({"matrix": [[0, 1], [10, 0]]}, "equally frequent"),
    ([1, 2], "must be a table"),
]


@pytest.mark.parametrize("value, expected", BAD_BINARY_CONFIGS)
def test_bad_binary_cost_tables_are_one_line_spec_errors(value, expected):
    with pytest.raises(SpecError) as info:
        Costs.from_config(value, LABELS, [50, 50])
    assert expected in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("value, expected", BAD_CONFIGS)
def test_bad_cost_tables_are_one_line_spec_errors(value, expected):
    with pytest.raises(SpecError) as info:
        Costs.from_config(value, LABELS3, [100, 20, 5])
    message = str(info.value)
    assert message.startswith("[costs]: ")
    assert expected in message
    assert "\n" not in message


def test_the_diagonal_message_says_costs_are_relative_to_a_correct_decision():
    with pytest.raises(SpecError, match="costs are relative to it"):
        Costs.from_matrix(LABELS3, [[1, 2, 2], [1, 0, 1], [1, 1, 0]])


# ------------------------------------------------------------------------------------------------ prior


@pytest.mark.parametrize("value", ["spam=0.02", "ham=0.98,spam=0.02", " spam = 0.02 , ham=0.98 ", {"spam": 0.02},
                                   {"ham": 0.98, "spam": 0.02}])
def test_prior_forms_agree_and_one_label_may_be_left_out(value):
    prior = parse_prior(value, LABELS)
    assert prior.tolist() == pytest.approx([0.98, 0.02], abs=1e-15)
    assert prior.sum() == 1.0


def test_prior_of_three_labels_with_one_left_out():
    prior = parse_prior("hate=0.01,offensive=0.2", LABELS3)
    assert prior.tolist() == pytest.approx([0.79, 0.2, 0.01])


def test_a_full_prior_matches_what_the_model_accepts_today():
    # TrainedModel.prior_vector normalises a full mapping; for a distribution the two must agree.
    mapping = {"normal": 0.7, "offensive": 0.25, "hate": 0.05}
    expected = np.array([mapping[label] for label in LABELS3])
    np.testing.assert_allclose(parse_prior(mapping, LABELS3), expected / expected.sum(), rtol=0, atol=1e-15)


BAD_PRIORS = [
    ("eggs=0.5", LABELS, "unknown label 'eggs'"),
    ("spam=0", LABELS, "(0, 1]"),
    ("spam=1.5", LABELS, "(0, 1]"),
    ("spam=-0.1", LABELS, "(0, 1]"),
    ("spam=nan", LABELS, "(0, 1]"),
    ("spam=abc", LABELS, "not a number"),
    ("spam=0.3,ham=0.3", LABELS, "sum to 0.6, not 1"),
    ("spam=1", LABELS, "leaving nothing for ham"),
    ("hate=0.1", LABELS3, "leaves out normal, offensive"),
    ("spam", LABELS, "label=probability"),
    ("", LABELS, "empty"),
    ("spam=0.1,spam=0.2", LABELS, "twice"),
    ({"spam": "x"}, LABELS, "not a number"),
    ({"spam": "0.02"}, LABELS, "not a number"),  # a string in a study file is a type error
    ({"spam": True}, LABELS, "not a number"),
    (0.02, LABELS, "pairs or a mapping"),
]


@pytest.mark.parametrize("value, labels, expected", BAD_PRIORS)
def test_bad_priors_are_one_line_spec_errors(value, labels, expected):
    with pytest.raises(SpecError) as info:
        parse_prior(value, labels)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


# -------------------------------------------------------------------------------------------- decisions


def _counts(n_classes: int) -> st.SearchStrategy[list[list[int]]]:
    """Probability vectors as integer counts: exact ties are common, near-ties (closer than rounding) impossible."""
    row = st.lists(st.integers(0, 12), min_size=n_classes, max_size=n_classes).filter(lambda r: sum(r) > 0)
    return st.lists(row, min_size=1, max_size=30)


_COUNTS = st.integers(2, 5).flatmap(_counts)


def _proba(counts: list[list[int]]) -> np.ndarray:
    a = np.asarray(counts, dtype=np.float64)
    return a / a.sum(axis=1, keepdims=True)


@settings(max_examples=150, deadline=None)
@given(_COUNTS, st.sampled_from([1.0, 0.5, 7.0]))
def test_equal_costs_at_the_training_prior_decide_the_argmax(counts, scale):
    raw = _proba(counts)
    n_classes = raw.shape[1]
    labels = [f"c{i}" for i in range(n_classes)]
    trained = np.arange(1, n_classes + 1, dtype=np.float64)  # the technique's effective prior
    training_prior = trained[::-1].copy()
    # What predict_proba(prior="true") returns: the technique's probabilities corrected to the training prior.
    proba = correct_prior(raw, trained, training_prior)
    costs = Costs.from_matrix(labels, scale * (1 - np.eye(n_classes)), positive="c1" if n_classes == 2 else None)
    np.testing.assert_array_equal(bayes_decisions(proba, costs), proba.argmax(axis=1))
    np.testing.assert_array_equal(bayes_decisions(raw, costs), raw.argmax(axis=1))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000))
def test_equal_costs_decide_the_argmax_on_continuous_probabilities(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 7))
    proba = rng.dirichlet(np.full(n_classes, 0.3), size=50)
    labels = [f"c{i}" for i in range(n_classes)]
    costs = Costs.zero_one(labels)
    np.testing.assert_array_equal(bayes_decisions(proba, costs), proba.argmax(axis=1))


def test_hand_computed_binary_example():
    """Five texts, a missed spam costs 10, a false alarm 1; trained at 25 % spam, deployed at 10 %.

    Saerens correction, p' ∝ p·π'/π: spam × 0.10/0.25 = 0.4, ham × 0.90/0.75 = 1.2.
      p(spam) = 0.5  → 0.2 / (0.2 + 0.6)    = 0.25
      p(spam) = 0.25 → 0.1 / (0.1 + 0.9)    = 0.1
      p(spam) = 0.2  → 0.08 / (0.08 + 0.96) = 1/13 ≈ 0.0769
      p(spam) = 0.7  → 0.28 / (0.28 + 0.36) = 0.4375
      p(spam) = 0.1  → 0.04 / (0.04 + 1.08) = 1/28 ≈ 0.0357
    Elkan: predict spam iff 10·p' > 1·(1 − p'), i.e. p' > 1/11 ≈ 0.0909 → spam, spam, ham, spam, ham
    (argmax at the training prior would say: ham, ham, ham, spam, ham).
    True labels: spam, ham, spam, ham, ham → one missed spam of 2 (FNR 1/2), two false alarms of 3 (FPR 2/3).
    Expected cost at the deployment prior: 0.1·(1/2)·10 + 0.9·(2/3)·1 = 0.5 + 0.6 = 1.1 per text (1,100 per
    1,000); at the test split's own mix: (10 + 1 + 1) / 5 = 2.4.
    """
    p_spam = np.array([0.5, 0.25, 0.2, 0.7, 0.1])
    proba = np.column_stack([1 - p_spam, p_spam])
    costs = Costs.parse("fn=10,fp=1", LABELS, [3, 1])
    deploy = parse_prior("spam=0.1", LABELS)
    corrected = correct_prior(proba, [0.75, 0.25], deploy)
    np.testing.assert_allclose(corrected[:, 1], [0.25, 0.1, 1 / 13, 0.4375, 1 / 28], rtol=1e-12)
    decisions = bayes_decisions(corrected, costs)
    assert decisions.tolist() == [1, 1, 0, 1, 0]
    assert proba.argmax(axis=1).tolist() == [0, 0, 0, 1, 0]
    y = np.array([1, 0, 1, 0, 0])
    assert expected_cost(y, decisions, costs, deploy) == pytest.approx(1.1, abs=1e-12)
    assert expected_cost(y, decisions, costs) == pytest.approx(2.4, abs=1e-12)
    assert 1000 * expected_cost(y, decisions, costs, deploy) == pytest.approx(1100, abs=1e-9)


def _three_class_costs(rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(1, 4, size=(3, 3)).astype(np.float64)
    np.fill_diagonal(base, 0.0)
    return base


@settings(max_examples=150, deadline=None)
@given(_counts(3), st.integers(0, 2), st.integers(0, 2), st.integers(1, 50),
       st.integers(0, 1000))
def test_one_expensive_confusion_only_moves_decisions_away_from_it(counts, a, b, extra, seed):
    if a == b:
        b = (a + 1) % 3
    proba = _proba(counts)
    base = _three_class_costs(np.random.default_rng(seed))
    raised = base.copy()
    raised[a, b] += extra  # predicting b for a true a now costs more
    before = bayes_decisions(proba, Costs.from_matrix(LABELS3, base))
    after = bayes_decisions(proba, Costs.from_matrix(LABELS3, raised))
    changed = before != after
    assert np.all(before[changed] == b)  # only texts that were predicted b change ...
    assert np.all(after[changed] != b)  # ... and never to b


@settings(max_examples=150, deadline=None)
@given(_counts(3), st.integers(0, 2), st.integers(1, 50), st.integers(0, 1000))
def test_an_expensive_miss_only_moves_decisions_towards_that_label(counts, a, extra, seed):
    proba = _proba(counts)
    base = _three_class_costs(np.random.default_rng(seed))
    raised = base.copy()
    raised[a] += extra  # missing a true a costs more, whatever is predicted instead
    raised[a, a] = 0.0
    before = bayes_decisions(proba, Costs.from_matrix(LABELS3, base))
    after = bayes_decisions(proba, Costs.from_matrix(LABELS3, raised))
    changed = before != after
    assert np.all(after[changed] == a)


def test_an_expensive_confusion_does_shift_some_decisions():
    proba = np.array([[0.5, 0.1, 0.4], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.45, 0.45, 0.1]])
    zero_one = Costs.zero_one(LABELS3)
    hate_as_normal = Costs.from_matrix(LABELS3, [[0, 1, 1], [1, 0, 1], [20, 1, 0]])  # missing hate as normal
    assert bayes_decisions(proba, zero_one).tolist() == [0, 1, 0, 0]
    # Predicting normal now costs p(offensive) + 20·p(hate): row 0: 0.1 + 8 = 8.1 against hate 0.6, offensive 0.9
    # → hate; row 2: 0.3 + 2 = 2.3 against offensive 0.6 + 0.1 = 0.7 → offensive (away from normal, not
    # necessarily to hate); row 3 likewise; row 1 was not normal and stays.
    assert bayes_decisions(proba, hate_as_normal).tolist() == [2, 1, 1, 1]


def test_ties_go_to_the_most_probable_then_the_lowest_index():
    costs = Costs.parse("fn=1,fp=3,positive=spam", LABELS)
    # p(spam) = 0.75: predicting ham costs 0.75, spam 3·0.25 = 0.75 — a tie; spam is more probable.
    assert bayes_decisions(np.array([[0.25, 0.75]]), costs).tolist() == [1]
    assert bayes_decisions(np.array([[0.5, 0.5]]), Costs.zero_one(LABELS)).tolist() == [0]


# ---------------------------------------------------------------------------------------- expected cost


def _random_decisions(seed: int, n: int = 300, n_classes: int = 3):
    rng = np.random.default_rng(seed)
    y = rng.choice(n_classes, size=n, p=np.r_[0.7, np.full(n_classes - 1, 0.3 / (n_classes - 1))])
    y[:n_classes] = np.arange(n_classes)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, n_classes, n))
    return y, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_cost_matches_scikit_learn(seed):
    y, pred = _random_decisions(seed)
    matrix = [[0, 1, 2], [3, 0, 1], [20, 5, 0]]
    costs = Costs.from_matrix(LABELS3, matrix)
    assert expected_cost(y, pred, costs) == pytest.approx(_sk_cost(y, pred, matrix), rel=1e-12)
    prior = parse_prior("hate=0.01,offensive=0.1", LABELS3)
    assert expected_cost(y, pred, costs, prior) == pytest.approx(_sk_cost_at_prior(y, pred, matrix, prior), rel=1e-12)
    # At the test split's own class mix the re-weighting changes nothing.
    own = np.bincount(y, minlength=3) / len(y)
    assert expected_cost(y, pred, costs, own) == pytest.approx(expected_cost(y, pred, costs), rel=1e-12)


@pytest.mark.parametrize("prior", [None, [0.9, 0.08, 0.02]])
def test_bootstrap_weights_give_the_cost_of_each_resample(prior):
    y, pred = _random_decisions(3, n=200)
    costs = Costs.from_matrix(LABELS3, [[0, 1, 2], [3, 0, 1], [20, 5, 0]])
    rng = np.random.default_rng(7)
    indices = rng.integers(0, len(y), size=(25, len(y)))
    weights = np.stack([np.bincount(i, minlength=len(y)) for i in indices]).astype(np.float64)
    vectorised = expected_cost(y, pred, costs, prior, weights=weights)
    assert vectorised.shape == (25,)
    one_by_one = [expected_cost(y[i], pred[i], costs, prior) for i in indices]
    np.testing.assert_allclose(vectorised, one_by_one, rtol=1e-12, equal_nan=True)
    if prior is None:
        np.testing.assert_allclose(vectorised, [_sk_cost(y, pred, costs.matrix, w) for w in weights], rtol=1e-12)


def test_the_study_bootstrap_weights_work_unchanged():
    from imblab.comparison import bootstrap_weights
    from imblab.evaluation import confusion_matrices

    y, pred = _random_decisions(4, n=150)
    costs = Costs.from_matrix(LABELS3, [[0, 1, 2], [3, 0, 1], [20, 5, 0]])
    weights = bootstrap_weights(len(y), n_boot=50, seed=0)
    prior = np.array([0.9, 0.08, 0.02])
    np.testing.assert_allclose(expected_cost(y, pred, costs, prior, weights=weights),
                               cost_from_confusion(confusion_matrices(y, pred, 3, weights), costs, prior), rtol=1e-12)


def test_a_class_missing_from_the_labels_gives_nan_at_a_prior_that_needs_it():
    costs = Costs.zero_one(LABELS3)
    y, pred = np.array([0, 0, 1]), np.array([0, 1, 1])
    assert np.isnan(expected_cost(y, pred, costs, [0.5, 0.3, 0.2]))
    assert expected_cost(y, pred, costs) == pytest.approx(1 / 3)


# --------------------------------------------------------------------------------------- the tuned rule


def test_the_tuned_rule_cannot_read_test_labels():
    # Its only inputs are validation data: no parameter could carry test labels ...
    assert list(inspect.signature(tune_cost_threshold).parameters) == [
        "val_proba", "val_y", "costs", "deploy_prior", "rounds", "max_candidates"]
    y, proba = _scored(1600, 0.13, seed=0)
    val, test = slice(0, 800), slice(800, None)
    costs = Costs.parse("fn=10,fp=1", LABELS, [87, 13])
    deploy = parse_prior("spam=0.02", LABELS)
    rule = tune_cost_threshold(proba[val], y[val], costs, deploy)
    decided = rule.decide(proba[test])
    # ... and permuting the test labels changes nothing it returns, while the test cost does change.
    shuffled = np.random.default_rng(1).permutation(y[test])
    assert tune_cost_threshold(proba[val], y[val], costs, deploy) == rule
    np.testing.assert_array_equal(rule.decide(proba[test]), decided)
    assert expected_cost(shuffled, decided, costs, deploy) != expected_cost(y[test], decided, costs, deploy)
    # The validation labels, on the other hand, are what it learns from.
    flipped = tune_cost_threshold(proba[val], 1 - y[val], costs, deploy)
    assert flipped.threshold != rule.threshold


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("prior", [None, 0.02])
def test_the_binary_threshold_is_the_cheapest_on_validation(seed, prior):
    y, proba = _scored(300, 0.13, seed)
    costs = Costs.parse("fn=10,fp=1", LABELS, [87, 13])
    deploy = None if prior is None else parse_prior(f"spam={prior}", LABELS)
    rule = tune_cost_threshold(proba, y, costs, deploy)
    every = [expected_cost(y, (proba[:, 1] >= t).astype(int), costs, deploy)
             for t in np.r_[np.unique(proba[:, 1]), 1.1]]
    assert rule.validation_cost == pytest.approx(min(every), rel=1e-12)
    assert expected_cost(y, rule.decide(proba), costs, deploy) == pytest.approx(rule.validation_cost, rel=1e-12)
    assert rule.validation_cost <= rule.bayes_validation_cost + 1e-12
    assert 0.0 <= rule.threshold <= 1.0


class _Scores(ClassifierMixin, BaseEstimator):
    """Hands scikit-learn fixed probabilities: X holds row indices into them."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return self.proba[np.asarray(X)[:, 0].astype(int)]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_binary_threshold_matches_scikit_learns_tuned_threshold(seed):
    y, proba = _scored(400, 0.13, seed)
    matrix = [[0, 1], [10, 0]]
    costs = Costs.from_matrix(LABELS, matrix, positive="spam")
    rule = tune_cost_threshold(proba, y, costs)
    X = np.arange(len(y))[:, None]
    tuned = TunedThresholdClassifierCV(
        _Scores(proba).fit(X, y), scoring=make_scorer(lambda t, p: -_sk_cost(t, p, matrix)),
        thresholds=np.r_[np.unique(proba[:, 1]), 1.1], cv="prefit", refit=False, response_method="predict_proba",
    ).fit(X, y)
    assert -tuned.best_score_ == pytest.approx(rule.validation_cost, rel=1e-12)
    np.testing.assert_array_equal(tuned.predict(X), rule.decide(proba))


def test_the_tuned_threshold_stays_at_the_bayes_threshold_when_validation_agrees():
    proba = np.array([[0.99, 0.01]] * 6 + [[0.1, 0.9]] * 2)
    y = np.array([0] * 6 + [1] * 2)
    costs = Costs.parse("fn=10,fp=1", LABELS, [6, 2])
    rule = tune_cost_threshold(proba, y, costs)
    assert rule.threshold == costs.bayes_threshold
    assert rule.validation_cost == 0.0


def test_the_tuned_rule_recovers_cost_from_miscalibrated_probabilities():
    # Too flat, shifted probabilities: the Bayes decision trusts them and pays; the tuned rule does not.
    y, proba = _scored(6000, 0.13, seed=5, calibrated=False)
    costs = Costs.parse("fn=10,fp=1", LABELS, [87, 13])
    deploy = parse_prior("spam=0.02", LABELS)
    corrected = correct_prior(proba, [0.87, 0.13], deploy)
    val, test = slice(0, 3000), slice(3000, None)
    rule = tune_cost_threshold(corrected[val], y[val], costs, deploy)
    tuned = expected_cost(y[test], rule.decide(corrected[test]), costs, deploy)
    bayes = expected_cost(y[test], bayes_decisions(corrected[test], costs), costs, deploy)
    assert tuned < 0.9 * bayes


def _three_class(n: int, seed: int, miscalibrated: bool):
    rng = np.random.default_rng(seed)
    prior = np.array([0.75, 0.2, 0.05])
    y = rng.choice(3, size=n, p=prior)
    logits = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[y] + np.log(prior)
    if miscalibrated:
        logits[:, 2] -= 2.0  # hate is under-predicted
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


@pytest.mark.parametrize("seed", [0, 1])
def test_the_multiclass_rule_is_no_worse_than_bayes_on_validation_and_round_trips(seed):
    y, proba = _three_class(900, seed, miscalibrated=True)
    costs = Costs.from_matrix(LABELS3, [[0, 1, 2], [1, 0, 2], [20, 5, 0]])
    prior = np.array([0.9, 0.08, 0.02])
    rule = tune_cost_threshold(proba, y, costs, prior)
    assert rule.threshold is None and rule.log_offsets.shape == (3,)
    assert rule.validation_cost < rule.bayes_validation_cost
    assert expected_cost(y, rule.decide(proba), costs, prior) == pytest.approx(rule.validation_cost, rel=1e-12)
    restored = CostRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert restored == rule
    np.testing.assert_array_equal(restored.decide(proba), rule.decide(proba))


def test_the_multiclass_rule_starts_from_the_bayes_decision():
    # Perfectly separated validation data: the Bayes decision already costs 0, so nothing moves.
    proba = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]] * 4)
    y = np.array([0, 1, 2] * 4)
    rule = tune_cost_threshold(proba, y, Costs.from_matrix(LABELS3, [[0, 1, 1], [1, 0, 1], [9, 9, 0]]))
    assert rule.log_offsets.tolist() == [0.0, 0.0, 0.0]
    assert rule.validation_cost == rule.bayes_validation_cost == 0.0


# ------------------------------------------------------------------------------------------- cost curves


def test_cost_curve_by_hand():
    """Scores 0.1 (neg), 0.4 (pos), 0.6 (neg), 0.8 (pos); "positive iff score ≥ t".

    The operating points (FNR, FPR) over t: (0, 1), (0, ½), (½, ½), (½, 0), (1, 0); their lines
    NE = FNR·PC + FPR·(1 − PC) have the lower envelope ½·min(PC, 1 − PC): 0, ⅛, ¼, ⅛, 0
    at PC = 0, ¼, ½, ¾, 1.
    Bayes decisions of these probabilities, calibrated to a prior of ½: predict positive iff p·PC > (1−p)(1−PC),
    i.e. p > 1 − PC: PC = ¼ → {0.8}: (½, 0) → ⅛; PC = ½ → {0.6, 0.8}: (½, ½) → ½;
    PC = ¾ → {0.4, 0.6, 0.8}: (0, ½) → ⅛; PC = 0 → none → 0; PC = 1 → all → 0.
    """
    y = np.array([0, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.6, 0.8])
    grid = [0.0, 0.25, 0.5, 0.75, 1.0]
    curve = cost_curve(y, np.column_stack([1 - p, p]), grid, positive=1, prior=[0.5, 0.5])
    np.testing.assert_allclose(curve.envelope, [0, 0.125, 0.25, 0.125, 0], atol=1e-15)
    np.testing.assert_allclose(curve.bayes, [0, 0.125, 0.5, 0.125, 0], atol=1e-15)
    bare = cost_curve(y, p, grid, positive=1)
    assert bare.bayes is None
    np.testing.assert_array_equal(bare.envelope, curve.envelope)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bayes_curve_is_what_imblab_decides_at_each_operating_point(seed):
    y, proba = _scored(500, 0.13, seed)
    training = np.array([0.87, 0.13])
    rng = np.random.default_rng(seed)
    points = [(parse_prior({"spam": float(rng.uniform(0.01, 0.5))}, LABELS), float(rng.uniform(0.5, 30)),
               float(rng.uniform(0.5, 3))) for _ in range(6)]
    for deploy, fn, fp in points:
        costs = Costs.binary(LABELS, fn=fn, fp=fp, positive="spam")
        pc = probability_cost(costs, deploy)
        curve = cost_curve(y, proba, [pc], positive=1, prior=training)
        decided = bayes_decisions(correct_prior(proba, training, deploy), costs)
        fnr = np.mean(decided[y == 1] == 0)
        fpr = np.mean(decided[y == 0] == 1)
        assert curve.bayes[0] == pytest.approx(fnr * pc + fpr * (1 - pc), abs=1e-12)
        # Normalised expected cost × its largest value = the expected cost at that prior.
        scale = deploy[1] * fn + deploy[0] * fp
        assert curve.bayes[0] * scale == pytest.approx(expected_cost(y, decided, costs, deploy), rel=1e-9)
        assert curve.envelope[0] <= curve.bayes[0] + 1e-12


def test_the_envelope_is_below_the_trivial_classifiers_and_the_bayes_curve():
    y, proba = _scored(400, 0.2, seed=3, calibrated=False)
    curve = cost_curve(y, proba, positive=1, prior=[0.8, 0.2])
    assert len(curve.pc) == 1001
    assert np.all(curve.envelope <= np.minimum(curve.pc, 1 - curve.pc) + 1e-12)
    assert np.all(curve.envelope <= curve.bayes + 1e-12)


def test_a_multiclass_curve_is_its_label_against_the_rest():
    y, proba = _three_class(600, 0, miscalibrated=False)
    prior = np.array([0.75, 0.2, 0.05])
    grid = np.linspace(0, 1, 51)
    curve = cost_curve(y, proba, grid, positive=2, prior=prior)
    binary = cost_curve((y == 2).astype(int), np.column_stack([1 - proba[:, 2], proba[:, 2]]), grid, positive=1,
                        prior=[0.95, 0.05])
    np.testing.assert_allclose(curve.envelope, binary.envelope, atol=1e-15)
    np.testing.assert_allclose(curve.bayes, binary.bayes, atol=1e-15)


def test_probability_cost_and_cost_ratio_are_inverse():
    costs = Costs.parse("fn=7,fp=2", LABELS, [87, 13])
    prior = parse_prior("spam=0.02", LABELS)
    pc = probability_cost(costs, prior)
    assert pc == pytest.approx(0.02 * 7 / (0.02 * 7 + 0.98 * 2))
    assert cost_ratio(pc, 0.02) == pytest.approx(3.5)


def test_cheapest_by_hand_and_in_words():
    # A: FNR 0.2, FPR 0.4 → NE = 0.4 − 0.2·PC;  B: FNR 0.6, FPR 0.1 → NE = 0.1 + 0.5·PC; they cross at PC = 3/7.
    pc = np.linspace(0, 1, 101)
    result = cheapest(pc, {"focal": 0.4 - 0.2 * pc, "baseline": 0.1 + 0.5 * pc})
    assert result.ranges["focal"] == [(pytest.approx(3 / 7), 1.0)]
    assert result.ranges["baseline"] == [(0.0, pytest.approx(3 / 7))]
    np.testing.assert_allclose(result.envelope, np.minimum(0.4 - 0.2 * pc, 0.1 + 0.5 * pc))
    assert set(result.winner.tolist()) == {0, 1}
    # At 2 % spam, PC = 3/7 is fn/fp = (3/7)/(4/7)·(0.98/0.02) = 0.75·49 = 36.75.
    words = cheapest_sentences(result, positive_label="spam", prior_positive=0.02)
    assert words["focal"] == "focal is cheapest only when a missed spam costs more than 37 false alarms (at 2 % spam)"
    assert words["baseline"] == ("baseline is cheapest only when a missed spam costs less than 37 false alarms "
                                 "(at 2 % spam)")


def test_cheapest_ties_and_a_technique_that_wins_between_ties():
    pc = np.linspace(0, 1, 11)
    trivial = np.minimum(pc, 1 - pc)
    better = trivial.copy()
    better[3:8] -= 0.05  # strictly cheaper in the middle, tied where everyone predicts one label
    result = cheapest(pc, {"a": trivial, "b": trivial.copy(), "c": better})
    assert result.ranges["a"] == [] and result.ranges["b"] == []
    assert result.ranges["c"] == [(0.0, 1.0)]
    assert result.winner.tolist() == [-1, -1, -1, 2, 2, 2, 2, 2, -1, -1, -1]
    words = cheapest_sentences(result, positive_label="spam", prior_positive=0.1)
    assert words["a"] == "a is never clearly the cheapest (at 10 % spam)"
    assert words["c"] == "c is cheapest whatever a missed spam costs (at 10 % spam)"


def test_a_range_between_two_ratios_in_words():
    pc = np.linspace(0, 1, 101)
    flat = np.full_like(pc, 0.2)
    bump = 0.2 + 2 * (pc - 0.5) ** 2 - 0.02  # below the flat line for |PC − 0.5| < 0.1
    words = cheapest_sentences(cheapest(pc, {"flat": flat, "bump": bump}), positive_label="hate", prior_positive=0.5)
    assert words["bump"] == ("bump is cheapest only when a missed hate costs between 0.67 and 1.5 false alarms "
                             "(at 50 % hate)")
    assert words["flat"] == ("flat is cheapest only when a missed hate costs less than 0.67 or more than 1.5 false "
                             "alarms (at 50 % hate)")


def test_a_tolerance_of_one_test_error_turns_small_wins_into_ties():
    pc = np.linspace(0, 1, 101)
    n_pos, n_neg = 50, 500
    tol = one_error_tolerance(pc, n_pos, n_neg)
    np.testing.assert_allclose(tol, np.maximum(pc / 50, (1 - pc) / 500))
    base = np.minimum(pc, 1 - pc) / 2
    # "small" is cheaper by half an error over the middle, "large" by three errors at PC ≥ 0.6.
    small = base - 0.5 * tol * ((pc > 0.3) & (pc < 0.5))
    large = base - 3 * tol * (pc >= 0.6)
    exact = cheapest(pc, {"small": small, "large": large, "base": base})
    assert exact.ranges["small"] and exact.ranges["large"]
    tolerant = cheapest(pc, {"small": small, "large": large, "base": base}, tol=tol)
    assert tolerant.ranges["small"] == []
    # Within one error everywhere below 0.6, so its win there extends over the ties down to PC = 0.
    assert tolerant.ranges["large"] == [(0.0, 1.0)]
    assert set(tolerant.winner.tolist()) == {-1, 1}


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.floats(0, 0.05))
def test_cheapest_ranges_lie_in_the_grid_in_order_and_hold_the_wins(seed, n_techniques, tol):
    rng = np.random.default_rng(seed)
    pc = np.linspace(0, 1, 41)
    curves = {f"t{i}": np.minimum(rng.random(41) * np.minimum(pc, 1 - pc) * 2, np.minimum(pc, 1 - pc))
              for i in range(n_techniques)}
    result = cheapest(pc, curves, tol=tol)
    for t, name in enumerate(result.names):
        spans = result.ranges[name]
        flat = [v for span in spans for v in span]
        assert flat == sorted(flat) and all(0.0 <= v <= 1.0 for v in flat)
        for point in pc[result.winner == t]:
            assert any(low <= point <= high for low, high in spans)


# ----------------------------------------------------------------------------------------------- layering


def test_costs_import_neither_scikit_learn_nor_torch():
    code = ("import sys, imblab.evaluation as e; e.Costs, e.tune_cost_threshold; "
            "print(sorted(m for m in ('sklearn', 'torch', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
