"""The ``imblab`` command line: parse, call the library, print.

Thin by design: every command is a function of parsed arguments that calls the
library. Our own errors become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from . import settings
from ._version import __version__
from .errors import ImblabError

if TYPE_CHECKING:
    from .study import Executor

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``imblab: error: …``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _load(values: dict[str, Any]) -> Any:
    from .data import load_dataset

    return load_dataset(
        values["dataset"], text_column=values["text_column"], label_column=values["label_column"],
        label_names=values["label_names"], encoding=values["encoding"], dedupe=values["dedupe"],
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

    values = settings.with_defaults(settings.from_args(args, "inspect"), "inspect")
    dataset = _load(values)
    split = split_dataset(dataset, validation=values["val_fraction"], test=values["test_fraction"],
                          seed=values["split_seed"])
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
def _usage(message: str) -> ImblabError:
    from .errors import SpecError

    return SpecError(message)


# ---------------------------------------------------------------------------------------------- costs
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

    values = settings.with_defaults(settings.from_args(args, "train"), "train")  # every flag, before anything else
    costs_given, prior_given = _cost_inputs(args)
    from .techniques import parse_spec

    parse_spec(args.technique)  # an unknown technique or parameter fails before the data is read
    if args.out:
        check_run_out(args.out)  # before loading data and training: nothing is lost to a bad --out
    from .data import BUILTINS, split_dataset
    from .study import DataSpec, default_out_dir

    dataset = DataSpec.from_settings(values).load()
    split = split_dataset(dataset, validation=values["val_fraction"], test=values["test_fraction"],
                          seed=values["split_seed"])
    labels = list(dataset.label_names)
    technique = parse_spec(args.technique, labels=labels)
    metric = settings.resolve_metric(values["metric"], labels)  # the validation metric that chooses C
    from .evaluation import resolve_costs

    # Against the training split's counts (the default positive label and prior), before anything is trained.
    costs = resolve_costs(costs_given, prior_given, dataset.label_names, split.take(dataset, "train").class_counts)
    # The model stack (torch) only once every input is known to be good.
    from .backends import check_technique_backend, resolve_backend_name
    from .model import TrainConfig
    from .run import train_run

    config = TrainConfig(**{**settings.train_settings(values), "metric": metric})
    backend = resolve_backend_name(values["backend"])
    check_technique_backend(technique, backend)  # smote on finetune: one line, before anything is trained
    if values["backend"] == "auto":
        sys.stderr.write(f"imblab: backend auto → {backend}\n")
    probes = values["probes"]
    if probes is None:
        probes = list(getattr(BUILTINS.get(values["dataset"]), "default_probes", ()))
    seed = values["seed"]
    out = args.out or default_out_dir(f"{dataset.name}-{technique.name}-seed{seed}")
    run = train_run(
        dataset, split, technique, backend=backend, model_name=values["model"], seed=seed, config=config,
        probes=probes, out=out, progress=not args.json and sys.stderr.isatty(), costs=costs,
    )
    payload = {
        "run_dir": str(run.run_dir), "technique": technique.display_name, "spec": technique.spec,
        "backend": run.metrics["backend"], "seed": seed,
        "validation": run.metrics["validation"], "test": run.metrics["test"],
        "test_prior_corrected": run.metrics["test_prior_corrected"], "probes": run.metrics["probes"],
        "timings": run.metrics["timings"], "head": run.metrics.get("head"), "precision": run.metrics.get("precision"),
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
def _read_texts(args: argparse.Namespace, empty: str = "nothing to predict: give texts as arguments or --file F") -> list[str]:
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
        raise _usage(empty)
    return texts


def _model_dir(path: str) -> Any:
    """The model folder of a run or model folder (``predict``, ``serve``); a study's run stored without its
    model (``compare --keep-models``) says how to get it."""
    from .errors import ModelError
    from .run import METADATA_FILE, check_model_dir, is_complete_run, resolve_model_dir

    model_dir = resolve_model_dir(path)
    if not (model_dir / METADATA_FILE).is_file() and is_complete_run(model_dir):
        raise ModelError(f"{model_dir} is a study's run stored without its model (imblab compare --keep-models): "
                         "rebuild it with the imblab train command the study printed")
    return check_model_dir(model_dir)  # before the model stack (torch) is imported


def _typed(args: argparse.Namespace, command: str) -> None:
    """Check ``command``'s settings as given and put their typed values (defaults filled) on ``args``."""
    vars(args).update(settings.with_defaults(settings.from_args(args, command), command))


def _cmd_predict(args: argparse.Namespace) -> int:
    _typed(args, "predict")
    model_dir = _model_dir(args.model_dir)
    costs, prior = _cost_inputs(args)
    from .model import load_model

    model = load_model(model_dir)
    # --deploy-prior estimate: the prior of the texts being predicted, estimated from them (EM) once they are read.
    estimating = isinstance(prior, str) and prior.strip().lower() == "estimate"
    # Costs and prior are checked before any text is read or encoded; given ones override the model's stored ones.
    setting = model.cost_setting(costs, None if estimating else prior)
    texts = _read_texts(args)
    estimate = None
    if estimating:
        from .run import estimate_prior, run_validation

        # EM on the model's posteriors recalibrated on its run's validation split, when served from a run folder.
        validation = run_validation(model_dir.parent, model) if model_dir.name == "model" else None
        estimate = estimate_prior(model, texts, method="auto", validation=validation)
        prior = estimate.to_dict()["prior"]
        setting = model.cost_setting(costs, prior)
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
        payload: Any = rows if estimate is None else {"prior_estimate": estimate.to_dict(), "predictions": rows}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    from .reporting.terminal import print_predictions

    if estimate is not None:
        shown = ", ".join(f"{label} {p:.1%} [{lo:.1%}, {hi:.1%}]" for label, p, lo, hi in
                          zip(estimate.labels, estimate.prior, estimate.low, estimate.high))
        sys.stderr.write(f"imblab: deployment prior estimated from these {estimate.n:,} texts "
                         f"({estimate.method.upper()}, 95 % interval): {shown}\n")
    if decided is not None:
        sys.stderr.write(f"imblab: cost label = least expected cost ({decided.setting.describe()})\n")
    print_predictions(rows, model.labels)
    return 0


# ---------------------------------------------------------------------------------------------- serve
_SERVE_EXTRA = ("fastapi", "uvicorn", "starlette", "pydantic", "pydantic_core", "annotated_types", "prometheus_client")


def _listen_socket(host: str, port: int) -> Any:  # -> socket.socket
    """A socket bound to host:port, so that a taken port or a bad host fails before the model loads."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise _usage(f"--host {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may reuse a port in TIME_WAIT
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise _usage(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    _typed(args, "serve")  # --port in 1..65535, the limits ≥ 1, --max-wait-ms in [0, 10000]
    api_key = args.api_key if args.api_key is not None else os.environ.get("IMBLAB_API_KEY")
    if api_key is not None and not api_key.strip():
        raise _usage("--api-key (or IMBLAB_API_KEY) must not be empty")
    _model_dir(args.model_dir)  # a missing or foreign folder is reported before the slow imports
    _cost_inputs(args)
    sock = _listen_socket(args.host, args.port)  # before the slow imports: a taken port is reported at once
    try:
        import uvicorn

        from .serving import WorkerSpec, app_from_spec, run_workers, worker_threads
    except ImportError as exc:
        sock.close()
        if exc.name not in _SERVE_EXTRA:
            raise
        raise _usage(f'imblab serve needs FastAPI and uvicorn ({exc.name} is not installed): '
                     'pip install "imblab[serve]"') from None
    try:
        costs, prior = _cost_inputs(args)
        limits = {k: v for k, v in (("max_texts", args.max_texts), ("max_chars", args.max_chars),
                                    ("max_body_bytes", args.max_body_bytes)) if v is not None}
        spec = WorkerSpec(model_dir=str(args.model_dir), max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                          prior_window=args.prior_window, api_key=api_key, costs=costs, deploy_prior=prior,
                          limits=limits)
        app, served = app_from_spec(spec)  # the model, costs and limits checked here, before any worker starts
        model = served.model
        host = f"[{args.host}]" if ":" in args.host else args.host
        workers = f", {args.serve_workers} worker processes" if args.serve_workers > 1 else ""
        sys.stderr.write(
            f"imblab: serving {model.technique.display_name} ({model.backend_name}; {', '.join(model.labels)}) "
            f"on http://{host}:{args.port} (docs at /docs{', API key required' if api_key else ''}{workers}; "
            "Ctrl-C stops)\n"
        )
        config = {"log_level": "info", "access_log": args.access_log, "lifespan": "on", "timeout_graceful_shutdown": 30}
        try:
            if args.serve_workers > 1:  # each worker builds its own app from the same spec
                del app, served, model
                run_workers(dataclasses.replace(spec, threads=worker_threads(args.serve_workers)), sock,
                            args.serve_workers, **config)
            else:
                uvicorn.Server(uvicorn.Config(app, **config)).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the signal that stopped it, after a clean shutdown
            pass
    finally:
        sock.close()
    sys.stderr.write("imblab: server stopped\n")
    return 0


# ---------------------------------------------------------------------------------------------- compare
def _executor(values: dict[str, Any]) -> Executor:
    """The executor the execution settings ask for (``values``: a command's typed settings)."""
    from .study import make_executor

    return make_executor(**settings.of_role(values, "execution"))


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .study import build_study_config, check_study_out, chosen_model, default_out_dir, prepare_study, run_study
    from .reporting.terminal import StudyProgress, print_summary

    # Everything is checked before anything is written: flags, the executor, the output folder, the study
    # file, then the data, techniques, metric and probes (prepare_study).
    typed = settings.from_args(args, "compare")
    given = settings.of_role(typed, "setting")
    techniques: list[str] = []
    if args.techniques is not None:  # an empty --techniques '' is an error, not the default
        techniques.append(args.techniques)
    techniques += args.technique or []
    executor = _executor(typed)
    tuning = _compare_tuning(typed)
    if args.out:
        check_study_out(args.out)  # before reading the data
    costs, deploy_prior = _cost_inputs(args)
    study = prepare_study(build_study_config(args.config, techniques=techniques or None, costs=costs,
                                             deploy_prior=deploy_prior, **given))
    if args.out:
        check_study_out(args.out, study)  # the folder holds no other study
    out = Path(args.out) if args.out else default_out_dir(study.config.dataset)
    quiet = args.json or not sys.stderr.isatty()
    sys.stderr.write(
        f"imblab: {len(study.techniques)} techniques × {len(study.config.seeds)} seeds on {study.dataset.name} "
        f"({len(study.dataset):,} rows), backend {study.backend} → {out}\n"
    )
    if tuning is not None:
        sys.stderr.write(f"imblab: tuning each technique first: {tuning.trials} trials on the validation split\n")
    with StudyProgress(enabled=not quiet) as progress:
        try:
            result = run_study(study, out, on_progress=progress.update, executor=executor, tune=tuning)
        except KeyboardInterrupt:
            sys.stderr.write(f"imblab: interrupted; finished runs (and trials) are kept in {out}: run the same "
                             "command to resume\n")
            return 130
    chosen = chosen_model(out, result)
    if args.json:
        print(json.dumps({"out": str(out), "report": str(out / "report.html"), "runs": len(result.outcomes),
                          "model": str(chosen.model_dir) if chosen.model_dir else None, "rebuild": chosen.command}))
        return 0
    print_summary(result)
    if result.tuning:
        print("\nTuned on validation:")
        for entry in result.tuning["techniques"]:
            d = result.compare(entry["tuned"], entry["default"], result.metric)
            print(f"  {entry['default']} → {entry['spec']}  (tuned − default on test: {d.difference:+.4f} "
                  f"[{d.low:+.4f}, {d.high:+.4f}])")
    print(f"\nReport: {out / 'report.html'}\nSummary: {out / 'summary.md'}\nResults: {out / 'results.csv'}")
    print(chosen.hint())
    return 0


# ---------------------------------------------------------------------------------------------- tune
def _compare_tuning(values: dict[str, Any]) -> Any:  # -> CompareTuning | None
    if values.get("tune") is None:
        if values.get("storage") is not None:
            raise _usage("--storage needs --tune N")
        return None
    _route_optuna_logs()
    from .study import CompareTuning

    return CompareTuning(trials=values["tune"], storage=values.get("storage"), sampler_seed=values.get("sampler_seed", 0))


def _route_optuna_logs() -> None:
    """Optuna's messages go through ``logging`` (shown with -v) instead of its own stderr handler."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(logging.getLogger().getEffectiveLevel())


def _print_trial(info: dict[str, Any]) -> None:
    value = "pruned" if info["value"] is None else f"{info['value']:.4f}"
    best = "—" if info["best"] is None else f"{info['best']:.4f}"
    training = "".join(f" {k}={v:g}" for k, v in info["training"].items())
    sys.stderr.write(f"imblab: trial {info['number']} ({info['done']}/{info['budget']} finished): {value} "
                     f"(best {best})  {info['spec']}{training}\n")


def _cmd_tune(args: argparse.Namespace) -> int:
    import shlex

    typed = settings.with_defaults(settings.from_args(args, "tune"), "tune")  # every flag, before anything else
    values, tuning = settings.of_role(typed, "setting"), settings.of_role(typed, "tuning")
    executor = _executor(typed)
    _route_optuna_logs()
    from .study import tune

    try:
        result = tune(
            technique=args.technique, trials=tuning["trials"], metric=tuning["tune_metric"], seeds=tuning["tune_seeds"],
            tune_training=bool(tuning["tune_training"]), storage=tuning["storage"], study_name=tuning["study_name"],
            out=args.out, sampler_seed=tuning["sampler_seed"], on_trial=None if args.json else _print_trial,
            executor=executor,
            **values,
        )
    except KeyboardInterrupt:
        sys.stderr.write("imblab: interrupted; finished trials are kept in the storage: run the same command to "
                         "continue\n")
        return 130
    # The command that trains the best trial exactly (its first seed, this split, these settings).
    trained = {**values, "backend": result.backend, **result.training}
    command = shlex.join(["imblab", "train", values["dataset"], "--technique", result.spec,
                          *settings.to_arguments({k: v for k, v in trained.items() if k != "dataset"}, "train")])
    if args.json:
        print(json.dumps({"spec": result.spec, "training": result.training, "value": result.value,
                          "metric": result.metric, "direction": result.direction, "train_command": command,
                          "out": str(result.out) if result.out else None, **result.summary},
                         indent=2, ensure_ascii=False))
        return 0
    from .reporting.terminal import print_tuning

    print_tuning(result.summary)
    training = "".join(f" {k}={v:g}" for k, v in result.training.items())
    print(f"\nBest: {result.spec}{training}  (validation {result.metric.replace('_', '-')} {result.value:.4f}, "
          f"trial {result.summary['best']['number']}; storage {result.storage}, study '{result.study.study_name}')")
    print(f"Train it: {command}")
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
    settings.add_arguments(p, "inspect")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=_cmd_data_inspect)

    p = commands.add_parser("techniques", help="every imbalance technique with parameters and citation")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_techniques)

    p = commands.add_parser("train", help="train one technique, evaluate it, save the model")
    p.add_argument("--technique", default="baseline", help="NAME or NAME:key=value,... (see imblab techniques)")
    settings.add_arguments(p, "train")
    p.add_argument("--out", help="run directory (default: a new folder under ./imblab-runs/)")
    p.add_argument("--json", action="store_true", help="print metrics as JSON")
    p.set_defaults(func=_cmd_train)

    _add_predict_command(commands)
    _add_prior_command(commands)
    _add_serve_command(commands)

    p = commands.add_parser("compare", help="the study: every technique × seeds, statistics, report")
    p.add_argument("--techniques", help="seed (default), all, or SPEC,SPEC,...")
    p.add_argument("--technique", action="append", metavar="SPEC", help="add one technique (repeatable)")
    settings.add_arguments(p, "compare")
    p.add_argument("--config", help="a TOML study file (see examples/); flags override it")
    p.add_argument("--out", help="output folder (default: a new folder under ./imblab-runs/); finished runs are reused")
    p.add_argument("--json", action="store_true", help="print where the outputs are as JSON")
    p.set_defaults(func=_cmd_compare)

    p = commands.add_parser("tune", help="tune a technique's parameters on the validation split (Optuna), print "
                            "the best as a spec")
    p.add_argument("--technique", required=True, metavar="SPEC",
                   help="the technique to tune; parameters the spec sets stay fixed (focal:alpha=0.25 tunes gamma)")
    settings.add_arguments(p, "tune")
    p.add_argument("--out", help="folder of the SQLite storage and the summaries (default: "
                   "imblab-runs/<data>-tuning; with --storage and no --out nothing is written locally)")
    p.add_argument("--json", action="store_true", help="print the best spec and every trial as JSON")
    p.set_defaults(func=_cmd_tune)

    p = commands.add_parser("report", help="re-render the report of a compare output folder")
    p.add_argument("dir", help="the folder imblab compare wrote")
    p.set_defaults(func=_cmd_report)
    return parser


def _add_predict_command(commands: Any) -> None:
    p = commands.add_parser("predict", help="predict labels and probabilities with a saved model")
    p.add_argument("model_dir", help="a run directory or its model/ folder")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    p.add_argument("--file", help="one text per line, or a .csv/.tsv/.jsonl/.json/.parquet with a text column")
    settings.add_arguments(p, "predict")
    p.add_argument("--raw", action="store_true", help="probabilities as trained, without prior correction")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_predict)


def _add_prior_command(commands: Any) -> None:
    p = commands.add_parser("prior", help="estimate the class prior of unlabelled texts (EM or BBSE), with a 95 %% "
                            "interval, beside the training prior")
    p.add_argument("model_dir", help="a run directory (BBSE reads its validation.csv) or a model/ folder")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="unlabelled texts")
    p.add_argument("--file", help="one text per line, or a .csv/.tsv/.jsonl/.json/.parquet with a text column "
                   "(a label column is ignored)")
    p.add_argument("--method", default="auto", choices=("auto", "em", "bbse", "naive"),
                   help="auto (default): bbse with a run directory's validation split, else em; em: Saerens et al. "
                   "2002; bbse: Lipton et al. 2018 (needs a run directory); naive: the share of predicted labels")
    settings.add_arguments(p, "prior")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_prior)


def _cmd_prior(args: argparse.Namespace) -> int:
    _typed(args, "prior")
    model_dir = _model_dir(args.model_dir)  # checked before the texts are read
    texts = _read_texts(args, "nothing to estimate from: give texts as arguments or --file F")
    from .run import estimate_prior

    run_dir = model_dir.parent if model_dir.name == "model" else model_dir
    estimate = estimate_prior(run_dir, texts, method=args.method)
    payload = estimate.to_dict()
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print(f"{payload['method']} estimate from {payload['n']:,} texts, 95 % interval (bootstrap), training prior:")
    width = max(len(label) for label in estimate.labels)
    for label in estimate.labels:
        lo, hi = payload["interval"][label]
        print(f"  {label:<{width}}  {payload['prior'][label]:7.2%}  [{lo:.2%}, {hi:.2%}]   "
              f"training {payload['training_prior'][label]:.2%}")
    if estimate.shifted:
        print("The training prior lies outside the interval: the class mix has moved. Correct to it with "
              "predict --deploy-prior estimate (or LABEL=P).")
    return 0


def _add_serve_command(commands: Any) -> None:
    p = commands.add_parser("serve", help="serve a saved model over HTTP (POST /predict, GET /info, docs at /docs)")
    p.add_argument("model_dir", help="a run directory or its model/ folder")
    settings.add_arguments(p, "serve")
    p.set_defaults(func=_cmd_serve)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """Inside the block SIGTERM unwinds like Ctrl-C, so atomic writes clean up and finished runs are kept — even
    when the interrupt first lands where Python cannot raise it (a weakref callback, a ``__del__``: "Exception
    ignored in …"). Such a KeyboardInterrupt is delivered again, to the main thread's next instruction; without
    that a SIGTERM could be swallowed and a study would run on (CI saw it). Other unraisable exceptions go to the
    hook that was there; it is put back after the block."""
    previous = sys.unraisablehook

    def again(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            import _thread
            import threading

            # From another thread, a moment later: raised now, it would land in this hook and be lost again.
            threading.Timer(0.01, _thread.interrupt_main, (signal.SIGTERM,)).start()
            return
        previous(unraisable)

    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    sys.unraisablehook = again
    try:
        yield
    finally:
        sys.unraisablehook = previous


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
    )
    with interrupts():
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """The command's exit status: 0, 2 with a one-line error, 130 interrupted, 141 when the reader went away."""
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
