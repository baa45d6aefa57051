"""The exception types imblab raises for bad input.

Library code raises these and never exits; the CLI turns them into one line on
stderr and exit code 2.
"""

from __future__ import annotations

__all__ = ["ImblabError", "DataError", "SpecError", "ModelError", "OutputError", "ExecutionError"]


class ImblabError(Exception):
    """Base class: a problem with what the user asked for, explained in one line."""


class DataError(ImblabError):
    """A data set could not be found, read, parsed or split."""


class SpecError(ImblabError):
    """A technique specification or study configuration is invalid."""


class ModelError(ImblabError):
    """A model directory is missing, foreign or incompatible."""


class OutputError(ImblabError):
    """An output folder cannot be written, or writing it would replace files imblab did not make."""


class ExecutionError(ImblabError):
    """A study's runs could not be carried out: a worker process or machine was lost for good, or the
    engine asked for (Ray) is not installed or not reachable."""
