"""Read a folder written by Hugging Face ``datasets``' ``save_to_disk``, without the ``datasets`` package.

``Dataset.save_to_disk(DIR)`` writes ``state.json`` (which names the data files), ``dataset_info.json``
(the features) and Arrow IPC *stream* files (``data-00000-of-00001.arrow``); ``DatasetDict.save_to_disk``
writes ``dataset_dict.json`` (``{"splits": [...]}``) and one such folder per split. pyarrow reads the
streams directly. A ``ClassLabel`` column holds integers; its names (from ``dataset_info.json``) become
the labels, in the ClassLabel's order, and ``-1`` (no label) is a missing label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .._io import read_json
from ..errors import DataError

__all__ = ["is_hf_dataset_dir", "read_hf_dataset", "DEFAULT_SPLIT"]

DEFAULT_SPLIT = "train"
_DICT_FILE = "dataset_dict.json"
_STATE_FILE = "state.json"
_INFO_FILE = "dataset_info.json"


def is_hf_dataset_dir(path: Path) -> bool:
    """A ``save_to_disk`` folder: a Dataset (state.json + dataset_info.json) or a DatasetDict (dataset_dict.json)."""
    return (path / _DICT_FILE).is_file() or ((path / _STATE_FILE).is_file() and (path / _INFO_FILE).is_file())


def read_hf_dataset(path: Path) -> tuple[pd.DataFrame, dict[str, list[str]], str]:
    """The rows of a ``save_to_disk`` folder (a DatasetDict's ``train`` split), its ClassLabel names, its source.

    Returns:
        The frame (column names as strings), ``{column: names}`` for every ClassLabel column, and a
        description of what was read (``DIR`` or ``DIR/train``).

    Raises:
        DataError: the folder is incomplete or damaged, or a DatasetDict has no ``train`` split (the
            message lists its splits: pass ``DIR/SPLIT`` to read another one).
    """
    if (path / _DICT_FILE).is_file():
        splits = read_json(path / _DICT_FILE, DataError).get("splits")
        if not isinstance(splits, list) or not splits:
            raise DataError(f"{path / _DICT_FILE} is damaged: no list of splits")
        if DEFAULT_SPLIT not in splits:
            raise DataError(
                f"{path} is a DatasetDict without a {DEFAULT_SPLIT!r} split: pass one of its split folders, "
                + ", ".join(str(path / str(s)) for s in splits)
            )
        path = path / DEFAULT_SPLIT
        if not is_hf_dataset_dir(path):
            raise DataError(f"{path} is missing or is not a datasets folder (no {_STATE_FILE} and {_INFO_FILE})")
    state = read_json(path / _STATE_FILE, DataError)
    info = read_json(path / _INFO_FILE, DataError)
    files = state.get("_data_files")
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) and "filename" in f for f in files):
        raise DataError(f"{path / _STATE_FILE} is damaged: no _data_files")
    table = _read_arrow([path / str(f["filename"]) for f in files])
    frame = table.to_pandas()
    frame.columns = [str(c) for c in frame.columns]
    features = info.get("features") if isinstance(info.get("features"), dict) else {}
    class_labels = {
        str(name): [str(n) for n in feature["names"]]
        for name, feature in features.items()
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and isinstance(feature.get("names"), list)
    }
    for column, names in class_labels.items():
        if column in frame.columns:
            frame[column] = _names_of(frame[column], names, column, path)
    return frame, class_labels, str(path)


def _read_arrow(files: list[Path]) -> Any:
    import pyarrow as pa
    import pyarrow.ipc

    tables = []
    for file in files:
        if not file.is_file():
            raise DataError(f"{file} is missing (named in {file.parent / _STATE_FILE})")
        try:
            with pa.memory_map(str(file)) as source:
                try:
                    tables.append(pyarrow.ipc.open_stream(source).read_all())
                except pa.ArrowInvalid:  # an Arrow IPC *file* (random-access format) rather than a stream
                    source.seek(0)
                    tables.append(pyarrow.ipc.open_file(source).read_all())
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"cannot read {file} as Arrow: {exc}") from None
    try:
        return pa.concat_tables(tables)
    except pa.ArrowException as exc:
        raise DataError(f"the data files of {files[0].parent} do not share one schema: {exc}") from None


def _names_of(column: pd.Series, names: list[str], name: str, path: Path) -> pd.Series:
    """ClassLabel integers → their names; -1 (or missing) → missing."""
    values = pd.to_numeric(column, errors="coerce")
    bad = values[(values.notna()) & (values != -1) & ~values.isin(range(len(names)))]
    if len(bad):
        raise DataError(f"{path}: column {name!r} holds {bad.iloc[0]!r}, not a ClassLabel index of {len(names)} names")
    return values.map(lambda v: names[int(v)] if pd.notna(v) and v != -1 else None)
