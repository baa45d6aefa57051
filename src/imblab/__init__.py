"""imblab: train and compare text classifiers on imbalanced data.

The light parts (data loading, splits, profile, errors) import at once; the model parts
(``compare``, ``load_model``, ``TrainedModel``, ...) import torch on first use.
"""

from typing import Any

from .backends import _names as _backend_registry  # noqa: F401 - the built-in backends, declared to settings
from .data import Dataset, Split, list_builtins, load_dataset, profile, split_dataset
from .errors import DataError, ExecutionError, ImblabError, ModelError, OutputError, SpecError

from ._version import __version__

_LAZY = {
    "compare": ("study", "compare"),
    "tune": ("study", "tune"),
    "ComparisonResult": ("comparison", "ComparisonResult"),
    "load_study": ("study", "load_study"),
    "TrainedModel": ("model", "TrainedModel"),
    "TrainConfig": ("model", "TrainConfig"),
    "load_model": ("model", "load_model"),
    "parse_spec": ("techniques", "parse_spec"),
    "list_presets": ("techniques", "list_presets"),
    "train_run": ("run", "train_run"),
    "estimate_prior": ("run", "estimate_prior"),
}

__all__ = [
    "DataError",
    "Dataset",
    "ExecutionError",
    "ImblabError",
    "ModelError",
    "OutputError",
    "SpecError",
    "Split",
    "__version__",
    "list_builtins",
    "load_dataset",
    "profile",
    "split_dataset",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'imblab' has no attribute {name!r}")
