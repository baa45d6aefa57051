"""The search space of every technique, derived from its declared parameters: a contract over all presets."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from imblab.errors import SpecError
from imblab.study._tuning._space import build_space, round_value
from imblab.techniques import PRESETS, given_params, list_presets, parse_spec

TWO = ("ham", "spam")
THREE = ("hate_speech", "offensive_language", "neither")
COUNTS = {TWO: np.array([3861, 597]), THREE: np.array([1144, 15352, 3330])}


def _trials(space, n: int = 25, seed: int = 0):  # type: ignore[no-untyped-def]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(n):
        trial = study.ask()
        yield trial, *space.suggest(trial)
        study.tell(trial, 0.0)


@pytest.mark.parametrize("labels", [TWO, THREE], ids=["2 classes", "3 classes"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_every_suggestion_is_a_valid_technique_whose_spec_round_trips(name: str, labels: tuple[str, ...]) -> None:
    preset = PRESETS[name]
    technique = parse_spec(name, list(labels))
    if not preset.tuned_by_default():
        with pytest.raises(SpecError, match="has nothing to tune"):
            build_space(technique, frozenset(), labels, COUNTS[labels])
        return
    space = build_space(technique, frozenset(), labels, COUNTS[labels])
    searched = {d.param for d in space.dimensions}
    assert searched == set(preset.tuned_by_default())
    for _, tuned, training in _trials(space):
        assert training == {}
        assert parse_spec(tuned.spec, list(labels)) == tuned  # the printed spec is exactly the trial's technique
        for dim in space.dimensions:
            if dim.tune.choices or dim.param not in tuned.params:
                continue
            value = tuned.params[dim.param]
            low, high, scale = dim.bounds
            if dim.label is not None:
                assert value[labels[int(np.argmax(COUNTS[labels]))]] == 1.0  # the largest class's weight is fixed
                value = value[dim.label]
            elif scale == "log1m":
                value = 1.0 - value
            assert low * (1 - 1e-2) <= value <= high * (1 + 1e-2), (dim.name, value)


def test_conditional_parameter_is_suggested_only_when_its_condition_holds() -> None:
    space = build_space(parse_spec("class-balanced", list(TWO)), frozenset(), TWO, COUNTS[TWO])
    seen = set()
    for trial, tuned, _ in _trials(space, 30):
        seen.add(tuned.params["loss"])
        assert ("gamma" in trial.params) == (tuned.params["loss"] == "focal")
    assert seen == {"ce", "focal"}


def test_the_spec_fixes_parameters_and_structural_choices_unlock_theirs() -> None:
    spec = "focal:alpha=0.25,posthoc=logit-adjusted-posthoc"
    technique = parse_spec(spec, list(TWO))
    space = build_space(technique, given_params(spec), TWO, COUNTS[TWO])
    assert [d.name for d in space.dimensions] == ["gamma", "tau"]  # tau exists with that post-hoc step
    assert space.fixed_spec == "focal:alpha=0.25,posthoc=logit-adjusted-posthoc"
    for _, tuned, _ in _trials(space, 5):
        assert tuned.params["alpha"] == 0.25 and tuned.params["posthoc"] == "logit-adjusted-posthoc"
    with pytest.raises(SpecError, match="fixes its tunable parameter"):
        build_space(parse_spec("weighted:spam=10", list(TWO)), given_params("weighted:spam=10"), TWO, COUNTS[TWO])


def test_training_settings_are_searched_with_tune_training() -> None:
    baseline = parse_spec("baseline", list(TWO))
    space = build_space(baseline, frozenset(), TWO, COUNTS[TWO], training="C")
    for trial, tuned, training in _trials(space, 10):
        assert tuned == baseline and 1e-2 <= training["C"] <= 1e4
    lr = build_space(baseline, frozenset(), TWO, COUNTS[TWO], training="lr", default_lr=5e-5)
    assert lr.dimensions[0].bounds == pytest.approx((1e-5, 2.5e-4, "log"))


def test_rounding_keeps_three_significant_digits() -> None:
    assert round_value(1.2945817) == 1.29
    assert round_value(0.000123456) == 0.000123
    assert round_value(0.99987654, "log1m") == 0.999877


def test_techniques_json_says_what_is_tuned() -> None:
    listed = {p["name"]: p for p in list_presets()}
    assert listed["baseline"]["tunable"] is False and listed["focal"]["tunable"] is True
    gamma = next(q for q in listed["focal"]["parameters"] if q["name"] == "gamma")
    assert gamma["tune"] == {"low": 0.0, "high": 5.0, "scale": "linear"}
    posthoc = next(q for q in listed["focal"]["parameters"] if q["name"] == "posthoc")
    assert posthoc["tune"] is None
