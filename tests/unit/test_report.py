"""ComparisonResult tables, the reading and the written report, from synthetic runs made here."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from imblab.comparison import ComparisonResult, RunOutcome
from imblab.evaluation import all_metrics
from imblab.errors import ImblabError, SpecError
from imblab.reporting._reading import study_reading
from imblab.reporting.terminal import print_summary
from imblab.study import write_outputs

BINARY = ["ham", "spam"]
THREE = ["hate", "offensive", "neither"]
TECHNIQUES = {"baseline": (1.5, 0.0), "weighted": (1.5, 1.2), "focal": (2.5, 0.3)}  # (skill, minority shift)
PROBE = "Call to claim your prize!"


def synthetic_outcomes(labels, techniques=TECHNIQUES, seeds=(0, 1), n=300, seed=0):
    """Seeded random runs sharing one test split: the minority class is the first for 3 classes, last for 2."""
    rng = np.random.default_rng(seed)
    k = len(labels)
    prior = np.array([0.85, 0.15]) if k == 2 else np.array([0.08, 0.75, 0.17])
    minority = int(np.argmin(prior))
    y = rng.choice(k, size=n, p=prior)
    outcomes = []
    for i, (name, (skill, shift)) in enumerate(techniques.items()):
        for s in seeds:
            r = np.random.default_rng(100 * i + s)
            logits = r.normal(size=(n, k)) + skill * np.eye(k)[y] + np.log(prior)
            logits[:, minority] += shift
            proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            corrected = proba * prior / (proba * prior).sum(axis=1, keepdims=True)
            pred = proba.argmax(axis=1)
            metrics = {m: float(v) for m, v in all_metrics(y, pred, proba, labels, positive=minority).items()}
            q = r.dirichlet(np.ones(k))
            probes = [{"text": PROBE, "raw": dict(zip(labels, q.tolist())),
                       "corrected": dict(zip(labels, (q * prior / (q * prior).sum()).tolist()))}]
            outcomes.append(RunOutcome(name, name, s, y, proba, pred, corrected, metrics, {}, probes, 1.0 + s))
    return outcomes


def synthetic_result(labels=BINARY, **kwargs) -> ComparisonResult:
    profile = {"dataset": "synthetic", "n_rows": 300, "dropped_rows": 0, "duplicate_texts": 0, "imbalance_ratio": 5.7,
               "minority_label": labels[0], "classes": [
                   {"label": label, "count": 100, "fraction": 1 / len(labels), "inverse_frequency_weight": 1.0}
                   for label in labels]}
    return ComparisonResult(synthetic_outcomes(labels), labels, profile, {"backend": "tfidf", "seeds": [0, 1]},
                            {"python": "3.11", "packages": {"numpy": np.__version__}}, n_boot=200, **kwargs)


@pytest.fixture(scope="module", params=[BINARY, THREE], ids=["binary", "3-class"])
def written(request, tmp_path_factory):
    result = synthetic_result(request.param)
    out = tmp_path_factory.mktemp("report")
    paths = write_outputs(result, out)
    return result, out, paths


def test_files_exist_and_results_csv_has_one_row_per_run(written):
    result, out, paths = written
    for name in ("results.csv", "probes.csv", "summary.md", "report.html", "differences.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 3 * 2
    assert list(table.columns[:4]) == ["technique", "backend", "seed", "reference"] and table.columns[-1] == "seconds"
    assert not table["reference"].any()  # no scikit-learn reference in this synthetic study
    labels = result.labels
    per_label = [f"{label}_{part}" for label in labels for part in ("precision", "recall", "f1")]
    assert list(table.columns[4 : 4 + len(per_label)]) == per_label
    rest = list(table.columns[3 + len(per_label) : -1])
    for earlier, later in [("accuracy", "macro_f1"), ("macro_f1", "weighted_f1"), ("weighted_f1", "pr_auc"),
                           ("pr_auc", "roc_auc"), ("roc_auc", "mcc"), ("mcc", "balanced_accuracy"),
                           ("balanced_accuracy", "g_mean"), ("g_mean", "ece"), ("ece", "brier"), ("brier", "nll")]:
        assert rest.index(earlier) < rest.index(later)
    assert table.loc[table["technique"] == "focal", "seed"].tolist() == [0, 1]


def test_probes_csv_has_mean_and_std_raw_and_corrected(written):
    result, out, _ = written
    probes = pd.read_csv(out / "probes.csv")
    assert len(probes) == 3 and set(probes["probe"]) == {PROBE}
    for label in result.labels:
        for kind in ("raw", "corrected"):
            assert {f"{label}_{kind}_mean", f"{label}_{kind}_std"} <= set(probes.columns)
    raw = [o.probes[0]["raw"][result.labels[0]] for o in result.runs("weighted")]
    row = probes[probes["technique"] == "weighted"].iloc[0]
    assert row[f"{result.labels[0]}_raw_mean"] == pytest.approx(np.mean(raw))
    assert row[f"{result.labels[0]}_raw_std"] == pytest.approx(np.std(raw, ddof=1))


def test_html_is_self_contained_with_plots(written):
    _, out, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    plots = len(re.findall(r"<svg\b", html)) + len(re.findall(r"data:image/", html))
    assert plots >= 4
    external = re.findall(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.I)
    assert external == []
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, flags=re.I)
    assert "@import" not in html and "<script" not in html.lower()
    for section in ("Results", "Differences to baseline", "Precision-recall curves", "Reliability diagrams",
                    "Confusion matrices", "Probe probabilities", "Classification reports", "Setup", "Data"):
        assert section in html, section
    assert "f1-score" in html and "support" in html  # scikit-learn's text report layout


def test_summary_md_has_the_tables(written):
    result, out, _ = written
    md = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("## Reading", "## Results", "## Differences to baseline", "## Probes", "## Timings"):
        assert heading in md, heading
    table_rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert sum(line.startswith("| weighted ") for line in table_rows) >= 4
    assert "|---:" in md or "| ---:" in md or "---:|" in md
    assert PROBE in md


def test_best_per_metric_respects_direction():
    result = synthetic_result()
    summary = result.summary
    for metric, higher in (("macro_f1", True), ("nll", False), ("ece", False)):
        rows = summary[summary["metric"] == metric]
        best = rows.loc[rows["best"], "mean"].iloc[0]
        assert best == (rows["mean"].max() if higher else rows["mean"].min())


def test_summary_intervals_over_seeds():
    result = synthetic_result()
    row = result.stat("focal", "accuracy")
    values = result.results.loc[result.results["technique"] == "focal", "accuracy"].to_numpy()
    assert row["n"] == 2 and row["mean"] == pytest.approx(values.mean())
    assert row["std"] == pytest.approx(values.std(ddof=1))
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]


def test_differences_and_reading_follow_the_numbers():
    result = synthetic_result()
    diffs = result.differences
    assert set(diffs["technique"]) == {"weighted", "focal"}
    recall = result.difference("weighted", "spam_recall")
    assert recall["difference"] > 0 and recall["significant"] and recall["verdict"] == "better"
    reading = study_reading(result)
    assert any(s.startswith("weighted raised spam recall by +") and "versus baseline" in s for s in reading)
    best = result.summary.query("metric == 'macro_f1'").sort_values("mean").iloc[-1]["technique"]
    assert reading[0].startswith(f"On Macro F1, {best} is best")
    assert any(PROBE in s for s in reading)


def test_identical_techniques_are_not_significantly_different():
    outcomes = synthetic_outcomes(BINARY, techniques={"baseline": (1.5, 0.0)})
    copies = [RunOutcome("copy", "copy", o.seed, o.y_true, o.proba, o.pred, o.proba_corrected, o.metrics,
                         o.report, o.probes, o.seconds) for o in outcomes]
    result = ComparisonResult(outcomes + copies, BINARY, n_boot=100)
    assert not result.differences["significant"].any()
    assert np.allclose(result.differences["difference"], 0.0)
    assert "not distinguishable" in study_reading(result)[0]


def test_one_seed_renders_dashes(tmp_path):
    outcomes = [o for o in synthetic_outcomes(BINARY) if o.seed == 0]
    result = ComparisonResult(outcomes, BINARY, n_boot=100)
    assert result.summary["std"].isna().all()
    paths = write_outputs(result, tmp_path / "one")
    rows = [line for line in paths["summary"].read_text(encoding="utf-8").splitlines()
            if line.startswith(tuple(f"| {name} |" for name in ("baseline", "weighted", "focal")))]
    # One seed has no seed interval: every number of the results table is followed by a dash, not an interval.
    assert rows and all(line.count("<sub>—</sub>") == line.count("|") - 2 for line in rows[:3]), rows[:3]
    several = write_outputs(ComparisonResult(synthetic_outcomes(BINARY), BINARY, n_boot=100), tmp_path / "all")
    assert "<sub>—</sub>" not in several["summary"].read_text(encoding="utf-8")


def test_invalid_inputs_are_reported():
    outcomes = synthetic_outcomes(BINARY)
    with pytest.raises(SpecError, match="unknown metric"):
        ComparisonResult(outcomes, BINARY, metric="nonsense")
    with pytest.raises(ImblabError, match="two runs"):
        ComparisonResult(outcomes + outcomes[:1], BINARY)
    other = synthetic_outcomes(BINARY, seed=9)[:1]
    other[0].technique = "other"
    with pytest.raises(ImblabError, match="different split"):
        ComparisonResult(outcomes + other, BINARY)
    with pytest.raises(ImblabError, match="no runs"):
        ComparisonResult([], BINARY)
    assert ComparisonResult(outcomes, BINARY, metric="log-loss").metric == "nll"
    assert ComparisonResult(outcomes, BINARY, baseline="missing").baseline == "baseline"


def test_outcome_round_trips_through_a_dict():
    outcome = synthetic_outcomes(THREE)[0]
    back = RunOutcome.from_dict(outcome.to_dict())
    np.testing.assert_array_equal(back.proba, outcome.proba)
    np.testing.assert_array_equal(back.pred, outcome.pred)
    assert back.metrics == outcome.metrics and back.probes == outcome.probes
    assert back.seed == outcome.seed


def test_terminal_summary_prints_every_technique():
    result = synthetic_result()
    console = Console(file=io.StringIO(), width=160, color_system=None)
    print_summary(result, console)
    text = console.file.getvalue()
    for t in TECHNIQUES:
        assert t in text
    assert "Macro F1" in text and "spam recall" in text
