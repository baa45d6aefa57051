"""Decide by cost (issue 15) at the CLI: compare, train and predict with ``--costs`` / ``--deploy-prior`` or a
``[costs]`` matrix, on real data (TF-IDF, 600 rows, 2 seeds).

The CLI runs in this process through ``imblab.cli.main`` (the command's own code path; an escaping exception
fails the test). Expected costs are checked against the evaluation core applied by hand to what the runs stored.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imblab.cli import main
from imblab.evaluation import Costs, bayes_decisions, expected_cost, parse_prior
from imblab.techniques import correct_prior
from tests.unit.test_cli_errors import assert_one_line_error

SPAM = ("compare", "sms_spam", "--backend", "tfidf", "--techniques", "baseline,weighted,focal", "--seeds", "2",
        "--limit", "600")
COSTS = ("--costs", "fn=10,fp=1", "--deploy-prior", "spam=0.1")
LABELS = ["ham", "spam"]


class Result:
    """A CLI call made in this process, shaped like ``subprocess.CompletedProcess``."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> Result:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def spam_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("costs") / "sms"
    assert main([*SPAM, *COSTS, "--out", str(out), "--json"]) == 0
    return out


def copy_study(study: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "study"
    shutil.copytree(study, copy)
    return copy


def training_prior(study: Path) -> np.ndarray:
    counts = json.loads((study / "profile.json").read_text())["split"]["counts"]["train"]
    return np.array([counts[label] for label in LABELS], dtype=float) / sum(counts.values())


def costs_by_hand(study: Path, costs: Costs, deploy: np.ndarray) -> dict[tuple[str, int], float]:
    """Each run's Bayes expected cost per 1,000, from its stored prior-corrected test probabilities."""
    prior = training_prior(study)
    out = {}
    for run in sorted((study / "runs").iterdir()):
        frame = pd.read_csv(run / "predictions.csv", keep_default_na=False)
        y = frame["label"].map({label: i for i, label in enumerate(LABELS)}).to_numpy()
        p = correct_prior(frame[[f"p:{label}" for label in LABELS]].to_numpy(), prior, deploy)
        technique, seed = run.name.split("__seed")
        out[(technique, int(seed))] = 1000 * expected_cost(y, bayes_decisions(p, costs), costs, deploy)
    return out


# ------------------------------------------------------------------------------------------------ compare


def test_compare_with_costs_reports_and_ranks_by_cost(spam_study: Path) -> None:
    costs = Costs.parse("fn=10,fp=1,positive=spam", LABELS)
    deploy = parse_prior("spam=0.1", LABELS)
    table = pd.read_csv(spam_study / "costs.csv")
    assert len(table) == 6 and table["n_validation"].gt(0).all()
    by_hand = costs_by_hand(spam_study, costs, deploy)
    for row in table.itertuples():
        assert row.bayes_per_1000 == pytest.approx(by_hand[(row.technique, row.seed)], rel=1e-12)
    results = pd.read_csv(spam_study / "results.csv")
    results = results[~results["reference"]]  # the scikit-learn reference makes no cost-based decisions
    np.testing.assert_allclose(results["expected_cost"], table["bayes_per_1000"], rtol=1e-12)
    assert "expected_cost" in set(pd.read_csv(spam_study / "differences.csv")["metric"])

    means = table.groupby("technique", sort=False)["bayes_per_1000"].mean().sort_values(kind="stable")
    assert means.iloc[0] < means.iloc[-1]  # the techniques do differ at these costs
    summary = (spam_study / "summary.md").read_text()
    assert "Ranking metric: **Expected cost / 1,000**" in summary
    assert "a missed spam costs 10, a false alarm 1; deployment prior spam 10 %" in summary
    costs_section = summary.split("## Costs")[1].split("## Results")[0]
    rows = [line.split("|")[1].strip() for line in costs_section.splitlines() if line.startswith("| ")][1:]
    assert rows == list(means.index)  # the cost table is ranked cheapest first
    assert "![Cost curves" in costs_section and "(at 10 % spam)" in costs_section
    reading = summary.split("## Reading")[1].split("## Costs")[0]
    assert f"On Expected cost / 1,000, {means.index[0]} is best" in reading
    assert "Bayes decision against the rule tuned on validation" in reading

    svg = (spam_study / "cost_curves.svg").read_text()
    assert svg.startswith("<svg") and "lower envelope" in svg and "your costs" in svg
    html = (spam_study / "report.html").read_text()
    section = html.split('id="costs"')[1].split('id="data"')[0]
    assert 'id="cost-table"' in section and 'id="plot-costs"' in section and "<svg" in section
    best_card = re.search(r'Best on Expected cost / 1,000</div><div class="v">.*?</span>([^<]+)</div>', html)
    assert best_card and best_card.group(1) == means.index[0]


def test_a_rerun_with_other_costs_retrains_nothing_and_changes_the_cost_outputs(
    spam_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = copy_study(spam_study, tmp_path)
    runs = {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("*")}
    before = {name: (study / name).read_text() for name in ("costs.csv", "summary.md", "cost_curves.svg")}
    ok(cli(capsys, *SPAM, "--costs", "fn=3,fp=1,positive=spam", "--deploy-prior", "ham=0.98", "--out", study))
    assert {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("*")} == runs  # nothing retrained
    for name, text in before.items():
        assert (study / name).read_text() != text, name
    assert "a missed spam costs 3, a false alarm 1; deployment prior spam 2 %" in (study / "summary.md").read_text()
    by_hand = costs_by_hand(study, Costs.parse("fn=3,fp=1", LABELS, [2, 1]), parse_prior("spam=0.02", LABELS))
    for row in pd.read_csv(study / "costs.csv").itertuples():
        assert row.bayes_per_1000 == pytest.approx(by_hand[(row.technique, row.seed)], rel=1e-12)
    # Without costs the study is as it was before costs existed: no cost outputs, ranked by macro-F1.
    ok(cli(capsys, *SPAM, "--out", study))
    assert {p: p.stat().st_mtime_ns for p in (study / "runs").rglob("*")} == runs
    summary = (study / "summary.md").read_text()
    assert "## Costs" not in summary and "Ranking metric: **Macro F1**" in summary
    assert not (study / "costs.csv").exists() and not (study / "cost_curves.svg").exists()
    assert "expected_cost" not in pd.read_csv(study / "results.csv").columns
    assert 'id="costs"' not in (study / "report.html").read_text()


def test_the_tuned_rule_never_reads_test_labels(
    spam_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = copy_study(spam_study, tmp_path)
    before = pd.read_csv(study / "costs.csv")
    order = None
    # The same permutation of the test labels in every run (and the study's scikit-learn reference).
    for run in [*(study / "runs").iterdir(), study / "reference"]:
        frame = pd.read_csv(run / "predictions.csv", keep_default_na=False, dtype=str)
        order = np.random.default_rng(0).permutation(len(frame)) if order is None else order
        frame["label"] = frame["label"].to_numpy()[order]
        frame.to_csv(run / "predictions.csv", index=False)
    ok(cli(capsys, "report", study))
    after = pd.read_csv(study / "costs.csv")
    rule = ["tuned_threshold", "validation_tuned_per_1000", "validation_bayes_per_1000", "n_validation"]
    pd.testing.assert_frame_equal(after[rule], before[rule])
    assert not np.allclose(after["bayes_per_1000"], before["bayes_per_1000"])  # the test cost does read them


def test_runs_without_validation_predictions_say_the_tuned_rule_is_unavailable(
    spam_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = copy_study(spam_study, tmp_path)
    for run in (study / "runs").iterdir():
        (run / "validation.csv").unlink()  # a run stored before imblab kept them
    ok(cli(capsys, "report", study))
    table = pd.read_csv(study / "costs.csv")
    assert table["tuned_per_1000"].isna().all() and table["bayes_per_1000"].notna().all()
    summary = (study / "summary.md").read_text()
    assert "tuned on validation: unavailable" in summary and "validation.csv" in summary


def test_a_three_class_study_with_a_cost_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hate.toml"
    example = Path(__file__).resolve().parents[2] / "examples" / "hate_speech_costs.toml"
    costs_table = example.read_text().split("[costs]")[1]
    config.write_text(f'[data]\ndataset = "hate_speech"\nlimit = 1500\n[study]\nseeds = 1\n[costs]{costs_table}')
    out = tmp_path / "hate"
    ok(cli(capsys, "compare", "--config", config, "--backend", "tfidf", "--techniques", "baseline,weighted",
           "--out", out, "--json"))
    summary = (out / "summary.md").read_text()
    assert "true→predicted costs: hate_speech→offensive_language 5, hate_speech→neither 20" in summary
    assert "deployment prior hate_speech 1 %, offensive_language 10 %, neither 89 %" in summary
    assert "(approximately, hate_speech against the rest)" in summary
    table = pd.read_csv(out / "costs.csv")
    assert len(table) == 2 and table["tuned_log_offsets"].str.split().str.len().eq(3).all()
    assert 'id="plot-costs"' in (out / "report.html").read_text()


# ------------------------------------------------------------------------------------------------ bad input

HATE_MATRIX = ('[costs]\nlabels = ["hate_speech", "offensive_language", "neither"]\n'
               "matrix = [[0, 5, 20], [2, 0, 1], [4, 1, 0]]\n")
BAD_FILES = {
    "wrong shape": ("[costs]\nmatrix = [[0, 1], [1, 0]]\n", "must be 3×3"),
    "diagonal": ('[costs]\nmatrix = [[1, 5, 20], [2, 0, 1], [4, 1, 0]]\n', "a correct decision costs 0"),
    "negative": ('[costs]\nmatrix = [[0, -5, 20], [2, 0, 1], [4, 1, 0]]\n', "costs must be ≥ 0"),
    "text": ('[costs]\nmatrix = [[0, "five", 20], [2, 0, 1], [4, 1, 0]]\n', "not a number"),
    "unknown key": ("[costs]\nfn = 1\nfp = 1\nprior = 0.1\n", "unknown key 'prior'"),
    "prior label": (HATE_MATRIX + "deploy_prior = { spam = 0.02 }\n", "unknown label 'spam'"),
    "prior sum": (HATE_MATRIX + "deploy_prior = { hate_speech = 0.5, offensive_language = 0.3, neither = 0.3 }\n",
                  "sum to 1.1"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_cost_matrix_or_prior_in_a_study_file(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, needle = BAD_FILES[name]
    config = tmp_path / "study.toml"
    config.write_text(f'[data]\ndataset = "hate_speech"\n[training]\nbackend = "tfidf"\n{text}')
    assert_one_line_error(cli(capsys, "compare", "--config", config, "--out", tmp_path / "out"), needle)
    assert not (tmp_path / "out").exists()  # checked before anything is written


BAD_FLAGS = [
    (("--costs", "fn=-1,fp=1"), "costs must be ≥ 0"),
    (("--costs", "fn=ten,fp=1"), "not a number"),
    (("--costs", "fn=10"), "give both fn and fp"),
    (("--costs", "fn=10,fp=1,positive=eggs"), "unknown label 'eggs'"),
    (("--costs", "fn=0,fp=0"), "every cost is 0"),
    (("--deploy-prior", "eggs=0.1"), "unknown label 'eggs'"),
    (("--deploy-prior", "spam=0.3,ham=0.3"), "sum to 0.6, not 1"),
    (("--deploy-prior", "spam=1.5"), "(0, 1]"),
    (("--deploy-prior", "spam=-0.1"), "(0, 1]"),
    (("--deploy-prior", "spam=x"), "not a number"),
]


@pytest.mark.parametrize("flags, needle", BAD_FLAGS)
def test_bad_cost_flags_are_one_line_in_every_command(
    flags: tuple[str, ...], needle: str, tmp_path: Path, spam_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--backend", "tfidf", *flags, "--out", out), needle)
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "tfidf", *flags, "--out", out), needle)
    assert not out.exists()
    model = next((spam_study / "runs").iterdir())
    assert_one_line_error(cli(capsys, "predict", model, "hello", *flags), needle)


def test_fn_fp_costs_for_three_labels_point_to_the_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, "compare", "hate_speech", "--costs", "fn=10,fp=1", "--out", tmp_path / "out")
    assert_one_line_error(result, "fn/fp costs are for two classes", "matrix")


# ------------------------------------------------------------------------------------------------ train, predict


def test_train_stores_costs_and_predict_returns_the_cost_optimal_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    payload = json.loads(ok(cli(capsys, "train", "sms_spam", "--backend", "tfidf", "--limit", "600",
                                "--technique", "weighted", *COSTS, "--out", out, "--json")).stdout)
    meta = json.loads((out / "model" / "imblab.json").read_text())
    costs, deploy = Costs.from_dict(meta["costs"]), parse_prior(meta["deploy_prior"], LABELS)
    assert costs == Costs.parse("fn=10,fp=1", LABELS, [2, 1]) and deploy.tolist() == pytest.approx([0.9, 0.1])

    frame = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    y = frame["label"].map({"ham": 0, "spam": 1}).to_numpy()
    prior = np.array(meta["class_counts"], dtype=float) / sum(meta["class_counts"])
    at_deploy = correct_prior(frame[["p:ham", "p:spam"]].to_numpy(), prior, deploy)
    decided = bayes_decisions(at_deploy, costs)
    metrics = json.loads((out / "metrics.json").read_text())["costs"]
    assert payload["costs"] == metrics
    assert metrics["per_1000_texts"]["bayes"] == pytest.approx(1000 * expected_cost(y, decided, costs, deploy))

    texts = frame["text"].tolist()
    file = tmp_path / "texts.csv"
    pd.DataFrame({"text": texts}).to_csv(file, index=False)
    rows = json.loads(ok(cli(capsys, "predict", out, "--file", file, "--json")).stdout)
    assert [r["cost_label"] for r in rows] == [LABELS[k] for k in decided]  # the stored costs and prior
    shown = np.array([[r["probabilities"][label] for label in LABELS] for r in rows])
    np.testing.assert_allclose(shown, at_deploy, rtol=1e-6, atol=1e-9)  # probabilities at the deployment prior
    expected = (at_deploy @ costs.matrix)[np.arange(len(decided)), decided]
    np.testing.assert_allclose([r["expected_cost"] for r in rows], expected, rtol=1e-6, atol=1e-12)

    # Flags override what the model stores: equal costs at the deployment prior are its argmax, and a miss
    # that costs 1,000 false alarms flags every text with P(spam) > 1/1,001.
    rows = json.loads(ok(cli(capsys, "predict", out, "--file", file, "--costs", "fn=1,fp=1", "--json")).stdout)
    assert [r["cost_label"] for r in rows] == [LABELS[k] for k in at_deploy.argmax(axis=1)]
    rows = json.loads(ok(cli(capsys, "predict", out, "--file", file, "--costs", "fn=1000,fp=1", "--json")).stdout)
    flagged = np.array([r["cost_label"] == "spam" for r in rows])
    np.testing.assert_array_equal(flagged, at_deploy[:, 1] > 1 / 1001)
    assert flagged.sum() > at_deploy.argmax(axis=1).sum()
    # --prior is the same option as --deploy-prior; a higher spam prior raises P(spam).
    spam = "WINNER!! Claim your free prize now, call 09061701461"
    a = json.loads(ok(cli(capsys, "predict", out, spam, "--prior", "spam=0.5", "--json")).stdout)
    b = json.loads(ok(cli(capsys, "predict", out, spam, "--deploy-prior", "spam=0.5", "--json")).stdout)
    stored = json.loads(ok(cli(capsys, "predict", out, spam, "--json")).stdout)
    assert a == b and a[0]["probabilities"]["spam"] > stored[0]["probabilities"]["spam"]
    assert "cost label" in ok(cli(capsys, "predict", out, spam)).stdout
