"""A picture of a real imblab report for the README: headless Chromium, then Pillow to crop and shrink.

    python benchmarks/report_picture.py benchmarks/study_cpu/report.html docs/report.png

The report is rendered as a browser shows it; sections given with ``--hide`` (the long data profile,
per-seed classification reports and setup by default) are hidden with one CSS rule on a temporary
copy, so the picture shows the reading, the results table, the differences and the figures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def render(html: Path, png: Path, *, hide: list[str], width: int, height: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("report_picture: chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        rule = ",".join(f"#{section}" for section in hide)
        style = f"<style>{rule}{{display:none !important}}</style>" if hide else ""
        page.write_text(html.read_text(encoding="utf-8").replace("</head>", style + "</head>", 1), encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp}/profile",
             f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )
        if not shot.is_file():
            sys.exit("report_picture: chromium wrote no screenshot")
        from PIL import Image

        image = Image.open(shot).convert("RGB")
        if image.width > 1100:
            image = image.resize((1100, round(image.height * 1100 / image.width)), Image.LANCZOS)
        png.parent.mkdir(parents=True, exist_ok=True)
        partial = png.with_name(png.name + ".part")
        image.save(partial, format="PNG", optimize=True)
        partial.replace(png)
    print(f"{png}: {image.width}x{image.height}, {png.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--hide", default="data,reports,setup", help="report sections to leave out (ids)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2600)
    args = parser.parse_args()
    render(args.html, args.png, hide=[s for s in args.hide.split(",") if s], width=args.width, height=args.height)


if __name__ == "__main__":
    main()
