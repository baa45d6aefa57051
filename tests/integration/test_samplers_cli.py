"""Issue 27 end to end: a study with imbalanced-learn's samplers says what each adds over ``upsample``; the hybrid
backend resamples its joined rows; fine-tuning and bad specs are refused in one line, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.integration.test_cli_robustness import cli
from tests.unit.test_cli_errors import assert_one_line_error


def test_a_study_compares_each_sampler_with_upsample(tmp_path: Path, capsys) -> None:
    out = tmp_path / "study"
    result = cli(capsys, "compare", "sms_spam", "--backend", "tfidf", "--techniques", "baseline,upsample,smote,"
                 "tomek-links", "--seeds", "2", "--limit", "800", "--out", out)
    assert result.returncode == 0, result.stderr
    summary = (out / "summary.md").read_text()
    line = next(line for line in summary.splitlines() if "Does synthesis add anything?" in line)
    assert "smote " in line and "tomek-links " in line and "points [" in line
    results = pd.read_csv(out / "results.csv")
    assert set(results.loc[~results["reference"], "technique"]) == {"baseline", "upsample", "smote", "tomek-links"}
    metrics = json.loads((out / "runs" / "smote__seed0" / "metrics.json").read_text())
    config = json.loads((out / "runs" / "smote__seed0" / "model" / "imblab.json").read_text())
    counts, resampled = config["class_counts"], config["resampled_counts"]
    assert resampled[0] == resampled[1] == max(counts)  # balanced by synthetic minority rows
    assert metrics["seed"] == 0 and config["effective_prior"] == {"ham": 0.5, "spam": 0.5}
    # Two seeds, two different sets of synthetic rows: different heads.
    other = json.loads((out / "runs" / "smote__seed1" / "metrics.json").read_text())
    assert metrics["test_flat"] != other["test_flat"] or metrics["head"] != other["head"]


def test_hybrid_resamples_its_joined_rows(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    result = cli(capsys, "train", "sms_spam", "--backend", "hybrid", "--technique", "smote:k_neighbors=3",
                 "--limit", "400", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "model" / "imblab.json").read_text())
    assert meta["effective_prior"]["spam"] == 0.5 and meta["resampled_counts"][0] == meta["resampled_counts"][1]
    predicted = cli(capsys, "predict", out, "Call to claim your prize!", "--json")
    assert predicted.returncode == 0 and json.loads(predicted.stdout)[0]["label"] in ("ham", "spam")


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "finetune", "--technique", "smote",
                              "--limit", "300", "--out", out), "the finetune backend trains on the texts themselves")
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--backend", "finetune", "--techniques",
                              "baseline,adasyn", "--limit", "300", "--out", out), "tfidf, frozen, hybrid")
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--techniques", "imblearn:NoSuch()", "--out", out),
                          "no sampler 'NoSuch'")
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--technique", "smote:k_neighbors=0", "--out", out),
                          "k_neighbors")
    # 60 rows: 6 spam in training, fewer than SMOTE's 5 neighbours + 1 would need with k_neighbors=7.
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "tfidf", "--technique", "smote:k_neighbors=7", "--limit", "60",
                              "--out", out), "lower k_neighbors")
    # A neighbour search over more rows than --sampler-max-rows (SMOTE-Tomek: twice the ~415 ham rows after SMOTE).
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--backend", "tfidf", "--techniques", "upsample,smote-tomek",
                              "--limit", "600", "--sampler-max-rows", "800", "--out", out),
                          "smote-tomek's nearest-neighbour search would cover 8")
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "frozen", "--technique", "adasyn",
                              "--limit", "600", "--sampler-max-rows", "100", "--out", out), "more than --sampler-max-rows 100")
    assert not out.exists()
