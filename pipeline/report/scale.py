"""The road to a CommonCrawl snapshot: the per-core figures benches record, multiplied out.

A bench run with `--record RUN` keeps its per-core figure in RUN/scale/<stage>.json (the bench
command, when, the load average, the seconds, the peak memory, notes); the run report's section
"The road to a snapshot" (pipeline/report/sections.py) multiplies each stage's latest figure by what
one snapshot gives that stage to do: core-hours, each stage's share and the bottleneck, each figure
beside the bench run that produced it. docs/scale.md holds the reasoning around them (partitions,
shuffle sizes, Spark settings).

    python -m pipeline.report.scale RUN/scale     # print the projection from the recorded figures
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SCALE_DIR = "scale"
# What one snapshot (2.5-3.0 B pages in ~90,000 WARC files) gives each stage to do: unit, (low,
# middle, high); the reasons are in docs/scale.md "A snapshot, multiplied out".
SNAPSHOT = {
    "quality_filter": ("pages", (2.5e9, 2.7e9, 3.0e9)),
    "dedup": ("documents", (0.8e9, 1.0e9, 1.0e9)),           # the filter keeps ~30%; room for curated sources
    "tokenize_corpus": ("tokens", (150e9, 300e9, 500e9)),    # FineWeb: ~150 B tokens a snapshot
}


RECORD_HELP = "keep this run's per-core figure in RUN/scale for the run report's snapshot section"


def command_line(argv: list[str] | None = None) -> str:
    """A bench's command as the section shows it: bench/<script> and its arguments, --record left out."""
    argv = list(sys.argv if argv is None else argv)
    words = ["bench/" + Path(argv[0]).name]
    skip = False
    for word in argv[1:]:
        if skip or word.startswith("--record="):
            skip = False
            continue
        skip = word == "--record"
        if not skip:
            words.append(word)
    return " ".join(words)


def record(run_dir: str | Path, stage: str, *, items: float, seconds: float, cores: int, bench: str,
           peak_memory: str = "", notes: list[str] | tuple = ()) -> Path:
    """Keep one bench figure (`items` of the stage's unit in `seconds` on `cores` cores) as the
    stage's latest in RUN/scale; returns its file."""
    if stage not in SNAPSHOT:
        raise ValueError(f"unknown stage {stage!r} (known: {', '.join(SNAPSHOT)})")
    folder = Path(run_dir) / SCALE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    figure = {"stage": stage, "unit": SNAPSHOT[stage][0], "items": items, "seconds": seconds, "cores": cores,
              "per_core": items / seconds / cores, "bench": bench, "peak_memory": peak_memory,
              "notes": list(notes), "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "load_average": round(os.getloadavg()[0], 1), "machine_cores": os.cpu_count()}
    path = folder / f"{stage}.json"
    path.write_text(json.dumps(figure, indent=2) + "\n", encoding="utf-8")
    return path


def read_figures(folder: Path) -> list[dict]:
    """The recorded figures in the order of the chain (SNAPSHOT's order)."""
    found = {}
    for path in Path(folder).glob("*.json"):
        figure = json.loads(path.read_text(encoding="utf-8"))
        if figure.get("stage") in SNAPSHOT:
            found[figure["stage"]] = figure
    return [found[s] for s in SNAPSHOT if s in found]


def projection(figures: list[dict]) -> list[dict]:
    """Per stage: core-hours for the snapshot's (low, middle, high) input and its share of the total."""
    rows = []
    for figure in figures:
        _, amounts = SNAPSHOT[figure["stage"]]
        rows.append({**figure, "input": amounts, "core_hours": [a / figure["per_core"] / 3600 for a in amounts]})
    total = sum(r["core_hours"][1] for r in rows)
    for r in rows:
        r["share"] = r["core_hours"][1] / total if total else 0.0
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.report.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="RUN/scale: the figures benches recorded with --record RUN")
    args = parser.parse_args(argv)
    rows = projection(read_figures(Path(args.folder)))
    if not rows:
        print(f"error: no bench figures in {args.folder} (run a bench with --record RUN)", file=sys.stderr)
        return 2
    for r in rows:
        print(f"{r['stage']:<16} {r['per_core']:>10,.1f} {r['unit']}/s/core  {r['core_hours'][1]:>10,.0f} core-hours"
              f"  {100 * r['share']:3.0f}%  ({r['bench']}, {r['at']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
