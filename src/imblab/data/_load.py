"""``load_dataset``: a built-in name or a file path in, a validated :class:`Dataset` out."""

from __future__ import annotations

import io
import math
from dataclasses import replace
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ._builtins import BUILTINS, Builtin
from ._dataset import Dataset
from ._download import fetch_builtin
from ._files import LABEL_CANDIDATES, SUPPORTED_SUFFIXES, TEXT_CANDIDATES, decode, pick_column, read_table, table_format
from ._hf import is_hf_dataset_dir, read_hf_dataset

__all__ = ["load_dataset", "list_builtins", "parse_label_names"]

MIN_PER_CLASS = 3  # one example for each of train, validation and test


def list_builtins() -> list[dict[str, str]]:
    """Name, description, citation, license and source of every built-in data set."""
    return [
        {"name": b.name, "description": b.description, "citation": b.citation, "license": b.license, "url": b.url}
        for b in BUILTINS.values()
    ]


def parse_label_names(spec: str | Mapping[str, str] | Sequence[str] | None) -> dict[str, str] | list[str] | None:
    """``"0=hate,1=offensive"`` → mapping; ``"hate,offensive"`` → list (applied to the sorted raw labels)."""
    if spec is None or isinstance(spec, Mapping):
        return None if spec is None else {str(k): str(v) for k, v in spec.items()}
    if not isinstance(spec, str):
        return [str(v) for v in spec]
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise DataError("--label-names is empty: give RAW=NAME pairs (0=ham,1=spam) or names in label order")
    if all("=" in p for p in parts):
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in parts)}
    if any("=" in p for p in parts):
        raise DataError(f"--label-names {spec!r} mixes RAW=NAME pairs and plain names: use one form")
    return parts


def load_dataset(
    name_or_path: str | Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    label_names: str | Mapping[str, str] | Sequence[str] | None = None,
    encoding: str = "utf-8",
    dedupe: bool = False,
    download: bool = True,
) -> Dataset:
    """Load a built-in data set by name, or a labelled text file.

    Args:
        name_or_path: ``sms_spam``, ``hate_speech``, a ``.csv``/``.tsv``/``.jsonl``/``.json``/``.parquet`` path
            (optionally ``.gz``/``.bz2``/``.xz``/``.zst``/``.zip`` compressed), or a folder written by Hugging
            Face ``datasets``' ``save_to_disk`` (a DatasetDict's ``train`` split; pass ``DIR/SPLIT`` for another).
        text_column, label_column: column names; auto-detected when exactly one column has a usual name.
        label_names: rename raw labels, as a mapping, ``"0=a,1=b"``, or names for the sorted raw labels.
        encoding: text encoding of the file.
        dedupe: keep only the first row of each distinct text.
        download: allow downloading a built-in that is not on disk.

    Raises:
        DataError: with a one-line explanation of what is wrong.
    """
    key = str(name_or_path)
    builtin = BUILTINS.get(key)
    if builtin is not None:
        dataset = _load_builtin(builtin, download=download)
    else:
        path = Path(key).expanduser()
        if path.is_file():
            frame = read_table(path, encoding)
            dataset = _from_frame(frame, path.name, str(path), text_column, label_column, parse_label_names(label_names))
        elif path.is_dir() and is_hf_dataset_dir(path):
            dataset = _from_hf_folder(path, text_column, label_column, parse_label_names(label_names))
        elif path.is_dir():
            raise DataError(
                f"{path} is a folder but not a Hugging Face datasets folder (no dataset_dict.json, or state.json "
                "and dataset_info.json): give a data file or a save_to_disk folder"
            )
        elif path.exists():
            raise DataError(f"{path} is a device, FIFO or socket, not a regular file: give a data file")
        elif table_format(path)[0] in SUPPORTED_SUFFIXES or "/" in key or "\\" in key:
            raise DataError(f"no such file: {path}")
        else:
            raise DataError(
                f"unknown data set {key!r}: built-ins are {', '.join(BUILTINS)}; "
                f"or give a path to a {'/'.join(SUPPORTED_SUFFIXES)} file"
            )
    if dedupe:
        dataset = dataset.dedupe()
    _check_classes(dataset)
    return dataset


def _load_builtin(builtin: Builtin, *, download: bool) -> Dataset:
    data = fetch_builtin(builtin, download=download)
    if builtin.format == "sms":
        texts, labels, dropped = [], [], 0
        for line in decode(data, "utf-8", builtin.filename).split("\n"):
            if not line.strip():
                continue
            label, _, text = line.partition("\t")
            if not text.strip() or label not in builtin.label_names:
                dropped += 1
                continue
            texts.append(text)
            labels.append(builtin.label_names[label])
        dataset = Dataset(
            name=builtin.name, texts=tuple(texts), labels=tuple(labels),
            label_names=tuple(builtin.label_names.values()), dropped_rows=dropped,
        )
    else:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
        dataset = _from_frame(frame, builtin.name, builtin.url, builtin.text_column, builtin.label_column, builtin.label_names)
    return replace(dataset, name=builtin.name, source=builtin.url, citation=builtin.citation, license=builtin.license)


def _label_string(value: object) -> str | None:
    """A cell as a label string: ints stay ints ("1", not "1.0"); missing is None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _sort_key(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def _from_frame(
    frame: pd.DataFrame, name: str, source: str, text_column: str | None, label_column: str | None,
    label_names: dict[str, str] | list[str] | None,
) -> Dataset:
    text_col = pick_column(frame, text_column, TEXT_CANDIDATES, "text", "--text-column", source)
    label_col = pick_column(frame, label_column, LABEL_CANDIDATES, "label", "--label-column", source)
    if text_col == label_col:
        raise DataError(f"text and label column are both {text_col!r} in {source}: name two different columns")
    texts, labels, dropped, not_text = [], [], 0, 0
    for text, label in zip(frame[text_col].tolist(), frame[label_col].tolist()):
        label_str = _label_string(label)
        if not isinstance(text, str) or not text.strip() or label_str is None:
            dropped += 1
            not_text += not (text is None or isinstance(text, str) or _missing(text))  # numbers, bytes: not texts
            continue
        texts.append(text)
        labels.append(label_str)
    if not texts and not_text:
        kinds = sorted({type(t).__name__ for t in frame[text_col].tolist()
                        if not (t is None or isinstance(t, str) or _missing(t))})
        raise DataError(f"the text column {text_col!r} of {source} holds {', '.join(kinds)} values, not texts: "
                        "give the column that holds the texts (--text-column)")
    raw_classes = sorted(set(labels), key=_sort_key)
    if isinstance(label_names, list):
        if len(label_names) != len(raw_classes):
            raise DataError(
                f"--label-names gives {len(label_names)} names but {source} has {len(raw_classes)} labels: "
                f"{', '.join(raw_classes)}"
            )
        label_names = dict(zip(raw_classes, label_names))
    if label_names:
        unknown = [raw for raw in label_names if raw not in raw_classes]
        if unknown:
            raise DataError(f"--label-names names {', '.join(unknown)}, not labels of {source}: {', '.join(raw_classes)}")
        labels = [label_names.get(label, label) for label in labels]
    order = [label_names.get(raw, raw) for raw in raw_classes] if label_names else raw_classes
    return Dataset(
        name=name, texts=tuple(texts), labels=tuple(labels), label_names=tuple(dict.fromkeys(order)),
        source=source, dropped_rows=dropped,
    )


def _from_hf_folder(
    path: Path, text_column: str | None, label_column: str | None, label_names: dict[str, str] | list[str] | None,
) -> Dataset:
    """A ``save_to_disk`` folder; a ClassLabel label column keeps the ClassLabel's order of names."""
    frame, class_labels, source = read_hf_dataset(path)
    label_col = pick_column(frame, label_column, LABEL_CANDIDATES, "label", "--label-column", source)
    # A split folder of a DatasetDict is named with its parent: "imdb-test", not "test".
    name = f"{path.parent.name}-{path.name}" if (path.parent / "dataset_dict.json").is_file() else path.name
    dataset = _from_frame(frame, name, source, text_column, label_col, label_names)
    if label_col in class_labels and label_names is None:
        present = set(dataset.label_names)
        dataset = replace(dataset, label_names=tuple(n for n in class_labels[label_col] if n in present))
    return dataset


def _missing(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _check_classes(dataset: Dataset) -> None:
    if len(dataset) == 0:
        raise DataError(f"{dataset.source or dataset.name} is empty: no row has both a text and a label")
    counts = dict(zip(dataset.label_names, dataset.class_counts.tolist()))
    present = [label for label, n in counts.items() if n > 0]
    if len(present) < 2:
        raise DataError(
            f"{dataset.name} has {len(present)} class ({', '.join(present) or 'none'}): "
            "a classifier needs at least 2 classes"
        )
    rare = [f"{label!r} ({n})" for label, n in counts.items() if n < MIN_PER_CLASS]
    if rare:
        raise DataError(
            f"class {', '.join(rare)} has fewer than {MIN_PER_CLASS} examples in {dataset.name}: "
            "it cannot appear in train, validation and test; add examples or remove the class"
        )
