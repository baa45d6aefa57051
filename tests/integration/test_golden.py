"""Behaviour unchanged (issue 22): the seed study with costs gives the results and costs stored before the reshape."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imblab.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.slow
def test_seed_study_with_costs_matches_the_golden_outputs(tmp_path: Path) -> None:
    out = tmp_path / "study"
    assert main(["compare", "sms_spam", "--backend", "tfidf", "--techniques", "seed", "--seeds", "3",
                 "--costs", "fn=10,fp=1", "--deploy-prior", "spam=0.02", "--out", str(out)]) == 0
    for name, drop in (("results", ["seconds"]), ("costs", [])):
        got = pd.read_csv(out / f"{name}.csv").drop(columns=drop)
        expected = pd.read_csv(GOLDEN / f"seed_study_{name}.csv")
        assert list(got.columns) == list(expected.columns), name
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9, obj=name)
