"""Technique specs: good specs, canonical forms, lists and groups, and bad specs with helpful errors."""

from __future__ import annotations

import pytest

from imblab.errors import SpecError
from imblab.techniques import PRESETS, Technique, parse_spec, parse_techniques, technique_from_config

LABELS = ["ham", "spam"]


@pytest.mark.parametrize(("spec", "params", "canonical", "display"), [
    ("focal", {"gamma": 2.0, "alpha": None}, "focal", "focal"),
    ("focal:gamma=0", {"gamma": 0.0}, "focal:gamma=0", "focal(gamma=0)"),
    ("focal:gamma=2,alpha=0.25", {"gamma": 2.0, "alpha": 0.25}, "focal:alpha=0.25", "focal(alpha=0.25)"),
    (" focal : alpha = inverse-frequency ", {"alpha": "inverse-frequency"}, "focal:alpha=inverse-frequency",
     "focal(alpha=inverse-frequency)"),
    ("focal:spam=3", {"alpha": {"spam": 3.0}}, "focal:spam=3", "focal(spam=3)"),
    ("weighted:spam=10", {"weights": {"spam": 10.0}}, "weighted:spam=10", "weighted(spam=10)"),
    ("weighted:spam=10,ham=0.5", {"weights": {"ham": 0.5, "spam": 10.0}}, "weighted:ham=0.5,spam=10",
     "weighted(ham=0.5,spam=10)"),
    ("weighted:weights=sqrt-inverse", {"weights": "sqrt-inverse"}, "weighted:weights=sqrt-inverse",
     "weighted(weights=sqrt-inverse)"),
    ("baseline:bias_init=yes", {"bias_init": True}, "baseline:bias_init=true", "baseline(bias_init=true)"),
    ("class-balanced:loss=focal,gamma=1", {"loss": "focal", "gamma": 1.0}, "class-balanced:loss=focal,gamma=1",
     "class-balanced(loss=focal,gamma=1)"),
    ("threshold:recall=0.95,label=spam", {"recall": 0.95, "label": "spam"}, "threshold:recall=0.95,label=spam",
     "threshold(recall=0.95,label=spam)"),
    ("weighted:posthoc=threshold", {"posthoc": "threshold", "recall": None}, "weighted:posthoc=threshold",
     "weighted(posthoc=threshold)"),
    ("baseline:posthoc=logit-adjusted-posthoc,tau=0.5", {"tau": 0.5},
     "baseline:posthoc=logit-adjusted-posthoc,tau=0.5", "baseline(posthoc=logit-adjusted-posthoc,tau=0.5)"),
    ("downsample-upweight:factor=4", {"factor": 4.0}, "downsample-upweight:factor=4", "downsample-upweight(factor=4)"),
])
def test_good_specs(spec, params, canonical, display):
    tech = parse_spec(spec, LABELS)
    assert {k: tech.params[k] for k in params} == params
    assert tech.spec == canonical and tech.display_name == display
    assert parse_spec(tech.spec, LABELS) == tech and hash(parse_spec(tech.spec, LABELS)) == hash(tech)


def test_defaults_are_filled_in_and_json_able():
    tech = parse_spec("ldam-drw", LABELS)
    assert tech.params == {"max_margin": 0.5, "scale": 30.0, "drw_start": 0.8, "beta": 0.9999, "bias_init": False,
                           "posthoc": "none"}
    assert Technique.from_dict(tech.to_dict(), LABELS) == tech
    assert tech.to_dict()["spec"] == "ldam-drw"


def test_list_parsing_splits_on_commas_before_technique_names():
    techs = parse_techniques("baseline,weighted:spam=10,focal:gamma=2,alpha=0.25", LABELS)
    assert [t.spec for t in techs] == ["baseline", "weighted:spam=10", "focal:alpha=0.25"]
    techs = parse_techniques("weighted:spam=10,ham=2,threshold:recall=0.9,label=spam,temperature", LABELS)
    assert [t.display_name for t in techs] == ["weighted(ham=2,spam=10)", "threshold(recall=0.9,label=spam)",
                                               "temperature"]


def test_groups_expand_and_repeats_are_dropped():
    seed = parse_techniques("seed", LABELS)
    assert [t.name for t in seed] == ["baseline", "bias-init", "downsample-upweight", "upsample-downweight", "focal",
                                      "weighted", "downsample", "upsample"]
    assert [t.name for t in parse_techniques("all", LABELS)] == [n for n, p in PRESETS.items() if not p.feature_space]
    assert [t.name for t in parse_techniques("sampling", LABELS)] == [n for n, p in PRESETS.items()
                                                                       if p.feature_space and n != "imblearn"]
    mixed = parse_techniques(["seed", "focal", "focal:gamma=1"], LABELS)
    assert len(mixed) == 9 and mixed[-1].spec == "focal:gamma=1"


def test_technique_from_config_accepts_toml_values():
    a = technique_from_config("weighted", {"weights": {"spam": 10}}, LABELS)
    b = technique_from_config("weighted", {"spam": 10}, LABELS, display_name="spam x10")
    assert a == b == parse_spec("weighted:spam=10", LABELS)
    assert b.display_name == "spam x10"
    c = technique_from_config("focal", {"gamma": 1, "bias_init": True, "alpha": {"ham": 0.25, "spam": 0.75}}, LABELS)
    assert c.params["gamma"] == 1.0 and c.params["bias_init"] is True and c.params["alpha"] == {"ham": 0.25, "spam": 0.75}
    assert technique_from_config("baseline", None, LABELS) == parse_spec("baseline", LABELS)


def test_labels_checked_at_fit_when_unknown_at_parse():
    tech = parse_spec("weighted:spma=10")
    with pytest.raises(SpecError, match="unknown label 'spma'.*ham, spam"):
        tech.fit([10, 2], LABELS)


@pytest.mark.parametrize(("spec", "labels", "pattern"), [
    ("focla", LABELS, r"unknown technique 'focla'; choose from: baseline, bias-init, .*temperature.*did you mean 'focal'"),
    ("", LABELS, "empty technique spec; choose from: baseline"),
    ("focal:gama=2", LABELS, r"unknown label or parameter 'gama' for 'focal'; labels \(LABEL=WEIGHT\): ham, spam; "
                             r"parameters: gamma, alpha, bias_init, posthoc.*did you mean 'gamma'"),
    ("downsample:spam=2,bogus=1", LABELS, r"unknown label or parameter 'bogus' for 'downsample'.*parameters: ratio, weights"),
    ("class-balanced:spam=2", LABELS, r"unknown parameter 'spam' for 'class-balanced'; parameters: beta, loss, gamma"),
    ("focal:gamma=abc", LABELS, r"parameter 'gamma' of 'focal' must be a number ≥ 0, got 'abc'"),
    ("focal:gamma=-1", LABELS, r"must be a number ≥ 0"),
    ("focal:gamma=nan", LABELS, r"must be a number ≥ 0"),
    ("focal:alpha=1.5", LABELS, r"parameter 'alpha' of 'focal' must be none, a number in \(0, 1\)"),
    ("focal:alpha=0.25", ["a", "b", "c"], r"needs 2 classes, there are 3"),
    ("class-balanced:beta=1", LABELS, r"must be a number in \[0, 1\)"),
    ("class-balanced:gamma=1", LABELS, r"'gamma' of 'class-balanced' needs loss=focal"),
    ("baseline:bias_init=maybe", LABELS, r"'bias_init' of 'baseline' must be true or false"),
    ("baseline:posthoc=platt", LABELS, r"must be one of none\|threshold\|temperature\|logit-adjusted-posthoc"),
    ("logit-adjusted:posthoc=logit-adjusted-posthoc", LABELS, r"must be one of none\|threshold\|temperature, got"),
    ("baseline:recall=0.9", LABELS, r"'recall' of 'baseline' needs posthoc=threshold"),
    ("threshold:recall=0.9,precision=0.9", LABELS, "a recall or a precision target, not both"),
    ("threshold:label=spma", LABELS, r"unknown label 'spma' in 'threshold'; labels: ham, spam"),
    ("weighted:spma=10", LABELS, r"unknown label or parameter 'spma' for 'weighted'; labels \(LABEL=WEIGHT\): ham, spam;"
                                 r".*did you mean 'spam'"),
    ("weighted:spam=-1", LABELS, r"weight of label 'spam' in 'weighted' must be a positive number"),
    ("weighted:weights=sqrt-inverse,spam=2", LABELS, "either weights=sqrt-inverse or per-label weights"),
    ("weighted:weights=balanced", LABELS, r"must be none\|inverse-frequency\|sqrt-inverse or LABEL=WEIGHT"),
    ("focal:gamma", LABELS, r"bad parameter 'gamma' in 'focal:gamma'; write KEY=VALUE"),
    ("focal:gamma=1,gamma=2", LABELS, "given twice"),
    ("temperature:posthoc=threshold", LABELS,
     r"unknown label or parameter 'posthoc' for 'temperature'.*parameters: weights, bias_init$"),
])
def test_bad_specs_say_what_is_allowed(spec, labels, pattern):
    with pytest.raises(SpecError, match=pattern):
        parse_spec(spec, labels)


@pytest.mark.parametrize(("text", "pattern"), [
    ("baseline,gamma=2", r"unknown label or parameter 'gamma' for 'baseline'"),
    ("gamma=2,focal", "no technique comes before it"),
    ("baseline,,focal", "empty item"),
    ("baseline,nope", "unknown technique 'nope'"),
    ([], "no techniques given"),
])
def test_bad_lists(text, pattern):
    with pytest.raises(SpecError, match=pattern):
        parse_techniques(text, LABELS)


def test_two_techniques_with_one_display_name_are_rejected():
    a = technique_from_config("focal", {}, LABELS, display_name="mine")
    b = technique_from_config("weighted", {}, LABELS, display_name="mine")
    from imblab.techniques._technique import check_unique
    with pytest.raises(SpecError, match="two techniques are called 'mine'"):
        check_unique([a, b])
