"""Study files: the shipped examples parse to the published study; bad files are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from imblab.study import build_study_config, prepare_study
from imblab.errors import SpecError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STUDY = ["baseline", "bias-init", "downsample-upweight", "upsample-downweight", "focal", "weighted", "downsample",
         "upsample", "weighted (spam=10)"]


@pytest.mark.parametrize(("name", "model"), [("seed_study.toml", "roberta-base"), ("seed_study_cpu.toml", None)])
def test_examples_are_the_published_study(name: str, model: str | None) -> None:
    study = prepare_study(build_study_config(EXAMPLES / name))
    assert [t.display_name for t in study.techniques] == STUDY
    assert study.backend == "finetune" and study.config.model == model and study.config.seeds == [0, 1, 2]
    assert study.probes == ["Call to claim your prize!"]
    custom = study.techniques[-1].fit(study.split.take(study.dataset, "train").class_counts, study.labels)
    assert custom.class_weights.tolist() == pytest.approx([0.576, 10.0])


def test_flags_override_the_file() -> None:
    config = build_study_config(EXAMPLES / "seed_study_cpu.toml", backend="tfidf", seeds=2, techniques="baseline")
    assert (config.backend, config.seeds, config.techniques) == ("tfidf", [0, 1], [{"spec": "baseline"}])


@pytest.mark.parametrize(("text", "needle"), [
    ("[training]\nbackend = 'tfidf'\nepoch = 3\n", "epochs"),
    ("[trianing]\n", "techniques"),
    ("[study]\nseeds = 'three'\n", "seeds"),
    ("[[techniques]]\nparams = {}\n", "name"),
    ("[data\n", "cannot parse"),
])
def test_bad_study_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "study.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=needle):
        build_study_config(path)
