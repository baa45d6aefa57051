"""The settings table is the one definition: flags, study-file keys, config fields, checks and fingerprint."""

from __future__ import annotations

import argparse
import math
from dataclasses import fields
from pathlib import Path

import pytest

from imblab import settings
from imblab.cli import build_parser
from imblab.errors import SpecError
from imblab.model import TrainConfig
from imblab.settings import SETTINGS, Integer, Real
from imblab.study import StudyConfig, build_study_config, load_study_file


def _subparser(*path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


COMMANDS = {"inspect": ("data", "inspect"), "train": ("train",), "compare": ("compare",)}


def _bad_values(rule: settings.Rule) -> list[tuple[object, str, str | None]]:
    """Values the rule must refuse, as (Python value, TOML literal, command-line text or None)."""
    bad: list[tuple[object, str, str | None]] = [("three", '"three"', "three"), (True, "true", None)]
    if isinstance(rule, Integer):
        bad.append((2.5, "2.5", "2.5"))
        if rule.at_least is not None:
            bad.append((rule.at_least - 1, str(rule.at_least - 1), str(rule.at_least - 1)))
    if isinstance(rule, Real):
        bad += [(math.nan, "nan", "nan"), (math.inf, "inf", "inf"), (-math.inf, "-inf", "-inf")]
        for edge in (rule.above, None if rule.at_least is None else rule.at_least - 0.5, rule.below):
            if edge is not None:
                bad.append((edge, repr(float(edge)), repr(float(edge))))
    return bad


NUMERIC = [s for s in SETTINGS if isinstance(s.rule, (Integer, Real))]


def test_every_setting_has_a_flag_or_a_file_key_and_a_valid_default() -> None:
    for s in SETTINGS:
        assert s.commands or s.section, s.name
        assert s.help, s.name
        assert s.validate(s.default, s.name) == s.default


def test_config_fields_come_from_the_table() -> None:
    # Besides the table's settings: ``options``, the settings a registered backend declares of its own.
    assert [f.name for f in fields(TrainConfig)] == [s.name for s in SETTINGS if s.train] + ["options"]
    # Besides the table's settings: the techniques, and the costs and deployment prior (decisions, never a run's
    # training: their [costs] table and --costs/--deploy-prior are parsed by the cost module).
    assert [f.name for f in fields(StudyConfig)] == [s.name for s in SETTINGS if s.section] + [
        "techniques", "costs", "deploy_prior", "options"]
    defaults = TrainConfig()
    assert all(getattr(defaults, s.name) == s.default for s in SETTINGS if s.train)


def test_every_flag_is_generated_for_its_commands() -> None:
    for command, path in COMMANDS.items():
        dests = {a.dest: a for a in _subparser(*path)._actions}
        for s in SETTINGS:
            assert (s.name in dests) == (command in s.commands), (command, s.name)
            if command in s.commands and s.option.startswith("--"):
                assert dests[s.name].option_strings == [s.option]


@pytest.mark.parametrize("s", NUMERIC, ids=[s.name for s in NUMERIC])
def test_a_bad_number_is_one_error_naming_the_setting_everywhere(s: settings.Setting, tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    for value, literal, text in _bad_values(s.rule):
        with pytest.raises(SpecError, match=f"^{s.name}=.*: must be ") as python:  # TrainConfig, StudyConfig
            if s.train or s.section:
                (TrainConfig if s.train else StudyConfig)(**{s.name: value})
            else:  # a flag of one command only (train --seed)
                s.validate(value, f"{s.name}={value!r}")
        assert "\n" not in str(python.value)
        if s.section:
            path.write_text(f"[{s.section}]\n{s.name} = {literal}\n")
            with pytest.raises(SpecError) as file_error:
                load_study_file(path)
            assert str(file_error.value).startswith(f"{s.name} = ") and "\n" not in str(file_error.value)
            assert str(file_error.value).endswith(f" in [{s.section}] of {path}: must be {s.rule.allowed}")
        for command, words in COMMANDS.items():
            if text is None or command not in s.commands:
                continue
            dataset = ["x.csv"] if command != "compare" else []
            args = build_parser().parse_args([*words, *dataset, f"{s.option}={text}"])
            with pytest.raises(SpecError) as flag_error:
                settings.from_args(args, command)
            assert str(flag_error.value) == f"{s.option} {text}: must be {s.rule.allowed}"


def test_study_file_lists_allowed_keys_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text("[training]\nepoch = 3\n")
    with pytest.raises(SpecError, match="allowed are backend, model, epochs, batch_size, lr"):
        load_study_file(path)
    path.write_text("[trianing]\n")
    with pytest.raises(SpecError, match="allowed are data, training, study, costs, techniques"):
        load_study_file(path)
    path.write_text('[training]\nbackend = "tfidf"\nC = 2\nepochs = 0\n[study]\nseeds = [3, 5]\n')
    config = load_study_file(path)
    assert (config.C, config.epochs, config.seeds) == (2.0, 0, [3, 5]) and isinstance(config.C, float)


def test_fingerprint_holds_what_changes_a_run_of_the_backend() -> None:
    base = {s.name: s.default for s in SETTINGS}
    assert settings.fingerprint({**base, "backend": "tfidf"}, "tfidf") == {"backend": "tfidf"}
    # C and the metric choose a linear head; the SGD settings do not apply to it
    tfidf = settings.fingerprint({**base, "backend": "tfidf", "C": 2.0, "lr": 0.1, "metric": "spam_recall"}, "tfidf")
    assert tfidf == {"backend": "tfidf", "C": 2.0, "metric": "spam_recall"}
    tuned = settings.fingerprint({**base, "backend": "finetune", "C": 2.0, "lr": 0.1, "metric": "spam_recall"},
                                 "finetune")
    assert tuned == {"backend": "finetune", "lr": 0.1}  # re-ranking a fine-tuned study by another metric is free
    assert "seeds" not in settings.fingerprint({**base, "seeds": [7]}, "tfidf")


def test_overrides_are_checked_and_flags_keep_their_names() -> None:
    assert build_study_config(epochs=2, C=0.5, seeds=2).seeds == [0, 1]
    with pytest.raises(SpecError, match=r"^lr=0: must be a finite number > 0$"):
        build_study_config(lr=0)
    args = build_parser().parse_args(["compare", "--epochs", "2", "--C", "0.5", "--probe", "a", "--probe", "b",
                                      "--dedupe", "--seeds", "4"])
    assert settings.from_args(args, "compare") == {"epochs": 2, "C": 0.5, "probes": ["a", "b"], "dedupe": True,
                                                   "seeds": [0, 1, 2, 3]}


def test_a_switch_named_no_turns_a_setting_off() -> None:
    switch = settings.Setting("reference", settings.STUDY, settings.Switch(), True, "fit it", ("compare",),
                              flag="--no-reference")
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, "compare", table=[switch])
    assert settings.from_args(parser.parse_args(["--no-reference"]), "compare", table=[switch]) == {"reference": False}
    assert settings.from_args(parser.parse_args([]), "compare", table=[switch]) == {}
