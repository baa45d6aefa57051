"""Split invariants and the numbers of the imbalance profile."""

from __future__ import annotations

import numpy as np
import pytest

from imblab.data import Dataset, profile, split_dataset, stratified_subsample
from imblab.errors import DataError


def _toy(n_per_class: dict[str, int], dup_every: int = 0) -> Dataset:
    texts, labels = [], []
    for label, n in n_per_class.items():
        for i in range(n):
            j = i - i % dup_every if dup_every else i  # repeat texts in runs of `dup_every`
            texts.append(f"{label} text {j}")
            labels.append(label)
    return Dataset(name="toy", texts=tuple(texts), labels=tuple(labels), label_names=tuple(n_per_class))


def test_sms_split_is_stratified_disjoint_and_complete(sms) -> None:
    split = split_dataset(sms)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == len(sms)
    assert len(np.unique(np.concatenate(parts))) == len(sms)
    y = sms.y
    for part, frac in zip(parts, (0.8, 0.1, 0.1)):
        assert abs(len(part) / len(sms) - frac) < 0.01
        assert abs(y[part].mean() - y.mean()) < 0.01  # spam share kept


def test_identical_texts_never_cross_parts(sms) -> None:
    split = split_dataset(sms)
    where = {}
    for part in ("train", "validation", "test"):
        for i in split.indices(part):
            assert where.setdefault(sms.texts[i], part) == part


def test_split_is_a_pure_function_of_data_fractions_seed(sms) -> None:
    a, b = split_dataset(sms, seed=7), split_dataset(sms, seed=7)
    assert all(np.array_equal(a.indices(p), b.indices(p)) for p in ("train", "validation", "test"))
    c = split_dataset(sms, seed=8)
    assert not np.array_equal(a.test, c.test)
    d = split_dataset(sms, seed=7, validation=0.2)
    assert len(d.validation) > len(a.validation)


def test_split_round_trips_through_json(sms) -> None:
    from imblab.data import Split

    split = split_dataset(sms)
    again = Split.from_dict(split.to_dict())
    assert np.array_equal(again.test, split.test) and again.data_hash == sms.content_hash()


@pytest.mark.parametrize("seed", range(5))
def test_every_class_in_every_part_even_when_tiny(seed: int) -> None:
    ds = _toy({"a": 200, "b": 5, "c": 3}, dup_every=0)
    split = split_dataset(ds, seed=seed)
    for part in ("train", "validation", "test"):
        assert set(ds.y[split.indices(part)]) == {0, 1, 2}


def test_class_with_too_few_distinct_texts_is_named() -> None:
    ds = _toy({"a": 50, "rare": 6}, dup_every=3)  # "rare" has 2 distinct texts
    with pytest.raises(DataError, match="'rare'"):
        split_dataset(ds)


def test_bad_fractions() -> None:
    with pytest.raises(DataError, match="fraction"):
        split_dataset(_toy({"a": 10, "b": 10}), validation=0.5, test=0.6)


def test_profile_numbers_sms(sms) -> None:
    prof = profile(sms, split_dataset(sms))
    assert prof["n_rows"] == 5574 and prof["dropped_rows"] == 0 and prof["duplicate_texts"] == 403
    ham, spam = prof["classes"]
    assert (ham["label"], ham["count"], ham["fraction"], ham["inverse_frequency_weight"]) == ("ham", 4827, 0.866, 0.5774)
    assert (spam["label"], spam["count"], spam["inverse_frequency_weight"]) == ("spam", 747, 3.7309)
    assert prof["imbalance_ratio"] == 6.46
    lengths = prof["length"]["characters"]["per_class"]
    assert lengths["spam"]["p50"] > lengths["ham"]["p50"]  # spam messages are longer
    assert sum(prof["split"]["counts"]["test"].values()) == len(split_dataset(sms).test)


def test_stratified_subsample_keeps_shares_and_every_class(sms) -> None:
    sub = stratified_subsample(sms, 300, seed=0)
    assert len(sub) == 300
    assert abs(sub.class_counts[1] / 300 - 747 / 5574) < 0.01
    assert stratified_subsample(sms, 300, seed=0).row_ids == sub.row_ids
    with pytest.raises(DataError, match="--limit"):
        stratified_subsample(sms, 4, seed=0)
