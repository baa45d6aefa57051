"""Issue 21, "nothing lost when a folder only looks like ours": each finding as a test that reproduces it.

The rule under test: a folder is imblab's only when it carries imblab's marker for that kind of folder
(a study, a run, a model) **and** holds nothing imblab does not write there; anything else is one line,
exit 2, nothing touched. Every file read from a folder a user hands imblab is a regular file of bounded
size; every number from a user or a file is range-checked before arithmetic.

Runs are small (TF-IDF, 600 rows). The CLI runs in this process through ``imblab.cli.main`` where a hang
or a memory blow-up cannot happen any more; the cases that used to hang or eat memory run in a subprocess
with a timeout (and a memory limit), so that a regression fails the test instead of taking CI down.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from imblab.cli import main
from tests.integration.test_cli_robustness import cli
from tests.unit.test_cli_errors import assert_one_line_error

SMALL = ("--backend", "tfidf", "--limit", "600")


def subprocess_cli(*args: str, timeout: float = 120, memory_bytes: int | None = None,
                   env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``imblab ARGS`` in a child process, killed after ``timeout`` s; with ``memory_bytes``, under that address-
    space limit (a runaway read fails the child, never the machine)."""
    def limit() -> None:
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run([sys.executable, "-m", "imblab", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, env=env)


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links not followed) with the sha256 of each file: equal snapshots, equal trees."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[key] = "link:" + os.readlink(path)
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[key] = "dir"
    return out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("train") / "run"
    assert main(["train", "sms_spam", *SMALL, "--out", str(out), "--json"]) == 0
    return out


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("study") / "study"
    assert main(["compare", "sms_spam", *SMALL, "--techniques", "baseline,weighted", "--seeds", "1",
                 "--out", str(out)]) == 0
    return out


# ------------------------------------------------------------------------------------------- data loss (1, 2)
def test_1_train_out_holding_a_model_copy_and_user_files_is_refused(trained_run: Path, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "M"
    shutil.copytree(trained_run / "model", mine)  # a valid imblab.json ...
    (mine / "notes.txt").write_text("my notes")  # ... and the user's own files
    (mine / "mydata").mkdir()
    (mine / "mydata" / "important.csv").write_text("a,b\n1,2\n")
    before = snapshot(mine)
    result = cli(capsys, "train", "sms_spam", *SMALL, "--out", mine)
    assert_one_line_error(result, str(mine), "imblab did not make")
    assert snapshot(mine) == before
    assert [p.name for p in tmp_path.iterdir()] == ["M"]  # nothing written beside it either


def test_1_a_model_folder_imblab_made_is_still_replaced(trained_run: Path, tmp_path: Path, capsys) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    assert cli(capsys, "train", "sms_spam", *SMALL, "--seed", "1", "--out", model).returncode == 0
    assert json.loads((model / "metrics.json").read_text())["seed"] == 1  # replaced by the new run


def test_2_compare_out_with_a_foreign_study_json_is_refused(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "U"
    mine.mkdir()
    (mine / "study.json").write_text('{"project": "x"}')
    (mine / "results.csv").write_text("my,results\n1,2\n")
    (mine / "summary.md").write_text("# my summary\n")
    before = snapshot(mine)
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline", "--seeds", "1", "--out", mine)
    assert_one_line_error(result, str(mine), "imblab did not make")
    assert snapshot(mine) == before


def test_2_a_study_of_imblab_with_a_user_file_added_is_refused(small_study: Path, tmp_path: Path, capsys) -> None:
    study = tmp_path / "study"
    shutil.copytree(small_study, study)
    (study / "my-analysis.ipynb").write_text("{}")
    before = snapshot(study)
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline,weighted", "--seeds", "1",
                 "--out", study)
    assert_one_line_error(result, "imblab did not make")
    assert snapshot(study) == before


def test_2_a_folder_holding_only_tuning_is_not_a_study(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "T"
    (mine / "tuning").mkdir(parents=True)
    (mine / "tuning" / "mine.json").write_text("{}")
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline", "--seeds", "1", "--out", mine)
    assert_one_line_error(result, "imblab did not make")
    assert snapshot(mine) == {"tuning": "dir", "tuning/mine.json": hashlib.sha256(b"{}").hexdigest()}


def test_2_an_old_study_without_the_marker_is_still_resumed(small_study: Path, tmp_path: Path, capsys) -> None:
    study = tmp_path / "old"
    shutil.copytree(small_study, study)
    (study / ".imblab").unlink()  # as imblab wrote it before the marker existed
    stamps = {p: p.stat().st_mtime_ns for p in study.glob("runs/*/metrics.json")}
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline,weighted", "--seeds", "1",
                 "--out", study)
    assert result.returncode == 0, result.stderr
    assert len(stamps) == 2 and {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing retrained
    assert (study / ".imblab").is_file()  # and marked now


# ------------------------------------------------------------------------------- wrong result / refused (3, 4)
def test_3_a_bare_carriage_return_in_a_text_trains_predicts_and_compares(tmp_path: Path, shared_data: Path,
                                                                          capsys) -> None:
    rows = [line.split("\t", 1) for line in
            (shared_data / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[:600]]
    frame = pd.DataFrame({"text": [t if i % 7 else t.replace(" ", "\r", 1) for i, (_, t) in enumerate(rows)],
                          "label": [label for label, _ in rows]})
    data = tmp_path / "cr.csv"
    frame.to_csv(data, index=False)  # pandas quotes nothing here but a comma: the \r stays bare inside quotes
    run = tmp_path / "run"
    assert cli(capsys, "train", data, "--backend", "tfidf", "--out", run).returncode == 0
    from imblab.run import read_run

    stored = read_run(run)
    assert stored.predictions["text"].str.contains("\r").any()  # read back whole, \r included
    study = tmp_path / "study"
    result = cli(capsys, "compare", data, "--backend", "tfidf", "--techniques", "baseline", "--seeds", "1",
                 "--out", study)
    assert result.returncode == 0, result.stderr
    assert read_run(study / "reference").predictions["text"].str.contains("\r").any()


def _tiny_bert(root: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from imblab.backends import resolve_model_name

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(None))
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=37, max_position_embeddings=128))
    path = root / "tiny-bert"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_4_a_finetune_model_holding_encoder_only_weights_is_refused(tmp_path: Path, capsys) -> None:
    encoder = _tiny_bert(tmp_path)
    run = tmp_path / "run"
    assert cli(capsys, "train", "sms_spam", "--backend", "finetune", "--model", encoder, "--limit", "300",
               "--epochs", "1", "--max-length", "32", "--out", run).returncode == 0
    assert cli(capsys, "predict", run, "hello").returncode == 0
    # The user swaps in encoder-only weights (no classification head): transformers would initialise the head at random.
    shutil.copy(encoder / "model.safetensors", run / "model" / "transformer" / "model.safetensors")
    result = cli(capsys, "predict", run, "Call to claim your prize!")
    assert_one_line_error(result, "classifier", "not the whole fine-tuned model")


# --------------------------------------------------------------------------------------- tracebacks (5 to 16)
@pytest.mark.parametrize("target", ["empty", "run"])
def test_5_out_a_symbolic_link_is_refused_before_training(trained_run: Path, tmp_path: Path, target: str,
                                                           capsys) -> None:
    pointed = tmp_path / "pointed"
    if target == "run":
        shutil.copytree(trained_run, pointed)
    else:
        pointed.mkdir()
    link = tmp_path / "link"
    link.symlink_to(pointed)
    before = snapshot(tmp_path)
    started = time.monotonic()
    result = cli(capsys, "train", "sms_spam", *SMALL, "--out", link)
    assert_one_line_error(result, "symbolic link", str(pointed))
    assert snapshot(tmp_path) == before  # no .link.*.old, the link and what it points to untouched
    assert time.monotonic() - started < 20  # refused before training


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")
def test_6_out_a_mount_point_is_refused_before_training(tmp_path: Path, capsys) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "imblab-test", str(mount)], check=True)
    try:
        assert os.path.ismount(mount)
        result = cli(capsys, "train", "sms_spam", *SMALL, "--out", mount)
        assert_one_line_error(result, "mount point")
        assert os.listdir(mount) == [] and sorted(os.listdir(tmp_path)) == ["mnt"]
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_7_a_300_digit_cost_in_a_study_file_is_one_line(tmp_path: Path, capsys) -> None:
    study_file = tmp_path / "study.toml"
    study_file.write_text('[data]\ndataset = "sms_spam"\nlimit = 600\n[training]\nbackend = "tfidf"\n'
                          '[costs]\nlabels = ["ham", "spam"]\nmatrix = [[0, 1], [1' + "0" * 300 + ', 0]]\n')
    result = cli(capsys, "compare", "--config", study_file, "--out", tmp_path / "out")
    assert_one_line_error(result, "at most 1e+12")
    assert not (tmp_path / "out").exists()
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--costs", "fn=1" + "0" * 400 + ",fp=1",
                 "--out", tmp_path / "out")
    assert_one_line_error(result, "fn")


def _damage_metrics(study: Path, value: object) -> Path:
    run = sorted((study / "runs").iterdir())[0]
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["test_flat"]["macro_f1"] = value
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


@pytest.mark.parametrize("value", ["x", float("nan")], ids=["string", "nan"])
def test_8_a_metrics_json_with_bad_numbers_is_damaged_and_retrained(small_study: Path, tmp_path: Path, value,
                                                                     capsys) -> None:
    study = tmp_path / "study"
    shutil.copytree(small_study, study)
    run = _damage_metrics(study, value)
    result = cli(capsys, "report", study)
    assert_one_line_error(result, "metrics.json is damaged", "macro_f1", "trains it again")
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline,weighted", "--seeds", "1",
                 "--out", study)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads((run / "metrics.json").read_text())["test_flat"]["macro_f1"], float)
    results = pd.read_csv(study / "results.csv")
    assert results.notna().all().all() or results.filter(like="macro_f1").notna().all().all()


@pytest.mark.parametrize("entry", [".locks", "runs"])
def test_9_locks_or_runs_a_file_is_one_line(small_study: Path, tmp_path: Path, entry: str, capsys) -> None:
    study = tmp_path / "study"
    shutil.copytree(small_study, study)
    shutil.rmtree(study / entry)
    (study / entry).write_text("not a folder")
    before = snapshot(study)
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline,weighted", "--seeds", "1",
                 "--out", study)
    assert_one_line_error(result, entry, "a file")
    assert snapshot(study) == before


def test_10_a_frozen_model_whose_encoder_is_pickled_is_refused_and_not_served(tmp_path: Path, capsys) -> None:
    import torch
    from safetensors.torch import load_file

    encoder = _tiny_bert(tmp_path)
    run = tmp_path / "run"
    assert cli(capsys, "train", "sms_spam", "--backend", "frozen", "--model", encoder, "--limit", "300",
               "--max-length", "32", "--out", run).returncode == 0
    # Now the encoder's weights as a pickle only (what an old checkpoint or an attacker would leave).
    torch.save(load_file(encoder / "model.safetensors"), encoder / "pytorch_model.bin")
    (encoder / "model.safetensors").unlink()
    from imblab.backends._encoders import model_identity

    # As an imblab before the fix stored it, trained on that encoder: the identity matches, the weights are pickled.
    meta = json.loads((run / "model" / "imblab.json").read_text())
    meta["backend"]["settings"]["model_identity"] = model_identity(str(encoder))
    (run / "model" / "imblab.json").write_text(json.dumps(meta))
    result = cli(capsys, "predict", run, "hello")
    assert_one_line_error(result, "pytorch_model.bin")
    from tests.integration.test_serve import free_port

    # 127.0.0.1 (serve's default); refused before it serves, and killed at the timeout if it ever did serve.
    served = subprocess_cli("serve", run, "--port", str(free_port()), timeout=120)
    assert_one_line_error(served, "pytorch_model.bin")  # the server does not start with a model it cannot use


def test_11_huge_class_counts_are_one_line(trained_run: Path, tmp_path: Path, capsys) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    meta = json.loads((model / "imblab.json").read_text())
    meta["class_counts"] = [10**400, 1]
    (model / "imblab.json").write_text(json.dumps(meta))
    result = cli(capsys, "predict", model, "hello")
    assert_one_line_error(result, "class_counts")


def test_12_a_storage_url_without_its_driver_names_the_driver(tmp_path: Path, capsys) -> None:
    result = cli(capsys, "tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "1",
                 "--storage", "mysql://user:pw@127.0.0.1:1/db", "--out", tmp_path / "t")
    line = assert_one_line_error(result, "driver", "MySQLdb")
    assert "pw" not in line  # the password stays masked


def test_13_a_huge_seed_count_is_one_line_at_once(capsys) -> None:
    started = time.monotonic()
    result = cli(capsys, "compare", "sms_spam", "--seeds", "99999999999999")
    assert_one_line_error(result, "--seeds", "1000")
    result = cli(capsys, "compare", "sms_spam", "--limit", "9" * 5000)
    assert_one_line_error(result, "--limit")
    result = cli(capsys, "tune", "sms_spam", "--technique", "focal", "--seeds", "99999999999999")
    assert_one_line_error(result, "--seeds")
    assert time.monotonic() - started < 30


def test_14_an_sqlite_storage_that_cannot_be_written_fails_within_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess_cli("tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "1",
                            "--storage", "sqlite:////proc/x.db", "--out", tmp_path / "t", timeout=90)
    assert_one_line_error(result, "/proc", "not writable")
    assert time.monotonic() - started < 60


def test_15_a_ray_address_where_nothing_listens_is_one_line_before_writing(tmp_path: Path, capsys) -> None:
    import ray  # noqa: F401 - the ray extra, part of the dev extra: this test runs, never skips
    out = tmp_path / "study"
    started = time.monotonic()
    result = cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline", "--seeds", "1",
                 "--ray", "127.0.0.1:1", "--ray-timeout", "5", "--out", out)
    assert_one_line_error(result, "127.0.0.1:1")
    assert not out.exists()  # nothing written: no study.json
    assert time.monotonic() - started < 30


def test_16_a_model_file_linked_to_dev_zero_is_refused_without_reading(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    (model / "tfidf.json").unlink()
    (model / "tfidf.json").symlink_to("/dev/zero")
    # 6 GiB of address space: torch and scikit-learn load; reading /dev/zero would exhaust it, not the machine.
    result = subprocess_cli("predict", model, "hello", timeout=180, memory_bytes=6 << 30)
    assert_one_line_error(result, "tfidf.json", "not a regular file")


def test_16_a_fifo_in_a_model_folder_is_refused_without_blocking(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    (model / "head.safetensors").unlink()
    os.mkfifo(model / "head.safetensors")
    result = subprocess_cli("predict", model, "hello", timeout=180)
    assert_one_line_error(result, "head.safetensors", "not a regular file")


# ------------------------------------------------------------------------------------------------- smaller
def test_per_run_csv_cells_cannot_run_as_formulas_and_read_back_exactly(tmp_path: Path, shared_data: Path,
                                                                         capsys) -> None:
    rows = [line.split("\t", 1) for line in
            (shared_data / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[:600]]
    hostile = ['=HYPERLINK("http://x","click")', "=cmd|' /C calc'!A0", "@SUM(A1)", "'quoted already", "+1 call now"]
    texts = [hostile[i % len(hostile)] + " " + t if i % 5 == 0 else t for i, (_, t) in enumerate(rows)]
    data = tmp_path / "hostile.csv"
    pd.DataFrame({"text": texts, "label": [label for label, _ in rows]}).to_csv(data, index=False)
    run = tmp_path / "run"
    assert cli(capsys, "train", data, "--backend", "tfidf", "--out", run).returncode == 0
    import csv

    for name in ("predictions.csv", "validation.csv"):
        with (run / name).open(newline="", encoding="utf-8") as fh:
            cells = [cell for row in csv.reader(fh) for cell in row]
        assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))], name
    from imblab.run import read_run

    stored = read_run(run)
    test_texts = set(stored.predictions["text"])
    assert test_texts <= set(texts)  # every text read back exactly as given, prefixes undone
    assert any(t.startswith(tuple(hostile)) for t in test_texts)


def test_a_killed_train_leaves_nothing_a_rerun_does_not_remove(tmp_path: Path, capsys) -> None:
    out = tmp_path / "X"
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # a pid that is gone: the writer SIGKILLed mid-write
    leftover = tmp_path / f".X.p{process.pid}.abcd1234.partial"
    (leftover / "model").mkdir(parents=True)
    alive = tmp_path / f".X.p{os.getppid()}.efgh5678.partial"  # a live writer's folder is never touched
    alive.mkdir()
    assert cli(capsys, "train", "sms_spam", *SMALL, "--out", out).returncode == 0
    assert not leftover.exists() and alive.exists()


def test_a_real_sigkill_during_train_leaves_only_what_a_rerun_removes(tmp_path: Path) -> None:
    out = tmp_path / "X"
    process = subprocess.Popen([sys.executable, "-m", "imblab", "train", "sms_spam", *SMALL, "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(tmp_path.glob(".X.*.partial")) and process.poll() is None:
        time.sleep(0.005)
    process.kill()
    process.wait()
    # Killed while writing (a partial folder exists) or just before/after it: either way a re-run leaves only X.
    result = subprocess_cli("train", "sms_spam", *SMALL, "--out", out, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X"]


def test_tuning_db_gets_the_umask_and_a_users_own_tuning_db_is_refused(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        out = tmp_path / "tuned"
        result = subprocess_cli("tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "1", "--out", out,
                                timeout=600)
        assert result.returncode == 0, result.stderr
        assert (out / "tuning.db").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)
    mine = tmp_path / "mine"
    mine.mkdir()
    with sqlite3.connect(mine / "tuning.db") as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('mine')")
    before = snapshot(mine)
    result = subprocess_cli("tune", "sms_spam", *SMALL, "--technique", "focal", "--trials", "1", "--out", mine)
    assert_one_line_error(result, "imblab did not make")
    assert snapshot(mine) == before


def test_summary_md_escapes_markdown_in_probe_texts(tmp_path: Path, capsys) -> None:
    probe = "Win $5 **now** `run` [x](y) ~gone~"
    out = tmp_path / "study"
    assert cli(capsys, "compare", "sms_spam", *SMALL, "--techniques", "baseline", "--seeds", "1", "--probe", probe,
               "--out", out).returncode == 0
    summary = (out / "summary.md").read_text()
    assert r"Win \$5 \*\*now\*\* \`run\` [x\](y) \~gone\~" in summary
    assert probe not in summary


def test_a_non_ascii_api_key_is_refused_at_start(trained_run: Path) -> None:
    result = subprocess_cli("serve", trained_run, "--api-key", "schlüssel", timeout=120)
    assert_one_line_error(result, "API key", "ASCII")


def test_messages_name_the_problem(tmp_path: Path, capsys) -> None:
    assert_one_line_error(cli(capsys, "data", "inspect", "/dev/zero"), "/dev/zero", "not a regular file")
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("".join(json.dumps({"text": i, "label": i % 2}) + "\n" for i in range(40)))
    assert_one_line_error(cli(capsys, "data", "inspect", numbers), "int values, not texts")
    several = tmp_path / "several.csv"
    several.write_text("text,message,label\n" + "".join(f"a{i},b{i},{i % 2}\n" for i in range(40)))
    assert_one_line_error(cli(capsys, "data", "inspect", several), "several text columns (text, message)")


def test_matplotlib_writes_nothing_in_the_home_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    env.update(HOME=str(home), IMBLAB_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess_cli("compare", "sms_spam", *SMALL, "--techniques", "baseline", "--seeds", "1",
                            "--out", tmp_path / "out", timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert not (home / ".cache" / "matplotlib").exists() and not (home / ".config" / "matplotlib").exists()
    assert (tmp_path / "cache" / "matplotlib").is_dir()
