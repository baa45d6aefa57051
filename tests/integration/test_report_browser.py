"""report.html in a real browser: headless Chromium renders it offline, with every plot and no console error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from imblab.study import write_outputs
from tests.unit.test_report import BINARY, synthetic_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium"),
]

# Appended to a copy of the page only: counts the figures the browser actually laid out with a size.
CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var shown = Array.prototype.filter.call(document.querySelectorAll("svg.plot, img"), function (el) {
    var box = el.getBoundingClientRect();
    return box.width > 50 && box.height > 50;
  });
  document.title = "imblab-check plots=" + shown.length + " height=" + document.body.scrollHeight;
});
</script>
"""


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # any network request would fail loudly in the console
        f"--user-data-dir={tmp / 'chromium-profile'}", "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_errors(stderr: str) -> list[str]:
    """Messages the page wrote to the console (our report has no script, so any is an error)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def inspect_page(html: Path, tmp: Path) -> tuple[int, int, list[str]]:
    """(rendered plots, page height, console errors) of ``html`` as Chromium lays it out."""
    probe = tmp / f"check-{html.name}"
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    done = _chromium(tmp, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    title = next((line for line in done.stdout.split("<title>")[1:2]), "").split("</title>")[0]
    if "imblab-check" not in title:
        pytest.fail(f"Chromium did not run the page check (exit {done.returncode}): {done.stderr[-2000:]}")
    fields = dict(part.split("=") for part in title.split()[1:])
    return int(fields["plots"]), int(fields["height"]), _console_errors(done.stderr)


def screenshot(html: Path, tmp: Path) -> Path:
    png = tmp / f"{html.stem}.png"
    done = _chromium(tmp, "--hide-scrollbars", "--window-size=1400,4000", f"--screenshot={png}", html.as_uri())
    if not png.is_file():
        pytest.fail(f"Chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
    assert _console_errors(done.stderr) == []
    return png


def _pixels(png: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(png)[..., :3]


def test_report_renders_in_chromium(tmp_path):
    result = synthetic_result(BINARY)
    paths = write_outputs(result, tmp_path / "study")
    plots, height, errors = inspect_page(paths["report"], tmp_path)
    assert errors == [], errors
    assert plots >= 6, f"only {plots} of 6 plots were rendered with a size"
    assert height > 3000

    png = screenshot(paths["report"], tmp_path)
    assert png.stat().st_size > 50_000
    pixels = _pixels(png)
    assert pixels.shape[:2] == (4000, 1400)
    background = np.all(pixels > 0.93, axis=-1).mean()
    assert background < 0.97, "the screenshot is (nearly) blank"
    colours = len(np.unique((pixels[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert colours > 200, f"the screenshot has only {colours} colours"


def test_page_check_catches_errors_and_missing_plots(tmp_path):
    """The harness can fail: a page with a script error and an empty figure is flagged."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html><head><title>x</title></head><body><h1>broken</h1>'
        '<svg class="plot" width="0" height="0"></svg><script>undefinedFunction();</script></body></html>',
        encoding="utf-8",
    )
    plots, _, errors = inspect_page(broken, tmp_path)
    assert plots == 0
    assert any("undefinedFunction" in e for e in errors)
