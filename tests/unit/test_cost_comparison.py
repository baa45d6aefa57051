"""Costs over a study (comparison/_costs.py) and the one resolution of --costs / --deploy-prior
(evaluation/_cost_setting.py), on synthetic runs made here: checked against the evaluation core by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from imblab.comparison import ComparisonResult, RunOutcome, bootstrap_weights
from imblab.errors import SpecError
from imblab.evaluation import (
    Costs,
    bayes_decisions,
    expected_cost,
    parse_prior,
    resolve_costs,
    run_costs,
    tune_cost_threshold,
)
from imblab.reporting import write_report
from imblab.reporting._reading import study_reading
from imblab.reporting.terminal import print_summary
from imblab.techniques import correct_prior
from tests.unit.test_report import BINARY, THREE, synthetic_outcomes

TRAIN_COUNTS = {2: [850, 150], 3: [80, 750, 170]}


def with_validation(outcomes: list[RunOutcome], labels: list[str], n: int = 200) -> list[RunOutcome]:
    """The outcomes with validation predictions of the same kind (seeded per run)."""
    k = len(labels)
    prior = np.asarray(TRAIN_COUNTS[k], dtype=float) / sum(TRAIN_COUNTS[k])
    out = []
    for i, o in enumerate(outcomes):
        rng = np.random.default_rng(1000 + i)
        y = rng.choice(k, size=n, p=prior)
        logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] + np.log(prior)
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        out.append(RunOutcome(o.technique, o.spec, o.seed, o.y_true, o.proba, o.pred, o.proba_corrected, o.metrics,
                              o.report, o.probes, o.seconds, val_y=y, val_proba_corrected=proba))
    return out


def result_with_costs(labels: list[str], costs: object, prior: object, validation: bool = True) -> ComparisonResult:
    outcomes = synthetic_outcomes(labels)
    if validation:
        outcomes = with_validation(outcomes, labels)
    setting = resolve_costs(costs, prior, labels, TRAIN_COUNTS[len(labels)])
    return ComparisonResult(outcomes, labels, {"dataset": "synthetic"}, {}, {}, n_boot=200, costs=setting)


# ------------------------------------------------------------------------------------------------ resolve_costs


def test_nothing_given_is_no_cost_setting_and_a_prior_alone_costs_every_error_one():
    assert resolve_costs(None, None, BINARY, [850, 150]) is None
    setting = resolve_costs(None, "spam=0.02", BINARY, [850, 150])
    assert not setting.costs_given and setting.prior_given
    assert setting.costs.matrix.tolist() == [[0, 1], [1, 0]] and setting.costs.positive == "spam"
    proba = np.random.default_rng(0).dirichlet([1, 1], size=50)
    decided = setting.decide(proba)
    np.testing.assert_array_equal(decided.index, correct_prior(proba, [0.85, 0.15], [0.98, 0.02]).argmax(axis=1))


def test_costs_default_to_the_training_prior_and_its_minority():
    setting = resolve_costs("fn=10,fp=1", None, BINARY, [850, 150])
    assert setting.costs.positive == "spam" and not setting.prior_given
    np.testing.assert_allclose(setting.deploy_prior, [0.85, 0.15])
    assert setting.describe() == "a missed spam costs 10, a false alarm 1; deployment prior spam 15 % (the training prior)"


def test_the_three_forms_of_costs_agree():
    text = resolve_costs("fn=10,fp=1", "spam=0.02", BINARY, [850, 150])
    table = resolve_costs({"fn": 10, "fp": 1}, {"spam": 0.02}, BINARY, [850, 150])
    given = resolve_costs(Costs.parse("fn=10,fp=1", BINARY, [850, 150]), [0.98, 0.02], BINARY, [850, 150])
    for other in (table, given):
        assert other.to_dict() == text.to_dict()


@pytest.mark.parametrize("costs, prior, needle", [
    (Costs.parse("fn=1,fp=1", ["a", "b"], [2, 1]), None, "the model has ham, spam"),
    (None, [0.5, 0.3, 0.2], "3 values for 2 labels"),
    (3, None, "not int"),
    ("fn=1,fp=1", "eggs=0.5", "unknown label 'eggs'"),
])
def test_bad_settings_are_spec_errors(costs, prior, needle):
    with pytest.raises(SpecError, match=needle):
        resolve_costs(costs, prior, BINARY, [850, 150])


@pytest.mark.parametrize("labels, costs, prior", [
    (BINARY, "fn=10,fp=1", "spam=0.02"),
    (THREE, {"matrix": [[0, 5, 20], [2, 0, 1], [4, 1, 0]]}, {"hate": 0.01, "offensive": 0.1}),
])
def test_decide_is_the_bayes_decision_at_the_deployment_prior(labels, costs, prior):
    setting = resolve_costs(costs, prior, labels, TRAIN_COUNTS[len(labels)])
    effective = np.full(len(labels), 1 / len(labels))  # probabilities of a technique trained balanced
    proba = np.random.default_rng(1).dirichlet(np.ones(len(labels)), size=200)
    decided = setting.decide(proba, calibrated_to=effective)
    at_deploy = correct_prior(proba, effective, setting.deploy_prior)
    np.testing.assert_array_equal(decided.index, bayes_decisions(at_deploy, setting.costs))
    np.testing.assert_allclose(decided.proba, at_deploy)
    risk = at_deploy @ setting.costs.matrix
    np.testing.assert_allclose(decided.expected_cost, risk.min(axis=1), rtol=1e-12)
    assert [r["cost_label"] for r in decided.records()] == [labels[i] for i in decided.index]


# ------------------------------------------------------------------------------------------------ CostComparison


@pytest.mark.parametrize("labels, costs, prior", [
    (BINARY, "fn=10,fp=1", "spam=0.05"),
    (THREE, {"matrix": [[0, 5, 20], [2, 0, 1], [4, 1, 0]]}, {"hate": 0.02, "offensive": 0.5}),
])
def test_costs_of_every_run_and_their_bootstrap_are_the_core_applied_by_hand(labels, costs, prior):
    result = result_with_costs(labels, costs, prior)
    setting = result.cost_setting
    weights = bootstrap_weights(len(result.y_true), result.n_boot, result.bootstrap_seed)
    by_hand: dict[str, list[np.ndarray]] = {}
    for o in result.outcomes:
        at_deploy = correct_prior(o.proba_corrected, setting.training_prior, setting.deploy_prior)
        decided = bayes_decisions(at_deploy, setting.costs)
        row = result.cost.per_run.set_index(["technique", "seed"]).loc[(o.technique, o.seed)]
        assert row["bayes_per_1000"] == pytest.approx(1000 * expected_cost(o.y_true, decided, setting.costs,
                                                                          setting.deploy_prior), rel=1e-12)
        rule = tune_cost_threshold(correct_prior(o.val_proba_corrected, setting.training_prior, setting.deploy_prior),
                                   o.val_y, setting.costs, setting.deploy_prior)
        assert row["tuned_per_1000"] == pytest.approx(1000 * expected_cost(
            o.y_true, rule.decide(at_deploy), setting.costs, setting.deploy_prior), rel=1e-12)
        assert row["own_per_1000"] == pytest.approx(1000 * expected_cost(o.y_true, o.pred, setting.costs,
                                                                        setting.deploy_prior), rel=1e-12)
        by_hand.setdefault(o.technique, []).append(
            1000 * expected_cost(o.y_true, decided, setting.costs, setting.deploy_prior, weights=weights))
    # The expected cost is a metric of the study like any other: results, summary, paired differences.
    assert result.metric == "expected_cost" and result.quality_metric == "macro_f1"
    np.testing.assert_allclose(result.results["expected_cost"], result.cost.per_run["bayes_per_1000"], rtol=1e-12)
    for t in result.techniques:
        np.testing.assert_allclose(result.cost.replicates["bayes"][t], np.mean(by_hand[t], axis=0), rtol=1e-12)
        if t != result.baseline:
            d = result.compare(t, result.baseline, "expected_cost")
            expected = np.quantile(np.mean(by_hand[t], axis=0) - np.mean(by_hand[result.baseline], axis=0),
                                   [0.025, 0.975])
            assert (d.low, d.high) == pytest.approx(tuple(expected), rel=1e-12)
            row = result.difference(t, "expected_cost")
            assert row["verdict"] == ("no clear difference" if not d.significant
                                      else "better" if d.difference < 0 else "worse")  # lower cost is better
    means = {t: result.stat(t, "expected_cost")["mean"] for t in result.techniques}
    assert result.cost.ranking == sorted(result.techniques, key=lambda t: means[t])


def test_the_cost_ranks_the_techniques_in_every_output(tmp_path):
    result = result_with_costs(BINARY, "fn=50,fp=1,positive=spam", "spam=0.15")
    cheapest = result.cost.ranking[0]
    paths = write_report(result, tmp_path)
    assert set(paths) == {"summary", "report", "cost_curves"}
    summary = (tmp_path / "summary.md").read_text()
    assert "Ranking metric: **Expected cost / 1,000**" in summary and f"On Expected cost / 1,000, {cheapest} is best" in summary
    section = summary.split("## Costs")[1].split("## Results")[0]
    assert [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")][1:] == result.cost.ranking
    assert "Bayes decision against the rule tuned on validation" in summary
    html = (tmp_path / "report.html").read_text()
    assert 'id="cost-table"' in html and 'id="plot-costs"' in html and "your costs" in html
    console = Console(file=io.StringIO(), width=140)
    print_summary(result, console)
    text = console.file.getvalue()
    assert text.startswith("Ranked by expected cost per 1,000 texts: a missed spam costs 50, a false alarm 1")
    assert "tuned − Bayes" in text


def test_without_validation_predictions_the_tuned_rule_is_unavailable():
    result = result_with_costs(BINARY, "fn=10,fp=1", None, validation=False)
    assert result.cost.per_run["tuned_per_1000"].isna().all()
    assert result.cost.tuned_minus_bayes("focal") is None and "focal" not in result.cost.replicates["tuned"]
    assert any("unavailable" in s and "validation.csv" in s for s in study_reading(result))


def test_the_operating_point_of_a_matrix_is_its_prior_weighted_miss_and_alarm():
    from imblab.comparison._costs import operating_point
    from imblab.evaluation import probability_cost

    binary = resolve_costs("fn=10,fp=1", "spam=0.02", BINARY, [850, 150])
    assert operating_point(binary) == pytest.approx(probability_cost(binary.costs, binary.deploy_prior))
    matrix = resolve_costs({"matrix": [[0, 5, 20], [2, 0, 1], [4, 1, 0]]}, "hate=0.01,offensive=0.1", THREE,
                           TRAIN_COUNTS[3])
    prior = parse_prior("hate=0.01,offensive=0.1", THREE)
    fn = (5 * 0.1 + 20 * 0.89) / 0.99
    fp = (2 * 0.1 + 4 * 0.89) / 0.99
    assert prior[0] == pytest.approx(0.01)
    assert operating_point(matrix) == pytest.approx(0.01 * fn / (0.01 * fn + 0.99 * fp))


def test_run_costs_takes_no_test_labels_for_the_rule():
    setting = resolve_costs("fn=10,fp=1", "spam=0.02", BINARY, [850, 150])
    o = with_validation(synthetic_outcomes(BINARY), BINARY)[0]
    a = run_costs(setting, o.y_true, o.proba_corrected, o.pred, o.val_y, o.val_proba_corrected)
    b = run_costs(setting, np.random.default_rng(0).permutation(o.y_true), o.proba_corrected, o.pred, o.val_y,
                  o.val_proba_corrected)
    assert a.rule == b.rule
    np.testing.assert_array_equal(a.tuned_pred, b.tuned_pred)
    np.testing.assert_array_equal(a.bayes_pred, b.bayes_pred)
