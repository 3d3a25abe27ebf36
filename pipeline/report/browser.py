"""Open a rendered report in headless Chromium: the DOM after the page's scripts ran (to check that
every section and figure rendered) or a screenshot (docs/report.png).

    python -m pipeline.report.browser check runs/demo/report.html
    python -m pipeline.report.browser screenshot runs/demo/report.html docs/report.png
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# No network, no first-run work, no background services: the page is one local file.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, NAMES) if path), None)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium chromium-driver)")
    with tempfile.TemporaryDirectory(prefix="webmix-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout)


def dump_dom(html_path: str | Path, budget_ms: int = 3000, timeout: float = 120) -> str:
    """The page's DOM once its load handlers ran (virtual time lets the figures decode)."""
    done = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", Path(html_path).resolve().as_uri()], timeout)
    if done.returncode != 0 or "<body" not in done.stdout:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-1500:]}")
    return done.stdout


def screenshot(html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 3000,
               timeout: float = 120) -> Path:
    png_path = Path(png_path).resolve()
    done = _run([f"--window-size={width},{height}", "--virtual-time-budget=3000", f"--screenshot={png_path}",
                 Path(html_path).resolve().as_uri()], timeout)
    if done.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"chromium screenshot failed ({done.returncode}): {done.stderr[-1500:]}")
    return png_path


def images_decoded(dom: str) -> tuple[int, int] | None:
    """(decoded, total) from <body data-images="ok/total">, None when the page's script did not run."""
    match = re.search(r'<body[^>]*\sdata-images="(\d+)/(\d+)"', dom)
    return (int(match.group(1)), int(match.group(2))) if match else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.report.browser", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="print how many figures decoded and which sections rendered")
    check.add_argument("html")
    shot = sub.add_parser("screenshot", help="write a PNG of the page")
    shot.add_argument("html")
    shot.add_argument("png")
    shot.add_argument("--width", type=int, default=1200)
    shot.add_argument("--height", type=int, default=3000)
    args = parser.parse_args(argv)
    if args.command == "screenshot":
        print(screenshot(args.html, args.png, args.width, args.height))
        return 0
    dom = dump_dom(args.html)
    decoded = images_decoded(dom)
    print(f"figures decoded: {decoded[0]}/{decoded[1]}" if decoded else "figures: page script did not run")
    print("sections: " + ", ".join(re.findall(r'<section id="([^"]+)"', dom)))
    return 0 if decoded and decoded[0] == decoded[1] else 1


if __name__ == "__main__":
    sys.exit(main())
