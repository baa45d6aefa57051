"""Loading built-ins and users' files: formats, line ends, headers, columns, labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from imblab.data import BUILTINS, list_builtins, load_dataset
from imblab.errors import DataError

SMS_FILE = "SMSSpamCollection"


def test_sms_spam_counts(sms) -> None:
    assert len(sms) == 5574
    assert sms.label_names == ("ham", "spam")
    assert sms.class_counts.tolist() == [4827, 747]
    assert sms.dropped_rows == 0
    assert sms.duplicate_texts == 403
    assert sms.citation and "Almeida" in sms.citation and sms.license == "CC BY 4.0"


def test_hate_speech_counts() -> None:
    ds = load_dataset("hate_speech", download=False)
    assert len(ds) == 24783
    assert ds.label_names == ("hate_speech", "offensive_language", "neither")
    assert ds.class_counts.tolist() == [1430, 19190, 4163]


@pytest.mark.parametrize("variant", ["crlf", "header", "crlf+header"])
def test_sms_variants_load_identically(variant: str, shared_data: Path, tmp_path: Path, monkeypatch, sms) -> None:
    raw = (shared_data / "sms_spam" / SMS_FILE).read_bytes()
    if "header" in variant:
        raw = b"Label\tSMS\n" + raw
    if "crlf" in variant:
        raw = raw.replace(b"\n", b"\r\n")
    (tmp_path / "sms_spam").mkdir()
    (tmp_path / "sms_spam" / SMS_FILE).write_bytes(raw)
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(tmp_path))
    ds = load_dataset("sms_spam", download=False)
    assert ds.texts == sms.texts and ds.labels == sms.labels


def test_cache_is_used_after_data_dir(shared_data: Path, tmp_path: Path, monkeypatch, sms) -> None:
    cache = tmp_path / "cache"
    (cache / "sms_spam").mkdir(parents=True)
    (cache / "sms_spam" / SMS_FILE).write_bytes((shared_data / "sms_spam" / SMS_FILE).read_bytes())
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("IMBLAB_CACHE_DIR", str(cache))
    assert load_dataset("sms_spam", download=False).texts == sms.texts


def test_corrupted_builtin_is_rejected(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "sms_spam").mkdir()
    (tmp_path / "sms_spam" / SMS_FILE).write_text("ham\thello\nspam\twin\n")
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="does not match"):
        load_dataset("sms_spam", download=False)


def test_offline_without_copy_names_url_and_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMBLAB_DATA_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("IMBLAB_CACHE_DIR", str(tmp_path / "b"))
    with pytest.raises(DataError) as info:
        load_dataset("hate_speech")
    assert BUILTINS["hate_speech"].url in str(info.value)
    assert "IMBLAB_DATA_DIR" in str(info.value)


def test_list_builtins_has_citations() -> None:
    names = {b["name"]: b for b in list_builtins()}
    assert set(names) == {"sms_spam", "hate_speech"}
    assert all(b["citation"] and b["license"] for b in names.values())


ROWS = [
    {"text": "win a prize now", "label": "spam"},
    {"text": "see you at dinner", "label": "ham"},
    {"text": "call me later", "label": "ham"},
    {"text": "free entry to win", "label": "spam"},
    {"text": "ok", "label": "ham"},
    {"text": "claim your reward", "label": "spam"},
]


def _write(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    elif suffix == ".json":
        path.write_text(json.dumps(rows))
    elif suffix == ".parquet":
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet"])
def test_every_format_loads_the_same(suffix: str, tmp_path: Path) -> None:
    ds = load_dataset(_write(tmp_path / f"d{suffix}", ROWS))
    assert ds.texts == tuple(r["text"] for r in ROWS)
    assert ds.labels == tuple(r["label"] for r in ROWS)
    assert ds.label_names == ("ham", "spam")


def test_columns_are_detected_case_insensitively_or_named(tmp_path: Path) -> None:
    rows = [{"id": i, "Message": r["text"], "Target": r["label"]} for i, r in enumerate(ROWS)]
    assert len(load_dataset(_write(tmp_path / "a.csv", rows))) == 6
    rows = [{"body": r["text"], "kind": r["label"]} for r in ROWS]
    with pytest.raises(DataError, match="body, kind"):
        load_dataset(_write(tmp_path / "b.csv", rows))
    assert len(load_dataset(tmp_path / "b.csv", text_column="body", label_column="kind")) == 6


def test_integer_labels_stay_and_can_be_named(tmp_path: Path) -> None:
    rows = [{"text": r["text"], "label": int(r["label"] == "spam")} for r in ROWS]
    for suffix in (".csv", ".jsonl", ".parquet"):
        ds = load_dataset(_write(tmp_path / f"i{suffix}", rows))
        assert ds.label_names == ("0", "1"), suffix
    named = load_dataset(tmp_path / "i.csv", label_names="0=ham,1=spam")
    assert named.label_names == ("ham", "spam") and named.labels[0] == "spam"
    assert load_dataset(tmp_path / "i.csv", label_names="ham,spam").labels == named.labels
    with pytest.raises(DataError, match="not labels"):
        load_dataset(tmp_path / "i.csv", label_names="0=ham,7=spam")


def test_missing_and_empty_texts_are_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("text,label\nhello,ham\n,spam\n   ,ham\nwin,\n" + "".join(f"t{i},{'ham' if i % 2 else 'spam'}\n" for i in range(6)))
    ds = load_dataset(path)
    assert ds.dropped_rows == 3 and len(ds) == 7


def test_dedupe_keeps_first_of_each_text(sms) -> None:
    from imblab.data import load_dataset as load

    ds = load("sms_spam", dedupe=True, download=False)
    assert len(ds) == 5574 - 403 and ds.removed_duplicates == 403 and ds.duplicate_texts == 0
