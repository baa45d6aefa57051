"""imblab: train and compare text classifiers on imbalanced data."""

from .data import Dataset, Split, list_builtins, load_dataset, profile, split_dataset
from .errors import DataError, ImblabError, ModelError, SpecError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Dataset",
    "ImblabError",
    "ModelError",
    "SpecError",
    "Split",
    "__version__",
    "list_builtins",
    "load_dataset",
    "profile",
    "split_dataset",
]
