"""The ``imblab`` command line: parse, call the library, print.

Thin by design: every command is a function of parsed arguments that calls the
library. Our own errors become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
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
    p.add_argument("dataset", help="built-in name (sms_spam, hate_speech), a .csv/.tsv/.jsonl/.json/.parquet file "
                   "(also .gz/.bz2/.xz/.zst/.zip), or a Hugging Face datasets save_to_disk folder")
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


# ---------------------------------------------------------------------------------------------- techniques
def _cmd_techniques(args: argparse.Namespace) -> int:
    from .techniques import list_presets

    presets = list_presets()
    if args.json:
        print(json.dumps(presets, indent=2, ensure_ascii=False, default=str))
        return 0
    from .reporting.terminal import print_techniques

    print_techniques(presets)
    return 0


# ---------------------------------------------------------------------------------------------- train
def _add_training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default=None, choices=["auto", "tfidf", "frozen", "finetune"],
                   help="auto (default): finetune with a CUDA GPU, else tfidf")
    p.add_argument("--model", default=None, help="Hugging Face id or local path (default: the bundled all-MiniLM-L6-v2)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (0 evaluates the initial model)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--max-length", type=int, default=None, help="max tokens per text (transformer backends)")
    p.add_argument("--limit", type=int, default=None, help="stratified subsample of N rows before splitting")
    p.add_argument("--probe", action="append", default=None, metavar="TEXT",
                   help="a text whose probabilities are reported (repeatable)")


def _train_config(args: argparse.Namespace):  # -> TrainConfig
    from .model import TrainConfig

    values = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "max_length": args.max_length}
    for name, value in values.items():
        if value is not None and value < (0 if name == "epochs" else 1e-12):
            raise _usage(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'epochs' else 'positive'}, got {value}")
    return TrainConfig(**{k: v for k, v in values.items() if v is not None})


def _usage(message: str) -> ImblabError:
    from .errors import SpecError

    return SpecError(message)


# ---------------------------------------------------------------------------------------------- costs
def _add_cost_options(p: argparse.ArgumentParser, *, prior_alias: bool = False) -> None:
    """``--costs`` and ``--deploy-prior``: every command that decides takes them (compare, train, predict)."""
    p.add_argument("--costs", metavar="fn=N,fp=N[,positive=LABEL] | FILE.toml",
                   help="what an error costs: a missed positive (fn) and a false alarm (fp), the positive label "
                   "explicit or the minority; or a TOML file whose [costs] table holds a matrix (true × predicted) "
                   "for more than two labels. Decisions then minimise the expected cost (Elkan 2001)")
    names = ("--deploy-prior", "--prior") if prior_alias else ("--deploy-prior",)
    p.add_argument(*names, dest="deploy_prior", metavar="LABEL=P,...",
                   help="the class mix in production, e.g. spam=0.02 (one label may be left out: it gets the rest; "
                   "default: the training prior); probabilities are corrected to it (Saerens et al. 2002)")


def _cost_inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    """(costs, deployment prior) as given: ``--costs`` text, or the [costs] table of a TOML file (whose
    deploy_prior applies unless ``--deploy-prior`` is given)."""
    costs, prior = args.costs, args.deploy_prior
    if costs is not None and costs.strip().lower().endswith(".toml"):
        from pathlib import Path

        from .study import load_study_file

        path = Path(costs)
        if not path.is_file():
            raise _usage(f"--costs {costs}: no such file")
        config = load_study_file(path)
        if config.costs is None and config.deploy_prior is None:
            raise _usage(f"--costs {costs}: the file has no [costs] table")
        costs, prior = config.costs, prior if prior is not None else config.deploy_prior
    return costs, prior


def _cmd_train(args: argparse.Namespace) -> int:
    from .run import check_run_out

    if args.out:
        check_run_out(args.out)  # before loading data and training: nothing is lost to a bad --out
    from .backends import resolve_backend_name
    from .study import default_out_dir
    from .data import BUILTINS, split_dataset, stratified_subsample
    from .run import train_run
    from .techniques import parse_spec

    config = _train_config(args)
    costs_given, prior_given = _cost_inputs(args)
    dataset = _load(args)
    if args.limit is not None:  # --limit 0 is an error (in stratified_subsample), not "no limit"
        dataset = stratified_subsample(dataset, args.limit, seed=args.split_seed)
    split = split_dataset(dataset, validation=args.val_fraction, test=args.test_fraction, seed=args.split_seed)
    technique = parse_spec(args.technique, labels=list(dataset.label_names))
    from .evaluation import resolve_costs

    # Against the training split's counts (the default positive label and prior), before anything is trained.
    costs = resolve_costs(costs_given, prior_given, dataset.label_names, split.take(dataset, "train").class_counts)
    backend = resolve_backend_name(args.backend or "auto")
    if args.backend in (None, "auto"):
        sys.stderr.write(f"imblab: backend auto → {backend}\n")
    probes = args.probe if args.probe is not None else list(getattr(BUILTINS.get(args.dataset), "default_probes", ()))
    out = args.out or default_out_dir(f"{dataset.name}-{technique.name}-seed{args.seed}")
    run = train_run(
        dataset, split, technique, backend=backend, model_name=args.model, seed=args.seed, config=config,
        probes=probes, out=out, progress=not args.json and sys.stderr.isatty(), costs=costs,
    )
    payload = {
        "run_dir": str(run.run_dir), "technique": technique.display_name, "spec": technique.spec,
        "backend": run.metrics["backend"], "seed": args.seed,
        "validation": run.metrics["validation"], "test": run.metrics["test"],
        "test_prior_corrected": run.metrics["test_prior_corrected"], "probes": run.metrics["probes"],
        "timings": run.metrics["timings"],
    }
    if "costs" in run.metrics:
        payload["costs"] = run.metrics["costs"]
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=float))
        return 0
    from .reporting.terminal import print_run

    print_run(payload, run.labels, run.arrays())
    return 0


# ---------------------------------------------------------------------------------------------- predict
def _read_texts(args: argparse.Namespace) -> list[str]:
    texts = list(args.texts)
    if args.file:
        from pathlib import Path

        from .data._files import SUPPORTED_SUFFIXES, TEXT_CANDIDATES, decode, pick_column, read_file_bytes, read_table
        from .errors import DataError

        path = Path(args.file)
        if not path.is_file():
            raise DataError(f"no such file: {path}")
        raw, suffix = read_file_bytes(path)
        if suffix in SUPPORTED_SUFFIXES:
            frame = read_table(path, args.encoding)
            column = pick_column(frame, args.text_column, TEXT_CANDIDATES, "text", "--text-column", str(path))
            texts += [str(t) for t in frame[column].tolist()]
        else:
            texts += [line for line in decode(raw, args.encoding, str(path)).splitlines() if line.strip()]
    if not texts:
        raise _usage("nothing to predict: give texts as arguments or --file F")
    return texts


def _cmd_predict(args: argparse.Namespace) -> int:
    from .model import load_model

    from pathlib import Path

    model_dir = Path(args.model_dir)
    if (model_dir / "model" / "imblab.json").is_file():  # a run directory: its model/ folder
        model_dir = model_dir / "model"
    model = load_model(model_dir)
    costs, prior = _cost_inputs(args)
    # Costs and prior are checked before any text is read or encoded; given ones override the model's stored ones.
    setting = model.cost_setting(costs, prior)
    texts = _read_texts(args)
    logits = model.predict_logits(texts)  # one forward pass for the probabilities and both decisions
    decided = model.decide_by_cost(logits=logits, costs=costs, deploy_prior=prior) if setting is not None else None
    if args.raw:
        proba = model.proba_from_logits(logits, "raw")
    elif decided is not None and decided.setting.prior_given:
        proba = decided.proba  # at the deployment prior the cost label is decided at
    else:
        proba = model.proba_from_logits(logits, "true")
    labels = [model.labels[i] for i in model.decide(logits)]
    rows = [
        {"text": text, "label": label, "probabilities": dict(zip(model.labels, map(float, proba[i])))}
        for i, (text, label) in enumerate(zip(texts, labels))
    ]
    if decided is not None:
        for row, record in zip(rows, decided.records()):
            row.update(record)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    from .reporting.terminal import print_predictions

    if decided is not None:
        sys.stderr.write(f"imblab: cost label = least expected cost ({decided.setting.describe()})\n")
    print_predictions(rows, model.labels)
    return 0


# ---------------------------------------------------------------------------------------------- compare
def _study_overrides(args: argparse.Namespace) -> dict[str, Any]:
    techniques: list[str] = []
    if args.techniques is not None:  # an empty --techniques '' is an error, not the default
        techniques.append(args.techniques)
    techniques += args.technique or []
    return {
        "dataset": args.dataset, "techniques": techniques or None, "seeds": args.seeds, "backend": args.backend,
        "model": args.model, "probes": args.probe, "metric": args.metric, "epochs": args.epochs,
        "batch_size": args.batch_size, "lr": args.lr, "max_length": args.max_length, "limit": args.limit,
        "split_seed": args.split_seed, "text_column": args.text_column, "label_column": args.label_column,
        "label_names": args.label_names, "encoding": args.encoding, "dedupe": args.dedupe or None,
        **dict(zip(("costs", "deploy_prior"), _cost_inputs(args))),
    }


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .study import build_study_config, check_study_out, default_out_dir, prepare_study, run_study
    from .reporting.terminal import StudyProgress, print_summary

    if args.dataset is None and args.config is None:
        args.dataset = "sms_spam"
    if args.seeds is not None and args.seeds < 1:
        raise _usage(f"--seeds must be at least 1, got {args.seeds}")
    if args.out:
        check_study_out(args.out)  # before loading data and training: nothing is lost to a bad --out
    study = prepare_study(build_study_config(args.config, **_study_overrides(args)))
    out = Path(args.out) if args.out else default_out_dir(study.config.dataset)
    quiet = args.json or not sys.stderr.isatty()
    sys.stderr.write(
        f"imblab: {len(study.techniques)} techniques × {len(study.config.seeds)} seeds on {study.dataset.name} "
        f"({len(study.dataset):,} rows), backend {study.backend} → {out}\n"
    )
    with StudyProgress(enabled=not quiet) as progress:
        try:
            result = run_study(study, out, on_progress=progress.update)
        except KeyboardInterrupt:
            sys.stderr.write(f"imblab: interrupted; finished runs are kept in {out}: run the same command to resume\n")
            return 130
    if args.json:
        print(json.dumps({"out": str(out), "report": str(out / "report.html"), "runs": len(result.outcomes)}))
        return 0
    print_summary(result)
    print(f"\nReport: {out / 'report.html'}\nSummary: {out / 'summary.md'}\nResults: {out / 'results.csv'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .study import check_study_out, load_study
    from .reporting.terminal import print_summary

    out = Path(args.dir)
    check_study_out(out)  # the report files are rewritten there
    result = load_study(out)
    print_summary(result)
    print(f"\nReport: {out / 'report.html'}")
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

    p = commands.add_parser("techniques", help="every imbalance technique with parameters and citation")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_techniques)

    p = commands.add_parser("train", help="train one technique, evaluate it, save the model")
    _add_data_options(p)
    p.add_argument("--technique", default="baseline", help="NAME or NAME:key=value,... (see imblab techniques)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    _add_training_options(p)
    _add_cost_options(p)
    p.add_argument("--out", help="run directory (default: a new folder under ./imblab-runs/)")
    p.add_argument("--json", action="store_true", help="print metrics as JSON")
    p.set_defaults(func=_cmd_train)

    p = commands.add_parser("predict", help="predict labels and probabilities with a saved model")
    p.add_argument("model_dir", help="a run directory or its model/ folder")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    p.add_argument("--file", help="one text per line, or a .csv/.tsv/.jsonl/.json/.parquet with a text column")
    p.add_argument("--text-column", help="text column of --file")
    p.add_argument("--encoding", default="utf-8", help="encoding of --file")
    _add_cost_options(p, prior_alias=True)
    p.add_argument("--raw", action="store_true", help="probabilities as trained, without prior correction")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_predict)

    p = commands.add_parser("compare", help="the study: every technique × seeds, statistics, report")
    p.add_argument("dataset", nargs="?", default=None, help="built-in name or file (default: sms_spam)")
    p.add_argument("--text-column", help="column holding the text (default: auto-detected)")
    p.add_argument("--label-column", help="column holding the label (default: auto-detected)")
    p.add_argument("--label-names", help="rename labels: 0=ham,1=spam")
    p.add_argument("--encoding", default=None, help="file encoding (default: utf-8)")
    p.add_argument("--dedupe", action="store_true", help="keep only the first row of each distinct text")
    p.add_argument("--split-seed", type=int, default=None, help="seed of the split (default: 42)")
    p.add_argument("--techniques", help="seed (default), all, or SPEC,SPEC,...")
    p.add_argument("--technique", action="append", metavar="SPEC", help="add one technique (repeatable)")
    p.add_argument("--seeds", type=int, default=None, help="seeds per technique (default: 3)")
    _add_training_options(p)
    p.add_argument("--metric", default=None, help="metric that ranks techniques (default: macro-f1; with costs "
                   "the expected cost ranks them and this one is shown beside it)")
    _add_cost_options(p)
    p.add_argument("--config", help="a TOML study file (see examples/); flags override it")
    p.add_argument("--out", help="output folder (default: a new folder under ./imblab-runs/); finished runs are reused")
    p.add_argument("--json", action="store_true", help="print where the outputs are as JSON")
    p.set_defaults(func=_cmd_compare)

    p = commands.add_parser("report", help="re-render the report of a compare output folder")
    p.add_argument("dir", help="the folder imblab compare wrote")
    p.set_defaults(func=_cmd_report)
    return parser


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
    )
    # SIGTERM unwinds like Ctrl-C, so atomic writes clean up and finished runs are kept.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        return int(args.func(args) or 0)
    except ImblabError as exc:
        sys.stderr.write(f"imblab: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("imblab: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`imblab ... | head`): what it read is all it wanted. Python would print a
        # traceback flushing stdout at exit; point stdout at /dev/null instead (the Python docs' recipe).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as for a tool the pipe closed
