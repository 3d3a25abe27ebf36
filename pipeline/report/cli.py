"""`webmix report RUN_DIR`: render the run report as one self-contained HTML page."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core.output import fs_path
from pipeline.report.collect import collect
from pipeline.report.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webmix report", description=__doc__)
    parser.add_argument("run_dir", help="a run directory (e.g. runs/demo)")
    parser.add_argument("--out", help="the HTML file to write, a path or an fsspec URL (default RUN_DIR/report.html)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"error: run directory not found: {run_dir}")
        return 2
    out = args.out or str(run_dir / "report.html")   # a path or any fsspec URL (s3://bucket/report.html)
    fs, path = fs_path(out)
    with fs.open(path, "w", encoding="utf-8") as fh:
        fh.write(render(collect(run_dir)))
    print(f"report: {out}")
    return 0
