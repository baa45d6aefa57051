"""Data: built-in and user data sets, splits and the imbalance profile. Knows nothing of models."""

from ._builtins import BUILTINS, DEFAULT_DATASET
from ._dataset import Dataset, minority_index
from ._download import cache_dir
from ._load import list_builtins, load_dataset, parse_label_names
from ._profile import inverse_frequency_weights, profile
from ._split import PARTS, Split, split_dataset, stratified_subsample

__all__ = [
    "minority_index",
    "BUILTINS",
    "DEFAULT_DATASET",
    "Dataset",
    "PARTS",
    "Split",
    "cache_dir",
    "inverse_frequency_weights",
    "list_builtins",
    "load_dataset",
    "parse_label_names",
    "profile",
    "split_dataset",
    "stratified_subsample",
]
