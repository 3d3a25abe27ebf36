"""Benchmark of `pipeline/quality_filter.py`: Spark local[2] against a bare Python loop.

Builds a crawl of --pages real HTML pages (../shared/realdata: the article-extraction benchmark's
pages and every HTML 200 response of the real WARCs, repeated under distinct URLs and record ids),
gzip per record, in --work (default runs/bench/quality_filter, never committed). Then prints, from
one run:

  (a) pages/s of one Python process doing the same per-page work (read, extract, langid,
      heuristics, classifier score from the exported weights, pareto keep, Parquet write) through the
      same DocumentMaker and document steps the job's workers use, after a warm-up file, with the
      seconds of each step;
  (b) pages/s of the Spark job on local[2] once Spark is up (the job's own `seconds`);
  (c) the peak RSS of a Python worker (VmHWM, reported by the workers into _stats.json) for the
      set and for 1/--scale of it, i.e. a set and one --scale times larger: flat is the goal;
  (d) with --datatrove: datatrove's WARC pipeline on the same WARCs, 2 workers, against (b) end to
      end (wall, the JVM start included with --scale 0), with datatrove's seconds per step
      (bench/quality_filter_datatrove.py; docs/scale.md has the record).

  .venv/bin/python bench/quality_filter.py --pages 20000 [--model runs/classifier]
  .venv/bin/python bench/quality_filter.py --pages 2000 --scale 0     # a quick run, no RSS scaling
  .venv/bin/python bench/quality_filter.py --pages 20000 --scale 0 --skip-loop --datatrove
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core.config import load_config  # noqa: E402
from pipeline.readers.warc import ReadSettings, WarcFile  # noqa: E402
from pipeline.readers.warc_write import Page, write_warc  # noqa: E402
from pipeline.report import scale  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"
PAGES_PER_FILE = 1000


def source_pages(realdata: Path) -> list[Page]:
    """Every real HTML page we have: the AEB pages, the extraction gold sets' pages (so 20,000 pages
    are not ~55 copies of a few hundred) and the HTML 200 responses of the WARCs."""
    pages = []
    truth = json.loads((realdata / "html/scrapinghub_aeb/ground-truth.json").read_text())
    for path in sorted((realdata / "html/scrapinghub_aeb/html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        url = truth.get(key, {}).get("url") or f"http://aeb.example/{key}"
        pages.append(Page(url, gzip.decompress(path.read_bytes())))
    for index in sorted((realdata / "html/extraction_gold").glob("*/index.jsonl")):
        for line in index.read_text().splitlines():
            entry = json.loads(line)
            url = entry.get("url") or f"http://gold.example/{index.parent.name}/{entry['id']}"
            pages.append(Page(url, gzip.decompress((index.parent / entry["html_path"]).read_bytes())))
    settings = ReadSettings.from_config(load_config())
    for path in sorted((realdata / "warc").rglob("*.warc*")):
        for record in WarcFile(str(path), settings):
            if record.payload:
                charset = f"; charset={record.charset}" if record.charset else ""
                pages.append(Page(record.url or "http://warc.example/", record.payload, f"text/html{charset}"))
    return pages


def build_crawl(folder: Path, n_pages: int, pages: list[Page]) -> list[str]:
    """n_pages pages in files of PAGES_PER_FILE (fewer for small runs, so both cores get files),
    reused when already built."""
    per_file = max(50, min(PAGES_PER_FILE, n_pages // 10))
    marker = folder / "_built.json"
    if marker.exists() and json.loads(marker.read_text()).get("pages") == n_pages:
        return sorted(str(p) for p in folder.glob("*.warc.gz"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = []
    for start in range(0, n_pages, per_file):
        batch = []
        for i in range(start, min(n_pages, start + per_file)):
            page = pages[i % len(pages)]
            sep = "&" if "?" in page.url else "?"
            batch.append(Page(f"{page.url}{sep}bench={i}", page.body, page.content_type,
                              record_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'bench-{i}')}"))
        path = folder / f"bench-{start // per_file:05d}.warc.gz"
        write_warc(str(path), batch)
        files.append(str(path))
    marker.write_text(json.dumps({"pages": n_pages}))
    return files


def baseline(files: list[str], config: dict, model_dir: str | None, out: Path) -> dict:
    """One process, no Spark: the job's per-page work through the same functions."""
    import pyarrow.parquet as pq

    from pipeline.core.schema import DOC_ARROW_SCHEMA, docs_to_arrow
    from pipeline.readers.warc_documents import DOC, FILE, DocumentMaker, peak_rss_kb
    from pipeline.steps import StepList

    steps = StepList.from_config(config)
    if model_dir:
        from pipeline.quality.keep import keep_steps

        steps = steps + keep_steps(model_dir, config)
    maker = DocumentMaker(config, "commoncrawl", steps)
    seconds: dict[str, float] = {}

    def work(paths, writer=None):
        pages = kept = 0
        seconds.clear()
        for path in paths:
            for rows in maker.file_batches(path):
                for row in rows:
                    if row["kind"] == FILE:
                        for key, value in row["meta"].items():
                            if key.startswith("seconds_"):
                                seconds[key[8:]] = seconds.get(key[8:], 0.0) + float(value)
                docs = [r for r in rows if r["kind"] == DOC]
                live = [r for r in docs if r["drop_reason"] is None]
                pages, kept = pages + len(docs), kept + len(live)
                if writer is not None and live:
                    writer.write_batch(docs_to_arrow(live, DOC_ARROW_SCHEMA))
        return pages, kept

    work(files[:1])                                     # warm-up: model loads, caches fill
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with pq.ParquetWriter(str(out / "baseline.parquet"), DOC_ARROW_SCHEMA, compression="zstd") as writer:
        pages, kept = work(files, writer)
    elapsed = time.perf_counter() - start
    return {"pages": pages, "kept": kept, "seconds": elapsed, "pages_per_s": pages / elapsed,
            "peak_rss_mb": peak_rss_kb() / 1024, "step_seconds": {k: round(v, 3) for k, v in seconds.items()}}


def spark_run(inputs: list[str], out: Path, model_dir: str | None, master: str) -> dict:
    from pipeline.core.spark import get_spark
    from pipeline.quality.filter_job import QualityFilterJob

    get_spark("webmix-bench", master=master, conf={"spark.ui.enabled": "false",
                                                    "spark.ui.showConsoleProgress": "false"})
    argv = ["--input", *inputs, "--output", str(out), "--force"]
    if model_dir:
        argv += ["--model", model_dir]
    assert QualityFilterJob().main(argv) == 0
    stats = json.loads((out / "_stats.json").read_text())
    return {"pages": stats["documents_in"], "kept": stats["documents_out"], "seconds": stats["seconds"],
            "pages_per_s": stats["documents_in"] / stats["seconds"],
            "worker_peak_rss_mb": stats["files"]["worker_peak_rss_mb"],
            "worker_seconds": stats["files"]["worker_seconds"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20000, help="pages in the benchmark crawl (>= 20000 for the record)")
    parser.add_argument("--scale", type=int, default=5,
                        help="RSS check: also run on 1/scale of the crawl, a set `scale` times smaller (0: skip)")
    parser.add_argument("--model", help="classifier folder (train_classifier.py output); scored and sampled when given")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--work", default=str(REPO / "runs" / "bench" / "quality_filter"))
    parser.add_argument("--realdata", default=str(REALDATA))
    parser.add_argument("--skip-loop", action="store_true", help="leave out (a), the one-process loop")
    parser.add_argument("--record", metavar="RUN", help=scale.RECORD_HELP)
    parser.add_argument("--datatrove", action="store_true",
                        help="also run datatrove's WARC pipeline on the same crawl, 2 workers "
                             "(bench/quality_filter_datatrove.py; builds its venv on first use)")
    args = parser.parse_args()
    cores = local_cores(args.master) if args.record else 0   # checked before the minutes of work

    work = Path(args.work)
    realdata = Path(args.realdata)
    if not realdata.is_dir():
        print(f"error: real data not found at {realdata}", file=sys.stderr)
        return 2
    pages = source_pages(realdata)
    files = build_crawl(work / "crawl", args.pages, pages)
    print(f"crawl: {args.pages} pages ({len(pages)} distinct real pages) in {len(files)} files under {work / 'crawl'}")

    config = load_config()
    base = None if args.skip_loop else baseline(files, config, args.model, work / "baseline")
    if base:
        print(f"(a) python loop : {base['pages_per_s']:8.1f} pages/s  ({base['pages']} pages, {base['seconds']:.1f}s,"
          f" kept {base['kept']}, RSS {base['peak_rss_mb']:.0f} MB; step seconds {base['step_seconds']})", flush=True)
    small = None
    if args.scale > 1:
        # 1/scale of the crawl first: Python workers are reused within the session and VmHWM is a
        # worker's lifetime peak, so the smaller set must run on fresh workers
        part = files[: max(1, len(files) // args.scale)]
        small = spark_run(part, work / "out_part", args.model, args.master)
    started = time.perf_counter()   # JVM start included when this is the first Spark run
    spark = spark_run([str(work / "crawl")], work / "out", args.model, args.master)
    spark["wall"] = time.perf_counter() - started
    print(f"(b) spark {args.master}: {spark['pages_per_s']:8.1f} pages/s  ({spark['pages']} pages, "
          f"{spark['seconds']:.1f}s, kept {spark['kept']}; worker seconds {spark['worker_seconds']})", flush=True)
    if base:
        print(f"    ratio (b)/(a) = {spark['pages_per_s'] / base['pages_per_s']:.2f}  (goal >= 1.7)")
    print(f"(c) peak RSS of a Python worker: {spark['worker_peak_rss_mb']:.0f} MB for {spark['pages']} pages", flush=True)
    if small is not None:
        print(f"    vs {small['worker_peak_rss_mb']:.0f} MB for {small['pages']} pages: the {args.scale}x larger set "
              f"needs {spark['worker_peak_rss_mb'] / small['worker_peak_rss_mb']:.2f}x the memory")
    if args.record:
        scale.record(args.record, "quality_filter", items=spark["pages"], seconds=spark["seconds"],
                     cores=cores, bench=scale.command_line(),
                     peak_memory=f"{spark['worker_peak_rss_mb']:.0f} MB a Python worker",
                     notes=[f"worker seconds by step: {spark['worker_seconds']}"])
    if args.datatrove:
        compare_datatrove(work, spark)
    return 0


def local_cores(master: str) -> int:
    """The cores of a local[N] master (the per-core figure divides by them)."""
    inside = master[len("local["):-1] if master.startswith("local[") else ""
    if not inside.isdigit():
        raise SystemExit(f"--record needs a local[N] master to know the cores, got {master}")
    return int(inside)


def compare_datatrove(work: Path, spark: dict) -> None:
    """(d) datatrove on the same WARCs, end to end against (b) end to end (wall, JVM start included
    when (b) started it; run with --scale 0 for that)."""
    import os

    from quality_filter_datatrove import run as datatrove_run

    out = work / "datatrove_out"
    shutil.rmtree(out, ignore_errors=True)
    dt = datatrove_run(str(work / "crawl"), out)
    webmix_rate = spark["pages"] / spark["wall"]
    print(f"(d) datatrove 2 workers: {dt['pages_per_s']:8.1f} pages/s  ({dt['pages']} pages, {dt['seconds']:.1f}s wall, "
          f"kept {dt['kept']}; step seconds {dt['step_seconds']})")
    print(f"    webmix end to end  : {webmix_rate:8.1f} pages/s  ({spark['pages']} pages, {spark['wall']:.1f}s wall, "
          f"kept {spark['kept']})")
    print(f"    ratio webmix/datatrove = {webmix_rate / dt['pages_per_s']:.2f}  (goal >= 5); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    sys.exit(main())
