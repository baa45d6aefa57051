"""`imblab compare --ray` on a real two-node Ray cluster on 127.0.0.1 (issue 13 acceptance).

The cluster runs inside a private network namespace that holds only loopback (``unshare -n``): Ray binds to
the machine's interface whatever ``--node-ip-address`` says, and in the namespace 127.0.0.1 is all there is.
A head node and a second node (``ray start --address``) with one CPU each; the study's driver connects with
``--ray 127.0.0.1:PORT``; a watcher kills one Ray worker process while it runs one of the study's runs;
the study must complete with the sequential results; then ``imblab tune --ray`` runs its trials as Ray tasks
(each scored as in one process); and ``ray stop --force`` (a ``trap`` on EXIT) must leave
no process behind. Needs root (``unshare``), ``ip`` and the ``ray`` extra — all there in CI (``.ci/run``).
About 1–2 minutes on a quiet 2-core machine, most of it Ray's start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.test_study_workers import STUDY, comparable
from tests.integration.test_tune import SMS, assert_n_trials_each_scored_as_in_process
from tests.unit.test_cli_errors import run_cli

PORT = 6390  # free for sure: the namespace has nothing else
RAY = Path(sys.executable).with_name("ray")

SCRIPT = r"""
set -euo pipefail
ip link set lo up
readlink /proc/self/ns/net > "$WORK/netns"
trap '"$RAY" stop --force >/dev/null 2>&1 || true' EXIT
common=(--node-ip-address=127.0.0.1 --num-cpus=1 --object-store-memory=200000000 --disable-usage-stats)
"$RAY" start --head --port="$PORT" --include-dashboard=false --temp-dir="$RAY_TMP" "${common[@]}" >"$WORK/ray.log" 2>&1
"$RAY" start --address="127.0.0.1:$PORT" "${common[@]}" >>"$WORK/ray.log" 2>&1
# The watcher: SIGKILL the first Ray worker process seen running one of the study's runs.
(
  for _ in $(seq 1 6000); do
    pid=$(pgrep -f '^ray::imblab_run_task' | head -n 1 || true)
    if [ -n "$pid" ]; then sleep 0.5; kill -9 "$pid" && echo "$pid" > "$WORK/killed"; exit 0; fi
    sleep 0.05
  done
) &
watcher=$!
"$PYTHON" -m imblab $STUDY --ray "127.0.0.1:$PORT" --out "$WORK/study" --json
wait "$watcher" || true
# Each trial of imblab tune is a Ray task too.
"$PYTHON" -m imblab tune $TUNE --ray "127.0.0.1:$PORT" --out "$WORK/tune" --json > "$WORK/tune.json"
"""


def _processes_in(netns: str) -> list[str]:
    """Command lines of the processes still in the network namespace ``netns`` (``net:[inode]``)."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "net") == netns:
                left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return left


@pytest.mark.slow
def test_study_on_a_two_node_ray_cluster_survives_a_killed_worker(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reference = tmp_path / "sequential"
    assert run_cli(*STUDY, "--out", str(reference)).returncode == 0

    work = tmp_path / "cluster"
    work.mkdir()
    # Ray's sockets live under its temp dir, and a socket's path may not exceed 107 bytes: a short one.
    ray_tmp = Path(tempfile.mkdtemp(prefix="imblab-ray-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(ray_tmp, ignore_errors=True))
    env = {**os.environ, "WORK": str(work), "RAY_TMP": str(ray_tmp), "RAY": str(RAY), "PORT": str(PORT), "PYTHON": sys.executable,
           "STUDY": " ".join(STUDY), "TUNE": " ".join([*SMS, "--technique", "focal", "--trials", "3"]),
           "RAY_USAGE_STATS_ENABLED": "0"}
    started = time.perf_counter()
    result = subprocess.run(["unshare", "-n", "bash", "-c", SCRIPT], env=env, capture_output=True, text=True,
                            timeout=600)
    seconds = time.perf_counter() - started
    log = (work / "ray.log").read_text() if (work / "ray.log").exists() else ""
    assert result.returncode == 0, f"{result.stderr}\n{log}"
    assert "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["runs"] == 6  # Ray's own messages (the retry) went to stderr
    assert (work / "killed").is_file(), "the watcher killed no worker"
    pd.testing.assert_frame_equal(comparable(work / "study"), comparable(reference))
    assert len(list((work / "study" / "runs").iterdir())) == 6
    assert_n_trials_each_scored_as_in_process(work / "tune", json.loads((work / "tune.json").read_text()), 3)

    # The cluster is stopped: nothing is left in its namespace (once `ray stop --force` has reaped it).
    netns = (work / "netns").read_text().strip()
    deadline = time.time() + 30
    while _processes_in(netns) and time.time() < deadline:
        time.sleep(0.5)
    assert not _processes_in(netns), _processes_in(netns)
    print(f"ray cluster study: {seconds:.0f} s")
