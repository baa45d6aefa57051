"""`imblab data inspect` on the real built-ins, as a user runs it."""

from __future__ import annotations

import json

from tests.unit.test_cli_errors import run_cli


def test_inspect_sms_spam_json() -> None:
    result = run_cli("data", "inspect", "sms_spam", "--json")
    assert result.returncode == 0, result.stderr
    prof = json.loads(result.stdout)
    assert prof["n_rows"] == 5574 and prof["imbalance_ratio"] == 6.46
    assert [(c["label"], c["count"], c["inverse_frequency_weight"]) for c in prof["classes"]] == [
        ("ham", 4827, 0.5774), ("spam", 747, 3.7309),
    ]


def test_inspect_hate_speech_json() -> None:
    result = run_cli("data", "inspect", "hate_speech", "--json")
    assert result.returncode == 0, result.stderr
    prof = json.loads(result.stdout)
    assert prof["n_rows"] == 24783
    assert {c["label"]: c["count"] for c in prof["classes"]} == {
        "hate_speech": 1430, "offensive_language": 19190, "neither": 4163,
    }


def test_inspect_table_and_data_list() -> None:
    result = run_cli("data", "inspect", "sms_spam")
    assert result.returncode == 0 and "imbalance ratio" in result.stdout and "spam" in result.stdout
    listing = run_cli("data", "list")
    assert listing.returncode == 0 and "hate_speech" in listing.stdout and "CC BY 4.0" in listing.stdout
