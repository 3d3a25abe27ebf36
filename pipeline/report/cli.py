"""`webmix report RUN_DIR`: render the run report as one self-contained HTML page."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.report.collect import collect
from pipeline.report.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webmix report", description=__doc__)
    parser.add_argument("run_dir", help="a run directory (e.g. runs/demo)")
    parser.add_argument("--out", help="the HTML file to write (default RUN_DIR/report.html)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"error: run directory not found: {run_dir}")
        return 2
    out = Path(args.out) if args.out else run_dir / "report.html"
    out.write_text(render(collect(run_dir)), encoding="utf-8")
    print(f"report: {out}")
    return 0
