"""Adding a backend is shown, not claimed (issue 22): one class and one registry line, through the public API only.

The backend below is defined here, nowhere in ``src/``: a hashing vectoriser (no vocabulary to fit or save) on
the family's convex head. Registered, it trains, predicts, runs a study and is tuned from the command line like
a built-in, and its own setting (``--hash-features``) is a flag of train, compare and tune.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from imblab.backends import BackendSpec, FeatureBackend, register_backend, unregister_backend
from imblab.settings import TRAINING, Integer, Setting
from tests.integration.test_cli_robustness import cli
from tests.unit.test_cli_errors import assert_one_line_error

SMALL = ("--limit", "600")


class HashingBackend(FeatureBackend):
    """Word 1-2-gram counts hashed into ``hash_features`` columns, L2-normalised."""

    name = "hashing"

    def __init__(self, hash_features: int | None = None) -> None:
        self.hash_features = hash_features or 1 << 12
        self.vectorizer = HashingVectorizer(n_features=self.hash_features, ngram_range=(1, 2), alternate_sign=False)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        matrix = self.vectorizer.transform(list(texts)).astype(np.float32).tocsr()
        matrix.sort_indices()
        return matrix

    def settings(self) -> dict[str, Any]:
        return {"hash_features": self.hash_features}

    @classmethod
    def from_settings(cls, settings: dict[str, Any], directory: Path) -> HashingBackend:
        return cls(int(settings["hash_features"]))


HASH_FEATURES = Setting("hash_features", TRAINING, Integer(at_least=16), None,
                        "columns of the hashing vectoriser (default: 4096)", ("train", "compare", "tune"),
                        train=True, fingerprint=True)


@pytest.fixture
def hashing() -> Iterator[None]:
    register_backend(BackendSpec("hashing", HashingBackend, settings=(HASH_FEATURES,)))  # the registry line
    try:
        yield
    finally:
        unregister_backend("hashing")


def test_an_unregistered_backend_is_one_line(capsys, tmp_path: Path) -> None:
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "hashing", "--out", tmp_path / "r"),
                          "--backend", "hashing")


def test_its_setting_is_a_flag_of_train_compare_and_tune(hashing, capsys) -> None:
    for command in ("train", "compare", "tune"):
        shown = cli(capsys, command, "--help")  # argparse exits 0 after printing the help
        assert shown.returncode == 0
        assert "--hash-features N" in shown.stdout and "hashing" in shown.stdout, command


def test_train_predict_compare_and_tune_with_a_registered_backend(hashing, capsys, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli(capsys, "train", "sms_spam", *SMALL, "--backend", "hashing", "--hash-features", "1024",
               "--technique", "weighted", "--out", run).returncode == 0
    meta = json.loads((run / "model" / "imblab.json").read_text())
    assert meta["backend"] == {"name": "hashing", "settings": {"hash_features": 1024}}
    assert json.loads((run / "metrics.json").read_text())["head"]["C"] is not None  # the family's head, C chosen

    predicted = cli(capsys, "predict", run, "Call to claim your prize!", "see you at home", "--json")
    assert predicted.returncode == 0, predicted.stderr
    from imblab import load_model

    model = load_model(run / "model")
    texts = ["Call to claim your prize!", "see you at home"]
    assert np.allclose([list(r["probabilities"].values()) for r in json.loads(predicted.stdout)],
                       model.predict_proba(texts))

    study = tmp_path / "study"
    args = ("compare", "sms_spam", *SMALL, "--backend", "hashing", "--techniques", "baseline,weighted", "--seeds", "1")
    result = cli(capsys, *args, "--hash-features", "1024", "--out", study)
    assert result.returncode == 0, result.stderr
    assert json.loads((study / "study.json").read_text())["fingerprint"]["hash_features"] == 1024
    assert (study / "runs" / "weighted__seed0" / "metrics.json").is_file() and (study / "report.html").is_file()
    # Its setting is part of what a stored run means: another value is another study.
    assert_one_line_error(cli(capsys, *args, "--hash-features", "2048", "--out", study), "hash_features")

    tuned = cli(capsys, "tune", "sms_spam", *SMALL, "--backend", "hashing", "--hash-features", "1024",
                "--technique", "focal", "--trials", "2", "--tune-training", "--json", "--out", tmp_path / "tune")
    assert tuned.returncode == 0, tuned.stderr
    summary = json.loads(tuned.stdout)
    assert summary["training"].keys() == {"C"}  # the family's tuned setting
    assert "--backend hashing" in summary["train_command"]
