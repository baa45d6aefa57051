"""imbalanced-learn's samplers as techniques of the backends with fixed features (tfidf, frozen, hybrid).

A sampler resamples the *training rows' feature vectors* inside a run — SMOTE's synthetic rows, Tomek links' and
ENN's removed ones — seeded by the run's seed; validation and test are never touched. It cannot apply to raw text,
so fine-tuning refuses these techniques before anything runs. The head is then fitted with plain cross-entropy on
the resampled rows, and the resampled class counts are the technique's sampling: synthetic rows count as rows of
their class, so the effective prior — and the correction of the probabilities back to the real prior — is exactly
what upsampling to the same counts gives (Lemaître, Nogueira & Aridas 2017, imbalanced-learn; the samplers'
papers are each preset's citation).

``imblearn:NAME(key=value, ...)`` takes any imbalanced-learn over-, under- or combined sampler by its class name,
its parameters checked by imbalanced-learn before anything runs.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SpecError

__all__ = ["DEFAULT_MAX_SEARCH_ROWS", "SAMPLERS", "SamplerSpec", "build_sampler", "check_search_rows", "parse_imblearn",
           "preset_sampler", "resample", "sampler_text", "search_rows"]

_MODULES = ("over_sampling", "under_sampling", "combine")


@dataclass(frozen=True)
class SamplerSpec:
    """Which imbalanced-learn sampler a technique runs, and with what.

    Attributes:
        cls: its class name (``SMOTE``), in ``imblearn.over_sampling``, ``under_sampling`` or ``combine``.
        kwargs: its constructor's keyword arguments, without ``random_state`` (the run's seed).
        ratio: for over-samplers: each class grows to at least ``ratio`` × the largest class (1: balanced);
            None: the sampler's own ``sampling_strategy``.
        smote: for SMOTETomek / SMOTEENN: the keyword arguments of their inner SMOTE.
    """

    cls: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    ratio: float | None = None
    smote: Mapping[str, Any] | None = None


def _sampler_class(name: str) -> Any:
    import importlib

    for module in _MODULES:
        found = getattr(importlib.import_module(f"imblearn.{module}"), name, None)
        if isinstance(found, type) and name[:1].isupper():
            return found
    known = sorted({n for m in _MODULES for n in getattr(importlib.import_module(f"imblearn.{m}"), "__all__", [])})
    raise SpecError(f"imbalanced-learn has no sampler {name!r}: choose one of {', '.join(known)}")


def _strategy(ratio: float | None, counts: np.ndarray) -> Any:
    """``sampling_strategy`` growing every class to at least ratio × the largest (over-samplers)."""
    if ratio is None:
        return None
    if ratio >= 1.0:
        return "not majority"
    target = math.ceil(ratio * int(counts.max()))
    return {int(c): max(int(n), target) for c, n in enumerate(counts)}


def build_sampler(spec: SamplerSpec, counts: np.ndarray, seed: int) -> Any:
    """The imbalanced-learn sampler of ``spec`` for a training split with ``counts``, seeded, its parameters
    checked (SpecError naming the problem)."""
    cls = _sampler_class(spec.cls)
    kwargs = dict(spec.kwargs)
    strategy = _strategy(spec.ratio, counts)
    if spec.smote is not None:
        from imblearn.over_sampling import SMOTE

        smote_kwargs = dict(spec.smote)
        if strategy is not None:
            smote_kwargs["sampling_strategy"] = strategy
        kwargs["smote"] = SMOTE(random_state=seed, **smote_kwargs)
    elif strategy is not None:
        kwargs["sampling_strategy"] = strategy
    try:
        sampler = cls(**kwargs)
    except TypeError as exc:
        raise SpecError(f"imbalanced-learn's {spec.cls}: {exc}") from None
    if "random_state" in sampler.get_params():
        sampler.set_params(random_state=seed)
    try:
        sampler._validate_params()  # scikit-learn's own check of every parameter's type and range
    except (ValueError, TypeError) as exc:
        raise SpecError(f"imbalanced-learn's {spec.cls}: {str(exc).splitlines()[0]}") from None
    return sampler


def _neighbours(spec: SamplerSpec) -> int:
    """The most neighbours the sampler asks of a class (SMOTE's k_neighbors + 1 rows are needed)."""
    values = [v for k, v in {**spec.kwargs, **(spec.smote or {})}.items()
              if k in ("k_neighbors", "n_neighbors", "m_neighbors") and isinstance(v, int)]
    return max(values, default=0)


def resample(spec: SamplerSpec, features: Any, y: np.ndarray, seed: int, labels: Sequence[str]) -> tuple[Any, np.ndarray]:
    """The training rows resampled by ``spec`` (seeded): (features, labels); only the rows given are seen.

    Raises:
        SpecError: a class with fewer rows than the sampler's neighbourhood needs, or the sampler's own refusal.
    """
    counts = np.bincount(np.asarray(y), minlength=len(labels))
    k = _neighbours(spec)
    if k and spec.cls not in ("TomekLinks",):
        small = [f"{labels[c]} ({n})" for c, n in enumerate(counts) if 0 < n <= k and n < counts.max()]
        if small and spec.cls != "EditedNearestNeighbours":
            raise SpecError(f"{spec.cls} needs more than {k} training rows in every class it oversamples "
                            f"(its neighbours): {', '.join(small)} has fewer; lower k_neighbors")
    sampler = build_sampler(spec, counts, seed)
    try:
        x_res, y_res = sampler.fit_resample(features, np.asarray(y))
    except ValueError as exc:
        raise SpecError(f"imbalanced-learn's {spec.cls} refused the training rows: {str(exc).splitlines()[0]}") from None
    return x_res, np.asarray(y_res, dtype=np.int64)


#: The bound of ``sampler_max_rows`` when none is given: a SMOTE-Tomek run on hate-speech TF-IDF, whose search covers
#: 46,056 rows, takes 215 s against SMOTE's 32 s (benchmarks/RESULTS.md §13); twice the rows, about four times the time.
DEFAULT_MAX_SEARCH_ROWS = 50_000
_NO_SEARCH = ("RandomOverSampler", "RandomUnderSampler")


def search_rows(spec: SamplerSpec, counts: np.ndarray) -> int:
    """How many training rows the nearest-neighbour search of ``spec`` covers on a split with ``counts``: SMOTE's
    the largest class it oversamples (it searches within each class); SMOTE-Tomek's and SMOTE-ENN's every row after
    SMOTE; every other sampler's (ADASYN, the cleaning samplers, any ``imblearn:`` one) every training row; the
    random samplers' none."""
    counts = np.asarray(counts, dtype=np.int64)
    if spec.cls in _NO_SEARCH:
        return 0
    target = math.ceil((spec.ratio if spec.ratio is not None else 1.0) * int(counts.max()))
    if spec.cls == "SMOTE":
        return int(max((n for n in counts if n < target), default=0))
    if spec.smote is not None:
        return int(sum(max(int(n), target) for n in counts))
    return int(counts.sum())


def check_search_rows(spec: SamplerSpec | None, counts: np.ndarray, max_rows: int | None, name: str) -> None:
    """Refuse, before anything runs, a sampler whose nearest-neighbour search would cover more than ``max_rows``
    training rows (None: :data:`DEFAULT_MAX_SEARCH_ROWS`): its time grows with their square (the
    ``sampler_max_rows`` setting).

    Raises:
        SpecError: one line naming the sampler, its rows and the bound.
    """
    if spec is None:
        return
    max_rows = DEFAULT_MAX_SEARCH_ROWS if max_rows is None else max_rows
    rows = search_rows(spec, counts)
    if rows > max_rows:
        raise SpecError(f"{name}'s nearest-neighbour search would cover {rows:,} training rows, more than "
                        f"--sampler-max-rows {max_rows:,} (its time grows with the square of the rows): raise the "
                        "bound, or use upsample, which makes the same classes' rows without a search")


_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", re.DOTALL)


def parse_imblearn(text: str) -> SamplerSpec:
    """``KMeansSMOTE(k_neighbors=3)`` → ``SamplerSpec("KMeansSMOTE", {"k_neighbors": 3})``; the class must be an
    imbalanced-learn sampler and the arguments Python literals (numbers, strings, booleans, None)."""
    match = _CALL.fullmatch(text or "")
    if not match:
        raise SpecError(f"imblearn: expects NAME or NAME(key=value, ...), e.g. imblearn:KMeansSMOTE(k_neighbors=3); "
                        f"got {text!r}")
    name, args = match.group(1), match.group(2)
    kwargs: dict[str, Any] = {}
    if args and args.strip():
        try:
            call = ast.parse(f"f({args})", mode="eval").body
            assert isinstance(call, ast.Call) and not call.args
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg is not None}
            if len(kwargs) != len(call.keywords):
                raise ValueError("**kwargs")
        except (SyntaxError, ValueError, AssertionError):
            raise SpecError(f"imblearn:{text}: the arguments must be key=value with literal values "
                            "(numbers, strings, true/false)") from None
    if "random_state" in kwargs:
        raise SpecError("imblearn: random_state is the run's seed; leave it out")
    _sampler_class(name)
    return SamplerSpec(name, kwargs)


def sampler_text(spec: SamplerSpec) -> str:
    """The canonical text of an ``imblearn:`` sampler: ``KMeansSMOTE(k_neighbors=3)``."""
    args = ", ".join(f"{k}={v!r}" for k, v in sorted(spec.kwargs.items()))
    return f"{spec.cls}({args})" if args else spec.cls


#: preset → (sampler class, whether ``ratio`` applies, whether it wraps a SMOTE, the keyword its neighbours take).
SAMPLERS: dict[str, tuple[str, bool, bool, str | None]] = {
    "smote": ("SMOTE", True, False, "k_neighbors"),
    "borderline-smote": ("BorderlineSMOTE", True, False, "k_neighbors"),
    "adasyn": ("ADASYN", True, False, "n_neighbors"),
    "svm-smote": ("SVMSMOTE", True, False, "k_neighbors"),
    "tomek-links": ("TomekLinks", False, False, None),  # its `which`: the majority row of a link, or both
    "edited-nn": ("EditedNearestNeighbours", False, False, "n_neighbors"),
    "smote-tomek": ("SMOTETomek", True, True, "k_neighbors"),
    "smote-enn": ("SMOTEENN", True, True, "k_neighbors"),
}


def preset_sampler(name: str, params: Mapping[str, Any]) -> SamplerSpec:
    """The :class:`SamplerSpec` of sampler preset ``name`` with resolved ``params`` (``k_neighbors``, ``ratio``)."""
    cls, has_ratio, wraps_smote, neighbours = SAMPLERS[name]
    ratio = float(params["ratio"]) if has_ratio else None
    if name == "tomek-links":
        return SamplerSpec(cls, {"sampling_strategy": "all" if params.get("which") == "both" else "auto"})
    k = params.get("k_neighbors")
    if wraps_smote:
        return SamplerSpec(cls, {}, ratio, {"k_neighbors": int(k)})
    kwargs = {neighbours: int(k)} if neighbours is not None and k is not None else {}
    return SamplerSpec(cls, kwargs, ratio)
