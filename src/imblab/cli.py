"""The ``imblab`` command line: parse, call the library, print.

Thin by design: every command is a function of parsed arguments that calls the
library. Our own errors become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__
from .errors import ImblabError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``imblab: error: …``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _add_data_options(p: argparse.ArgumentParser, *, split: bool = True) -> None:
    p.add_argument("dataset", help="built-in name (sms_spam, hate_speech) or a .csv/.tsv/.jsonl/.json/.parquet file")
    p.add_argument("--text-column", help="column holding the text (default: auto-detected)")
    p.add_argument("--label-column", help="column holding the label (default: auto-detected)")
    p.add_argument("--label-names", help="rename labels: 0=ham,1=spam or names for the sorted raw labels")
    p.add_argument("--encoding", default="utf-8", help="file encoding (default: utf-8)")
    p.add_argument("--dedupe", action="store_true", help="keep only the first row of each distinct text")
    if split:
        p.add_argument("--split-seed", type=int, default=42, help="seed of the train/validation/test split (default: 42)")
        p.add_argument("--val-fraction", type=float, default=0.1, help="validation share (default: 0.1)")
        p.add_argument("--test-fraction", type=float, default=0.1, help="test share (default: 0.1)")


def _load(args: argparse.Namespace) -> Any:
    from .data import load_dataset

    return load_dataset(
        args.dataset, text_column=args.text_column, label_column=args.label_column,
        label_names=args.label_names, encoding=args.encoding, dedupe=args.dedupe,
    )


# ---------------------------------------------------------------------------------------------- data
def _cmd_data_list(args: argparse.Namespace) -> int:
    from .data import list_builtins

    builtins = list_builtins()
    if args.json:
        print(json.dumps(builtins, indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Built-in data sets", show_lines=True)
    for column in ("name", "description", "license", "citation"):
        table.add_column(column, overflow="fold")
    for b in builtins:
        table.add_row(b["name"], b["description"], b["license"], b["citation"])
    Console().print(table)
    return 0


def _cmd_data_inspect(args: argparse.Namespace) -> int:
    from .data import profile, split_dataset

    dataset = _load(args)
    split = split_dataset(dataset, validation=args.val_fraction, test=args.test_fraction, seed=args.split_seed)
    prof = profile(dataset, split)
    if args.json:
        print(json.dumps(prof, indent=2, ensure_ascii=False))
        return 0
    from .reporting.terminal import print_profile

    print_profile(prof)
    return 0


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="imblab", description="Train and compare text classifiers on imbalanced data.")
    parser.add_argument("--version", action="version", version=f"imblab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="list built-in data sets, inspect a data set's imbalance")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    p = data_commands.add_parser("list", help="the built-in data sets with citation and license")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_data_list)
    p = data_commands.add_parser("inspect", help="rows, classes, weights, imbalance ratio, lengths, split")
    _add_data_options(p)
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=_cmd_data_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ImblabError as exc:
        sys.stderr.write(f"imblab: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("imblab: interrupted\n")
        return 130
