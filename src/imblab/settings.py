"""Every setting of imblab, defined once: CLI flags, study-file keys, validation and the study fingerprint.

:data:`SETTINGS` is the one table. From it come the command-line flags of ``imblab data inspect``,
``train`` and ``compare`` (:func:`add_arguments`, :func:`from_args`), the ``[data]``, ``[training]``
and ``[study]`` keys of a study file (:func:`from_study_file`), the fields and checks of
:class:`~imblab.model.TrainConfig` and :class:`~imblab.study.StudyConfig` (:func:`settings_dataclass`),
and the part of a study's fingerprint that says what a stored run means (:func:`fingerprint`).
A bad value is one :class:`~imblab.errors.SpecError` line naming the flag or key and what is allowed.

Adding a setting is one row in :data:`SETTINGS`, e.g. a study-level number of worker processes::

    Setting("workers", STUDY, Integer(at_least=1), 1, "training processes at once", COMPARE),

gives ``imblab compare --workers N``, ``workers = N`` under ``[study]``, ``StudyConfig.workers``, and
the check "an integer ≥ 1" everywhere. ``train=True`` also makes it a ``TrainConfig`` field;
``fingerprint=True`` says that a stored run made with another value is another run (a study folder
then refuses it), for the ``backends`` it applies to. A switch is a :class:`Switch`; named
``--no-...`` (``flag="--no-reference"``, default True) the flag turns it off.
"""

from __future__ import annotations

import argparse
import codecs
import copy
import math
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import SpecError

__all__ = [
    "SETTINGS", "BackendName", "declare_backend", "forget_backend", "of_role", "Workers", "backend_names", "backends_using", "split_options", "Setting", "Rule", "to_arguments", "Integer", "Real", "Choice", "Text", "Switch", "Texts", "Seeds", "LabelNames",
    "Encoding", "add_arguments", "from_args", "from_study_file", "fingerprint", "settings_dataclass", "setting",
    "resolve_metric", "train_settings", "with_defaults", "SECTIONS",
]


# ---------------------------------------------------------------------------------------------- rules
class Rule:
    """A setting's type and allowed values: ``check`` a typed value, ``parse`` a command-line text."""

    metavar = "VALUE"
    annotation = "Any"

    @property
    def allowed(self) -> str:
        """What is allowed, for messages: "an integer ≥ 0"."""
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        """``value`` (normalised) if allowed, else ``ValueError``."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        return self.check(text)

    def show(self, value: Any) -> str:
        """``value`` as ``--help`` shows it."""
        return str(value)


MAX_INTEGER = 2**31 - 1
"""The largest integer setting (a count, an epoch number, a seed of the split): every count is bounded."""


@dataclass(frozen=True)
class Integer(Rule):
    at_least: int | None = None
    at_most: int = MAX_INTEGER
    metavar = "N"
    annotation = "int | None"

    @property
    def allowed(self) -> str:
        return "an integer" + (f" ≥ {self.at_least}" if self.at_least is not None else "")

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(self.allowed)
        if self.at_least is not None and value < self.at_least:
            raise ValueError(self.allowed)
        if value > self.at_most:
            raise ValueError(f"{self.allowed} and ≤ {self.at_most:,}")
        return value

    def parse(self, text: str) -> int:
        if len(text.strip()) > 40:  # int() of a huge digit string is slow; no allowed value is that long
            raise ValueError(f"{self.allowed} and ≤ {self.at_most:,}")
        try:
            return self.check(int(text))
        except ValueError:
            raise ValueError(self.allowed) from None


@dataclass(frozen=True)
class Real(Rule):
    """A finite number; ``above``/``below`` are open bounds, ``at_least``/``at_most`` closed ones."""

    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    metavar = "X"
    annotation = "float | None"

    @property
    def allowed(self) -> str:
        low = (f"({self.above:g}" if self.above is not None else f"[{self.at_least:g}"
               if self.at_least is not None else None)
        if low and self.at_most is not None:
            return f"a number in {low}, {self.at_most:g}]"
        if low and self.below is not None:
            return f"a number in {low}, {self.below:g})"
        if low:
            return f"a finite number {'>' if self.above is not None else '≥'} {low[1:]}"
        return "a finite number" + (f" < {self.below:g}" if self.below is not None else "")

    def check(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(self.allowed)
        if ((self.above is not None and value <= self.above) or (self.at_least is not None and value < self.at_least)
                or (self.below is not None and value >= self.below) or (self.at_most is not None and value > self.at_most)):
            raise ValueError(self.allowed)
        return float(value)

    def parse(self, text: str) -> float:
        try:
            return self.check(float(text))
        except ValueError:
            raise ValueError(self.allowed) from None


@dataclass(frozen=True)
class Choice(Rule):
    options: tuple[str, ...]
    annotation = "str | None"

    def choices(self) -> tuple[str, ...]:
        return self.options

    @property
    def metavar(self) -> str:  # type: ignore[override]
        return "{" + ",".join(self.choices()) + "}"

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(self.choices())

    def check(self, value: Any) -> str:
        if value not in self.choices():
            raise ValueError(self.allowed)
        return str(value)


@dataclass(frozen=True)
class BackendName(Choice):
    """``auto`` or the name of a declared backend (:func:`declare_backend`): the choices as they stand now."""

    options: tuple[str, ...] = ()

    def choices(self) -> tuple[str, ...]:
        return ("auto", *backend_names())

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(self.choices()) + ", or several (a study compares them: tfidf,hybrid)"

    def check(self, value: Any) -> str:
        """A name, or several (``"tfidf,hybrid"`` or a list): a study's backends, kept as one comma-joined string."""
        names = value if isinstance(value, (list, tuple)) else str(value).split(",") if isinstance(value, str) else [value]
        if not names or not all(isinstance(n, str) and n.strip() in self.choices() for n in names):
            raise ValueError(self.allowed)
        names = [n.strip() for n in names]
        if len(set(names)) != len(names):
            raise ValueError(f"each backend once, not {','.join(names)}")
        return ",".join(names)


@dataclass(frozen=True)
class Workers(Rule):
    """A number of local worker processes, or ``auto`` (one per GPU, else one per core)."""

    metavar = "N"
    annotation = "int | str | None"
    allowed = "a number of processes in [1, 1,024] or auto"  # type: ignore[assignment]

    def check(self, value: Any) -> int | str:
        if value == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
            raise ValueError(self.allowed)
        return value

    def parse(self, text: str) -> int | str:
        if text == "auto":
            return "auto"
        try:
            return self.check(int(text) if len(text.strip()) <= 10 else 0)
        except ValueError:
            raise ValueError(self.allowed) from None


@dataclass(frozen=True)
class Text(Rule):
    """A non-empty text."""

    metavar = "TEXT"
    annotation = "str | None"
    allowed = "a non-empty text"  # type: ignore[assignment]

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(self.allowed)
        return value


@dataclass(frozen=True)
class Encoding(Text):
    """A text encoding Python knows (``utf-8``, ``latin-1``, ``cp1252``, ...)."""

    metavar = "NAME"
    allowed = "a text encoding such as utf-8, latin-1 or cp1252"  # type: ignore[assignment]

    def check(self, value: Any) -> str:
        try:
            codecs.lookup(super().check(value))
        except LookupError:
            raise ValueError(self.allowed) from None
        return str(value)


@dataclass(frozen=True)
class Switch(Rule):
    """true or false; on the command line a flag without a value."""

    annotation = "bool"
    allowed = "true or false"  # type: ignore[assignment]

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(self.allowed)
        return value


@dataclass(frozen=True)
class Texts(Rule):
    """A list of texts; on the command line a flag given once per text."""

    metavar = "TEXT"
    annotation = "list[str] | None"
    allowed = "a list of texts"  # type: ignore[assignment]

    def check(self, value: Any) -> list[str]:
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(self.allowed)
        return list(value)

    def parse(self, text: str) -> list[str]:
        return [text]


_MAX_SEED = 2**32 - 1  # NumPy's and torch's seeds
MAX_SEEDS = 1000  # seeds of one study: a thousand runs per technique is beyond any use, and bounds the plan


@dataclass(frozen=True)
class Seeds(Rule):
    """A count (3 → seeds 0, 1, 2) or a list of distinct seeds."""

    metavar = "N"
    annotation = "list[int]"
    allowed = (f"a count in [1, {MAX_SEEDS}] or a list of at most {MAX_SEEDS} distinct integers in "  # type: ignore[assignment]
               f"[0, {_MAX_SEED}]")

    def check(self, value: Any) -> list[int]:
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SEEDS:
            return list(range(value))
        if (isinstance(value, (list, tuple)) and value and len(value) <= MAX_SEEDS and len(set(value)) == len(value)
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= _MAX_SEED for s in value)):
            return list(value)
        raise ValueError(self.allowed)

    def show(self, value: Any) -> str:
        return str(len(value)) if value == list(range(len(value))) else str(value)

    def parse(self, text: str) -> list[int]:
        rule = f"a count in [1, {MAX_SEEDS}]"
        try:
            count = int(text) if len(text.strip()) <= 40 else 0
        except ValueError:
            raise ValueError(rule) from None
        if not 1 <= count <= MAX_SEEDS:
            raise ValueError(rule)
        return self.check(count)


@dataclass(frozen=True)
class LabelNames(Rule):
    """``"0=ham,1=spam"``, names for the sorted raw labels, or (in a study file) a list or a table."""

    metavar = "NAMES"
    annotation = "str | dict[str, str] | list[str] | None"
    allowed = "a text such as 0=ham,1=spam, a list of names, or a table of raw label = name"  # type: ignore[assignment]

    def check(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
        if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
            return {str(k): v for k, v in value.items()}
        raise ValueError(self.allowed)


# ---------------------------------------------------------------------------------------------- the table
DATA, TRAINING, STUDY = "data", "training", "study"
SECTIONS = (DATA, TRAINING, STUDY)
"""The study-file sections, in file order (``[[techniques]]`` is the list of techniques)."""
EVERYWHERE, TRAIN_COMPARE, COMPARE = ("inspect", "train", "compare", "tune"), ("train", "compare"), ("compare",)
TRAINING_EVERYWHERE = ("train", "compare", "tune")
DECIDING, EXECUTING, TUNING = ("train", "predict", "serve", "compare"), ("compare", "tune"), ("compare", "tune")
WHERE = "where the {work} go (default: one after the other in this process)"
SERVING = ("serve",)  # the training settings each of imblab tune's trials takes
# The groups of training settings a backend may take (a backend declares which: :func:`declare_backend`).
SGD, HEADS, ENCODERS, POOLING = "sgd", "head", "encoder", "pooling"


@dataclass(frozen=True)
class Setting:
    """One setting.

    Attributes:
        name: the field of ``StudyConfig``/``TrainConfig``, the study-file key, the flag ``--name-with-dashes``.
        section: the study-file section (``data``, ``training``, ``study``); None: not in study files.
        rule: the type and allowed values.
        default: the value when it is not given (None: the data's or the backend's own default).
        help: one line for ``--help``.
        commands: the commands with a flag for it (``inspect`` is ``imblab data inspect``).
        train: a ``TrainConfig`` field (what one run is trained with).
        fingerprint: a run stored with another value is another run (for the backends it applies to).
        uses: the group of settings it belongs to (``sgd``, ``head``, ``encoder``, ``pooling``): it applies to the
            backends that declare that group (None: to every backend).
        flag: the flag when it is not ``--name-with-dashes``; a name without dashes is a positional argument.
        role: ``setting`` (what a run or a study is made with), or what a command does with it and never part of
            a run: ``decision`` (costs, the deployment prior), ``execution`` (where the runs go), ``tuning``.
        const: the value of the flag given without one (``--workers`` alone: ``auto``).
        group: the ``--help`` group when it is not the section's (``{work}``: runs, or trials for tune).
        metavar: the value's name in ``--help`` when it is not the rule's.
        aliases, alias_commands: other flags for it, on those commands (``--prior`` on predict).
    """

    name: str
    section: str | None
    rule: Rule
    default: Any
    help: str
    commands: tuple[str, ...] = ()
    train: bool = False
    fingerprint: bool = False
    uses: str | None = None
    flag: str = ""
    role: str = "setting"
    const: Any = None
    group: str | None = None
    metavar: str | None = None
    aliases: tuple[str, ...] = ()
    alias_commands: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def validate(self, value: Any, where: str) -> Any:
        """``value`` normalised (None stays None: "the default"); ``SpecError`` naming ``where`` otherwise."""
        if value is None:
            return None
        try:
            return self.rule.check(value)
        except ValueError as exc:
            raise SpecError(f"{where}: must be {exc}") from None


SETTINGS: tuple[Setting, ...] = (
    # name, section, rule, default, help, commands with a flag, then what it means for a run
    Setting("dataset", DATA, Text(), "sms_spam", "built-in name (sms_spam, hate_speech), a .csv/.tsv/.jsonl/.json/"
            ".parquet file (also .gz/.bz2/.xz/.zst/.zip) or a Hugging Face save_to_disk folder", EVERYWHERE,
            flag="dataset"),
    Setting("text_column", DATA, Text(), None, "column holding the text (default: auto-detected)",
            (*EVERYWHERE, "predict", "prior")),
    Setting("label_column", DATA, Text(), None, "column holding the label (default: auto-detected)", EVERYWHERE),
    Setting("label_names", DATA, LabelNames(), None, "rename labels: 0=ham,1=spam or names for the sorted raw labels",
            EVERYWHERE),
    Setting("encoding", DATA, Encoding(), "utf-8", "file encoding", (*EVERYWHERE, "predict", "prior")),
    Setting("dedupe", DATA, Switch(), False, "keep only the first row of each distinct text", EVERYWHERE),
    Setting("limit", DATA, Integer(at_least=1), None, "stratified subsample of N rows before splitting", TRAINING_EVERYWHERE),
    Setting("split_seed", DATA, Integer(at_least=0, at_most=_MAX_SEED), 42, "seed of the train/validation/test split", EVERYWHERE),
    Setting("val_fraction", DATA, Real(above=0, below=1), 0.1, "validation share", EVERYWHERE),
    Setting("test_fraction", DATA, Real(above=0, below=1), 0.1, "test share", EVERYWHERE),
    Setting("backend", TRAINING, BackendName(), "auto", "auto: finetune with a CUDA GPU, else tfidf",
            TRAINING_EVERYWHERE, fingerprint=True),
    Setting("model", TRAINING, Text(), None, "Hugging Face id or local path (default: the bundled all-MiniLM-L6-v2)",
            TRAINING_EVERYWHERE, fingerprint=True, uses=ENCODERS),
    Setting("epochs", TRAINING, Integer(at_least=0), None, "training epochs (0: the model as initialised)",
            TRAINING_EVERYWHERE, train=True, fingerprint=True),
    Setting("batch_size", TRAINING, Integer(at_least=1), None, "examples per step", TRAINING_EVERYWHERE, train=True,
            fingerprint=True, uses=SGD),
    Setting("lr", TRAINING, Real(above=0), None, "peak learning rate (AdamW, linear warm-up and decay)", TRAINING_EVERYWHERE,
            train=True, fingerprint=True, uses=SGD),
    Setting("weight_decay", TRAINING, Real(at_least=0), None, "AdamW weight decay", TRAIN_COMPARE, train=True,
            fingerprint=True, uses=SGD),
    Setting("warmup_ratio", TRAINING, Real(at_least=0, below=1), None, "share of steps warming the learning rate up",
            TRAIN_COMPARE, train=True, fingerprint=True, uses=SGD),
    Setting("max_grad_norm", TRAINING, Real(above=0), None, "gradient clipping norm", TRAIN_COMPARE, train=True,
            fingerprint=True, uses=SGD),
    Setting("patience", TRAINING, Integer(at_least=1), None, "stop after N epochs without a better validation "
            "macro-F1 (default: train every epoch)", TRAIN_COMPARE, train=True, fingerprint=True, uses=SGD),
    Setting("mixed_precision", TRAINING, Choice(("auto", "bf16", "no")), None, "what a transformer computes in "
            "(fine-tuning, embedding, predicting); auto: bf16 on a GPU or CPU (AVX512-BF16, AMX) that has it",
            TRAIN_COMPARE, train=True, fingerprint=True, uses=ENCODERS),
    Setting("max_length", TRAINING, Integer(at_least=2), 128, "max tokens per text", TRAINING_EVERYWHERE, train=True,
            fingerprint=True, uses=ENCODERS),
    Setting("pooling", TRAINING, Choice(("mean", "cls")), "mean", "how token embeddings become one",
            TRAIN_COMPARE, train=True, fingerprint=True, uses=POOLING),
    Setting("C", TRAINING, Real(above=0), None, "inverse L2 strength of the linear head (default: chosen on "
            "validation by --metric)", TRAIN_COMPARE, train=True, fingerprint=True, uses=HEADS, flag="--C"),
    Setting("sampler_max_rows", TRAINING, Integer(at_least=1), None, "most training rows the nearest-neighbour "
            "search of a feature-space sampler (smote, tomek-links, imblearn:...) may cover (default: 50,000); its "
            "time grows with their square, so a sampler over more is refused before anything runs", TRAIN_COMPARE,
            train=True, uses=HEADS),
    Setting("seed", None, Integer(at_least=0, at_most=_MAX_SEED), 0, "training seed", ("train",)),
    Setting("seeds", STUDY, Seeds(), [0, 1, 2], "seeds per technique: a count (a study file may also list them)",
            COMPARE),
    Setting("metric", STUDY, Text(), "macro_f1", "the metric that ranks techniques and chooses C (e.g. macro-f1, "
            "spam-recall, pr-auc)", TRAIN_COMPARE, train=True, fingerprint=True, uses=HEADS),
    Setting("probes", STUDY, Texts(), None, "a text whose probabilities are reported (repeatable)", TRAIN_COMPARE,
            flag="--probe"),
    Setting("keep_models", STUDY, Choice(("all", "best", "none")), None, "which runs keep their model: all, "
            "best (the median seed of the best technique) or none (default: all for tfidf/frozen, best for finetune)",
            COMPARE),
    Setting("reference", STUDY, Switch(), True, "skip the scikit-learn reference (TF-IDF + balanced "
            "LogisticRegression, C chosen on validation)", COMPARE, flag="--no-reference"),
    # Decisions: never part of a run (a re-run with other costs retrains nothing); a study file's [costs] table.
    Setting("costs", None, Text(), None, "what an error costs: a missed positive (fn) and a false alarm (fp), the "
            "positive label explicit or the minority; or a TOML file whose [costs] table holds a matrix (true × "
            "predicted) for more than two labels. Decisions then minimise the expected cost (Elkan 2001)", DECIDING,
            role="decision", metavar="fn=N,fp=N[,positive=LABEL] | FILE.toml"),
    Setting("deploy_prior", None, Text(), None, "the class mix in production, e.g. spam=0.02 (one label may be left "
            "out: it gets the rest; default: the training prior); probabilities are corrected to it (Saerens et al. "
            "2002); predict: estimate takes it from the texts being predicted (EM)", DECIDING, role="decision",
            metavar="LABEL=P,...", aliases=("--prior",), alias_commands=("predict",)),
    # Where the runs (or a tuning's trials) go: never part of a run's numbers.
    Setting("workers", None, Workers(), None, "run N {work} at once in local processes (without N: one per GPU, "
            "else one per core)", EXECUTING, role="execution", const="auto", group=WHERE),
    Setting("ray", None, Text(), None, "run each of the {work} as a task on a running Ray cluster: HOST:PORT of its "
            'head, or without ADDRESS the one RAY_ADDRESS names or this machine runs (pip install "imblab[ray]")',
            EXECUTING, role="execution", const="auto", group=WHERE, metavar="ADDRESS"),
    Setting("cpus_per_run", None, Real(above=0), None, "CPUs each Ray task asks for (default: 1)", EXECUTING,
            role="execution", group=WHERE, metavar="N"),
    Setting("gpus_per_run", None, Real(at_least=0), None, "GPUs each Ray task asks for (default: 1 on a cluster "
            "with GPUs, else 0)", EXECUTING, role="execution", group=WHERE, metavar="N"),
    Setting("ray_timeout", None, Real(above=0, below=3601), None, "seconds to wait for the Ray cluster's head to "
            "answer (default: 30)", EXECUTING, role="execution", group=WHERE, metavar="SECONDS"),
    # Serving: imblab serve.
    Setting("host", None, Text(), "127.0.0.1", "address to listen on (127.0.0.1: this machine only; 0.0.0.0 for "
            "every interface)", SERVING, role="serving", metavar="HOST"),
    Setting("port", None, Integer(at_least=1, at_most=65535), 8000, "port", SERVING, role="serving", metavar="PORT"),
    Setting("max_batch", None, Integer(at_least=1), 64, "most texts per forward pass when gathering concurrent "
            "requests (1: no batching)", SERVING, role="serving", metavar="MAX_BATCH"),
    Setting("max_wait_ms", None, Real(at_least=0, at_most=10_000), 5.0, "how long a request waits for others to "
            "share its forward pass (0: no batching)", SERVING, role="serving", metavar="MAX_WAIT_MS"),
    Setting("api_key", None, Text(), None, "require the header X-API-Key: KEY on /predict and /info (default: "
            "$IMBLAB_API_KEY, else none)", SERVING, role="serving", metavar="API_KEY"),
    Setting("prior_window", None, Integer(at_least=2, at_most=10_000_000), 5000, "how many recent texts the live "
            "class-prior estimate reads (GET /prior, /metrics: EM on the model's outputs, no labels needed)", SERVING,
            role="serving", metavar="N"),
    Setting("max_texts", None, Integer(at_least=1), None, "texts per request (default: 1000)", SERVING,
            role="serving", metavar="MAX_TEXTS"),
    Setting("max_chars", None, Integer(at_least=1), None, "characters per text; longer texts are cut (default: "
            "10000)", SERVING, role="serving", metavar="MAX_CHARS"),
    Setting("max_body_bytes", None, Integer(at_least=1), None, "bytes per request body (default: 4194304)", SERVING,
            role="serving", metavar="MAX_BODY_BYTES"),
    Setting("access_log", None, Switch(), True, "do not log one line per request", SERVING, role="serving",
            flag="--no-access-log"),
    Setting("serve_workers", None, Integer(at_least=1, at_most=64), 1, "server processes sharing the port, each "
            "with its own copy of the model (one per core: one Python process answers on one core); their metrics "
            "add up", SERVING, role="serving", flag="--workers", metavar="N"),
    # Tuning: imblab tune, and compare --tune.
    Setting("tune", None, Integer(at_least=1), None, "tune each technique first with N trials on the validation "
            "split, then compare it at its defaults and tuned ('NAME (tuned)')", COMPARE, role="tuning"),
    Setting("trials", None, Integer(at_least=1), 30, "finished trials the study ends with", ("tune",), role="tuning"),
    Setting("tune_metric", None, Text(), "macro-f1", "the validation metric to optimise", ("tune",), role="tuning",
            flag="--metric", metavar="METRIC"),
    Setting("tune_seeds", None, Integer(at_least=1, at_most=MAX_SEEDS), 1, "training seeds per trial; the objective "
            "is their mean", ("tune",), role="tuning", flag="--seeds", metavar="SEEDS"),
    Setting("tune_training", None, Switch(), False, "also tune the linear head's C (tfidf, frozen) or the learning "
            "rate (finetune)", ("tune",), role="tuning"),
    Setting("study_name", None, Text(), None, "the storage study (default: the technique and its fixed "
            "parameters, e.g. focal)", ("tune",), role="tuning", metavar="STUDY_NAME"),
    Setting("storage", None, Text(), None, "an SQLAlchemy URL shared by several processes, e.g. "
            "postgresql+psycopg://user:pw@host/db (default: sqlite:///DIR/tuning.db)", TUNING, role="tuning",
            metavar="URL"),
    Setting("sampler_seed", None, Integer(at_least=0), 0, "seed of the TPE sampler", TUNING, role="tuning",
            metavar="SAMPLER_SEED"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


# ---------------------------------------------------------------------------------------------- backends
@dataclass(frozen=True)
class _Declared:
    uses: frozenset[str]
    settings: tuple[Setting, ...]


_BACKENDS: dict[str, _Declared] = {}


def declare_backend(name: str, uses: Sequence[str] = (), settings: Sequence[Setting] = ()) -> None:
    """Make the backend ``name`` known to the table: the groups of settings it takes (``sgd``, ``head``,
    ``encoder``, ``pooling``) and settings of its own (flags, study-file keys; their values reach the backend
    through ``TrainConfig.options``). :func:`imblab.backends.register_backend` calls this.

    Raises:
        SpecError: a setting of its own whose name another setting has.
    """
    taken = {s.name for s in SETTINGS} | {s.name for other, d in _BACKENDS.items() if other != name for s in d.settings}
    clash = [s.name for s in settings if s.name in taken]
    if clash:
        raise SpecError(f"backend {name!r}: a setting called {clash[0]!r} exists already")
    _BACKENDS[name] = _Declared(frozenset(uses), tuple(settings))


def forget_backend(name: str) -> None:
    """Undo :func:`declare_backend` (its settings leave the table)."""
    _BACKENDS.pop(name, None)


def backend_names() -> tuple[str, ...]:
    """The declared backends, in declaration order."""
    return tuple(_BACKENDS)


def backends_using(group: str) -> list[str]:
    """The declared backends that take the settings of ``group``."""
    return [name for name, declared in _BACKENDS.items() if group in declared.uses]


def _table() -> tuple[Setting, ...]:
    """The whole table: :data:`SETTINGS` and the settings of the declared backends."""
    return SETTINGS + tuple(s for declared in _BACKENDS.values() for s in declared.settings)


def _is_option(s: Setting) -> bool:
    """A declared backend's own setting: its value travels in ``options``, not as a config field."""
    return s.name not in _BY_NAME


def _applies(s: Setting, backend: str) -> bool:
    declared = _BACKENDS.get(backend)
    if _is_option(s):
        return declared is not None and s in declared.settings
    return s.uses is None or (declared is not None and s.uses in declared.uses)


def of_role(values: Mapping[str, Any], role: str) -> dict[str, Any]:
    """The entries of ``values`` whose setting has ``role`` (``setting``, ``decision``, ``execution``, ``tuning``)."""
    roles = {s.name: s.role for s in _table()}
    return {k: v for k, v in values.items() if roles.get(k, "setting") == role}


def split_options(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` as (the table's own settings, the declared backends' own settings: ``options``)."""
    own = {s.name for s in _table() if _is_option(s)}
    return ({k: v for k, v in values.items() if k not in own},
            {k: v for k, v in values.items() if k in own and v is not None})
for _s in SETTINGS:  # a default its own rule refuses is a mistake in the table: fail at import, not in a run
    _s.validate(_s.default, f"the default of {_s.name}")


def setting(name: str) -> Setting:
    """The setting called ``name``."""
    return _BY_NAME[name]


def _help(s: Setting, command: str = "") -> str:
    """``--help`` text: what it is, what it allows, its default, the backends it applies to."""
    plain = isinstance(s.rule, (Text, Texts, Switch, Choice, BackendName, LabelNames, Seeds))
    allowed = "" if plain else f"; {s.rule.allowed}"
    default = "" if s.default is None or isinstance(s.rule, Switch) else f"; default: {s.rule.show(s.default)}"
    only = "" if s.uses is None or s.section != TRAINING else f"; {', '.join(backends_using(s.uses))} only"
    text = f"{s.help}{allowed}{default}{only}".replace("{work}", _work(command))
    return text.replace("%", "%%")


def _work(command: str) -> str:
    """What a command's executor carries out: a tuning's trials, a study's runs."""
    return "trials" if command == "tune" else "runs"


# ---------------------------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser, command: str, table: Sequence[Setting] | None = None) -> None:
    """Add the flags of ``command`` (``inspect``, ``train``, ``compare``), grouped by study-file section.

    Values stay text here (absent: None); :func:`from_args` checks them, so that every bad value is one
    line naming the flag.
    """
    groups: dict[str | None, Any] = {}
    for s in _table() if table is None else table:
        if command not in s.commands:
            continue
        title = s.group.replace("{work}", _work(command)) if s.group else f"{s.section or command} settings"
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        group = groups[title]
        names = (s.option, *(s.aliases if command in s.alias_commands else ()))
        metavar = s.metavar or s.rule.metavar
        if not s.option.startswith("-"):  # positional; a study file may give it to compare
            group.add_argument(s.name, nargs="?" if command == "compare" else None, default=None, help=_help(s, command))
        elif isinstance(s.rule, Switch):  # --dedupe sets True; a flag named --no-... sets False
            group.add_argument(*names, dest=s.name, action="store_const", const=not s.option.startswith("--no-"),
                               default=None, help=_help(s, command))
        elif isinstance(s.rule, Texts):
            group.add_argument(*names, dest=s.name, action="append", default=None, metavar=metavar,
                               help=_help(s, command))
        elif s.const is not None:  # the flag alone means the const: --workers is --workers auto
            group.add_argument(*names, dest=s.name, nargs="?", const=s.const, default=None, metavar=metavar,
                               help=_help(s, command))
        else:
            group.add_argument(*names, dest=s.name, default=None, metavar=metavar, help=_help(s, command))


def from_args(args: argparse.Namespace, command: str, table: Sequence[Setting] | None = None) -> dict[str, Any]:
    """The settings given as flags of ``command``, checked and typed (absent ones are left out).

    Raises:
        SpecError: a bad value, naming the flag and what it allows: ``--epochs -1: must be an integer ≥ 0``.
    """
    values: dict[str, Any] = {}
    for s in _table() if table is None else table:
        raw = getattr(args, s.name, None) if command in s.commands else None
        if raw is None:
            continue
        if isinstance(s.rule, Switch):
            values[s.name] = bool(raw)
            continue
        parsed = []
        for text in raw if isinstance(s.rule, Texts) else [raw]:
            try:
                parsed.append(s.rule.parse(text))
            except ValueError as exc:
                raise SpecError(f"{s.option} {shlex.quote(text)}: must be {exc}") from None
        values[s.name] = [p for ps in parsed for p in ps] if isinstance(s.rule, Texts) else parsed[0]
    return values


def to_arguments(values: Mapping[str, Any], command: str) -> list[str]:
    """The flags of ``command`` that give ``values`` (settings at their default are left out): the inverse
    of :func:`from_args`, e.g. to print the ``imblab train`` command that rebuilds a study's run."""
    out: list[str] = []
    values = {**values, **(values.get("options") or {})}
    for s in _table():
        value = values.get(s.name)
        if command not in s.commands or not s.option.startswith("-") or value is None or value == s.default:
            continue
        if isinstance(s.rule, Switch):
            if bool(value) == (not s.option.startswith("--no-")):
                out.append(s.option)
        elif isinstance(s.rule, Texts):
            for text in value:
                out += [s.option, str(text)]
        elif isinstance(value, Mapping):
            out += [s.option, ",".join(f"{k}={v}" for k, v in value.items())]
        elif isinstance(value, (list, tuple)):
            out += [s.option, ",".join(map(str, value))]
        else:
            out += [s.option, str(value)]
    return out


def with_defaults(values: Mapping[str, Any], command: str) -> dict[str, Any]:
    """Every setting of ``command``: ``values`` over the table's defaults."""
    return {s.name: values.get(s.name, copy.deepcopy(s.default)) for s in _table() if command in s.commands}


# ---------------------------------------------------------------------------------------------- study files
#: Other names of a setting in a study file: ``backends = ["tfidf", "hybrid"]`` reads better for a list.
_FILE_ALIASES = {"backends": "backend"}


def from_study_file(doc: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """The settings of a parsed study file (sections other than ``[[techniques]]``), checked and typed.

    Raises:
        SpecError: an unknown section or key (naming the allowed ones), or a bad value (naming the key).
    """
    values: dict[str, Any] = {}
    for section, table in doc.items():
        if section == "techniques":
            continue
        if section not in SECTIONS or not isinstance(table, dict):
            allowed = ", ".join([*SECTIONS, "costs", "techniques"])
            raise SpecError(f"unknown section [{section}] in {path}: allowed are {allowed}")
        keys = {s.name: s for s in _table() if s.section == section}
        for key, value in table.items():
            if key in _FILE_ALIASES and _FILE_ALIASES[key] in keys:
                if _FILE_ALIASES[key] in table:
                    raise SpecError(f"[{section}] of {path} gives both {key} and {_FILE_ALIASES[key]}: give one")
                key = _FILE_ALIASES[key]
            if key not in keys:
                raise SpecError(f"unknown key {key!r} in [{section}] of {path}: allowed are {', '.join(keys)}")
            values[key] = keys[key].validate(value, f"{key} = {value!r} in [{section}] of {path}")
    return values


# ---------------------------------------------------------------------------------------------- configs
T = TypeVar("T")


def settings_dataclass(select: Callable[[Setting], bool]) -> Callable[[type[T]], type[T]]:
    """Make a class a dataclass whose fields are the selected settings (then the class's own fields).

    Every selected field is checked (and normalised) on construction and by ``dataclasses.replace``:
    a bad value is a ``SpecError`` naming the field and what it allows.
    """

    def build(cls: type[T]) -> type[T]:
        chosen = [s for s in SETTINGS if select(s)]
        own = dict(cls.__dict__.get("__annotations__", {}))
        cls.__annotations__ = {**{s.name: s.rule.annotation for s in chosen}, **own}
        for s in chosen:
            mutable = isinstance(s.default, (list, dict))
            setattr(cls, s.name, field(default_factory=lambda d=s.default: copy.deepcopy(d)) if mutable
                    else field(default=s.default))
        after = cls.__dict__.get("__post_init__")

        def __post_init__(self: Any) -> None:
            for s in chosen:
                setattr(self, s.name, s.validate(getattr(self, s.name), f"{s.name}={getattr(self, s.name)!r}"))
            if after is not None:
                after(self)

        cls.__post_init__ = __post_init__  # type: ignore[attr-defined]
        return dataclass(cls)

    return build


def train_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``TrainConfig`` settings given in ``values`` (None: the backend's default, left out); the declared
    backends' own settings under ``options``."""
    values = {**values, **(values.get("options") or {})}
    out = {s.name: values[s.name] for s in SETTINGS if s.train and values.get(s.name) is not None}
    options = {s.name: values[s.name] for s in _table() if _is_option(s) and s.train and values.get(s.name) is not None}
    return {**out, "options": options} if options else out


# ---------------------------------------------------------------------------------------------- fingerprint
def fingerprint(values: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """The settings that say what a stored run of ``backend`` means: those marked ``fingerprint`` that apply
    to ``backend`` (to any of ``"tfidf,hybrid"``'s) and differ from their default (so that a new setting leaves
    old study folders valid)."""
    values = {**values, **(values.get("options") or {})}
    backends = backend.split(",")
    return {
        s.name: values[s.name] for s in _table()
        if s.fingerprint and any(_applies(s, b) for b in backends) and values.get(s.name) is not None
        and values[s.name] != s.default
    }


def resolve_metric(name: str, labels: list[str]) -> str:
    """``macro-f1`` → ``macro_f1``, ``spam-recall`` → ``spam_recall``; unknown names list the allowed ones."""
    from .evaluation import metric_order, normalise_metric

    key = normalise_metric(name)
    allowed = metric_order(labels)
    for candidate in allowed:
        if candidate.lower() == key.lower():
            return candidate
    shown = ", ".join(m.replace("_", "-") for m in allowed)
    raise SpecError(f"unknown metric {name!r}: choose one of {shown}")
