"""Extraction quality and speed on the seven gold sets, tune and check parts, against trafilatura and
resiliparse's main-content pass measured in the same run.

    .venv/bin/python bench/extraction.py                       # every set, both parts, the report
    .venv/bin/python bench/extraction.py --docs docs/extraction.md   # ... and rewrite its table
    .venv/bin/python bench/extraction.py --part tune --bootstrap 0 -e webmix   # while tuning

Pages: the six sets of ../shared/realdata/html/extraction_gold and the Scrapinghub AEB set (pages
with non-empty gold), split by bench/extraction_split.tsv (sha1(set/id) mod 10 < 7: tune). Scores:
the shared evaluation tool's (bench/extraction_suite.py). Reported:

- per set and part: precision / recall / F1 with bootstrap 95% half-widths, empty outputs;
- the goal: pooled by page over the six non-AEB sets' check parts, F1(webmix) − F1(trafilatura)
  with a paired-bootstrap interval (AEB, where the rules were first written, apart);
- speed: pages per CPU-second of webmix and resiliparse main content on the same pages in the same
  order, one process, process_time per call, one warm-up call excluded, median of `--rounds` runs.

trafilatura (the `bench` extra) runs once per page and version: its outputs and CPU times are
cached under runs/extraction_cache/ (gitignored), since it takes minutes on the full suite.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import extraction_suite as suite  # noqa: E402
from pipeline.text.extract import ExtractCaps, extract_page  # noqa: E402

OURS = {"webmix": {}, "webmix-comments": {"keep_comments": True}, "webmix-nocomments": {"keep_comments": False},
        "main_content": {"mode": "main_content"}, "full_page": {"mode": "full_page"}}
CACHED = ("trafilatura", "trafilatura-precision", "justext")
DEFAULT_EXTRACTORS = ["webmix", "resiliparse-main", "trafilatura"]
DOCS_BEGIN, DOCS_END = "<!-- extraction-table:begin -->", "<!-- extraction-table:end -->"


def extractor(name: str, tool):
    """(callable, cache version or None)."""
    if name in OURS:
        caps = ExtractCaps(**OURS[name])
        return (lambda html, url: extract_page(html, url, caps)[0] or ""), None
    func = tool.BUILTINS[name]()
    if name in CACHED:
        from importlib.metadata import version
        return func, version("trafilatura" if name.startswith("trafilatura") else "jusText")
    return func, None


def speed(funcs: dict, pages, rounds: int) -> dict[str, float]:
    """Median over rounds of pages per CPU-second; in each round every extractor runs over the
    same pages in the same order."""
    rates = {name: [] for name in funcs}
    for _ in range(rounds):
        for name, func in funcs.items():
            _, seconds = suite.run_extractor(func, pages)
            rates[name].append(len(pages) / sum(seconds))
    return {name: statistics.median(values) for name, values in rates.items()}


def fmt(metrics: dict, key: str) -> str:
    text = f"{metrics[key]:.3f}"
    return text + (f" ± {metrics['ci95'][key]:.3f}" if "ci95" in metrics else "")


def report(pages, outputs: dict, scorer, n_boot: int, seed: int, reference: str) -> tuple[list[str], dict]:
    """The markdown lines and the JSON summary."""
    lines = ["| set | part | pages | extractor | precision | recall | F1 | empty |", "|---|---|---|---|---|---|---|---|"]
    summary = {"sets": {}, "pooled": {}}
    groups = {}
    for i, page in enumerate(pages):
        groups.setdefault((page.set, suite.part_of(page.set, page.id)), []).append(i)
    rows = {name: scorer.rows(pages, texts) for name, texts in outputs.items()}
    for set_name in suite.SETS:
        for part in suite.PARTS:
            index = groups.get((set_name, part))
            if not index:
                continue
            for name in outputs:
                m = scorer.metrics([rows[name][i] for i in index], n_boot, seed)
                empty = sum(1 for i in index if not outputs[name][i].strip())
                summary["sets"].setdefault(f"{set_name}/{part}", {})[name] = dict(m, empty=empty, pages=len(index))
                lines.append(f"| {set_name} | {part} | {len(index)} | {name} | {fmt(m, 'precision')} | "
                             f"{fmt(m, 'recall')} | {fmt(m, 'f1')} | {empty} |")
    if reference in outputs:
        lines += ["", f"Pooled by page, difference from {reference} (paired bootstrap, 95%):", "",
                  "| pages | extractor | F1 | ΔF1 | Δprecision | Δrecall |", "|---|---|---|---|---|---|"]
        for label, sets, part in (("six sets, check", suite.SIX, "check"), ("six sets, tune", suite.SIX, "tune"),
                                  ("AEB, check", (suite.AEB,), "check"), ("AEB, tune", (suite.AEB,), "tune")):
            index = [i for s in sets for i in groups.get((s, part), [])]
            if not index:
                continue
            ref = [rows[reference][i] for i in index]
            for name in outputs:
                if name == reference:
                    continue
                mine = [rows[name][i] for i in index]
                d = scorer.metrics(mine, max(n_boot, 1000 if n_boot else 0), seed, other=ref)
                f1 = scorer.metrics(mine)["f1"]
                summary["pooled"].setdefault(label, {})[name] = dict(d, f1=f1, pages=len(index))
                cells = [f"{d[k]:+.3f}" + (f" ± {d['ci95'][k]:.3f}" if "ci95" in d else "")
                         for k in ("f1", "precision", "recall")]
                lines.append(f"| {label} ({len(index)}) | {name} | {f1:.3f} | " + " | ".join(cells) + " |")
    return lines, summary


def write_docs(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(DOCS_BEGIN) + len(DOCS_BEGIN), text.index(DOCS_END)
    path.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--realdata", type=Path, default=suite.DEFAULT_REALDATA, help="the shared real data folder")
    ap.add_argument("--eval-tool", type=Path, default=suite.DEFAULT_EVAL_TOOL, help="extraction_eval.py")
    ap.add_argument("-e", "--extractor", action="append", metavar="NAME",
                    help=f"repeatable; ours: {', '.join(OURS)}; or a built-in of the eval tool "
                         f"(default: {' '.join(DEFAULT_EXTRACTORS)})")
    ap.add_argument("--sets", default=",".join(suite.SETS), help="comma-separated (default: all seven)")
    ap.add_argument("--part", choices=("tune", "check", "all"), default="all")
    ap.add_argument("--reference", default="trafilatura", help="the extractor the pooled differences are from")
    ap.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="resamples for the intervals (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3, help="speed runs (median); 0: no speed measurement")
    ap.add_argument("--json-out", type=Path, help="write the summary as JSON")
    ap.add_argument("--docs", type=Path, help=f"replace the table between {DOCS_BEGIN} and {DOCS_END} in this file")
    args = ap.parse_args(argv)

    if not args.eval_tool.is_file() or not args.realdata.is_dir():
        ap.error(f"need {args.eval_tool} and {args.realdata}")
    tool = suite.load_eval_tool(args.eval_tool)
    sets = [s for s in args.sets.split(",") if s]
    unknown = sorted(set(sets) - set(suite.SETS))
    if unknown:
        ap.error(f"--sets: unknown {unknown} (known: {', '.join(suite.SETS)})")
    pages = suite.load_suite(tool, args.realdata, sets)
    suite.check_split(pages, suite.read_split())
    if args.part != "all":
        pages = [p for p in pages if suite.part_of(p.set, p.id) == args.part]
    scorer = suite.Scorer(tool, pages)
    print(f"{len(pages)} pages ({args.part}) of {', '.join(sets)}", file=sys.stderr)

    outputs, cpu_rates, live = {}, {}, {}
    for name in args.extractor or DEFAULT_EXTRACTORS:
        try:
            func, cache_version = extractor(name, tool)
        except ImportError as exc:
            print(f"skipping {name}: {exc} (pip install -e '.[bench]')", file=sys.stderr)
            continue
        print(f"  running {name}", file=sys.stderr)
        if cache_version:
            outputs[name], seconds = suite.cached_run(name, cache_version, func, pages)
        else:
            outputs[name], seconds = suite.run_extractor(func, pages)
            live[name] = func
        cpu_rates[name] = len(pages) / sum(seconds)

    lines, summary = report(pages, outputs, scorer, args.bootstrap, args.seed, args.reference)
    if args.rounds and len(live) > 1:
        rates = speed(live, pages, args.rounds)
        base = "resiliparse-main" if "resiliparse-main" in rates else next(iter(rates))
        lines += ["", f"Speed, pages per CPU-second ({len(pages)} pages, one process, process_time per call, "
                      f"warm-up excluded, median of {args.rounds} runs; the cached extractors: their one run):", "",
                  f"| extractor | pages/CPU-s | × {base} |", "|---|---|---|"]
        for name, rate in {**rates, **{n: cpu_rates[n] for n in outputs if n not in rates}}.items():
            lines.append(f"| {name} | {rate:.0f} | {rate / rates[base]:.2f} |")
        summary["speed"] = {"pages_per_cpu_s": rates, "base": base,
                            "cached_pages_per_cpu_s": {n: cpu_rates[n] for n in outputs if n not in rates}}
    print("\n".join(lines))
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.docs:
        write_docs(args.docs, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
