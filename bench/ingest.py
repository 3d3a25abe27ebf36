"""Wikipedia ingest throughput: the Spark job on local[2] beside a single-process loop doing the same
parsing and cleaning, in one run.

The real enwiki excerpt (206 pages) is repeated `--copies` times with new page ids and written as a
multistream dump (Wikimedia's layout; streams of 50 pages by default, where Wikimedia writes 100,
so that two workers can share a dump this small evenly); several tasks share the one file.
The loop reads the same byte ranges one after another through the same `task_rows` and writes the
kept documents as the job does (Arrow batches, zstd Parquet); the job is `IngestJob.run` (parse,
clean, write Parquet, count drop reasons) on an already started session.

    .venv/bin/python bench/ingest.py [--copies 8] [--streams-per-task 4] [--work /tmp/ingest-bench]
"""
from __future__ import annotations

import argparse
import bz2
import os
import re
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core.config import load_config  # noqa: E402
from pipeline.core.hashing import hash64  # noqa: E402
from pipeline.curated import mediawiki, wikipedia  # noqa: E402
from pipeline.curated.ingest_job import IngestJob  # noqa: E402

EXCERPT = "text/wikipedia/gensim_enwiki-pages-articles1-shortened.xml.bz2"
PAGE_ID = re.compile(rb"(<ns>\d+</ns>\s*<id>)(\d+)(</id>)")


def renumber(page: bytes, copy: int) -> tuple[int, bytes]:
    """The page with id + copy * 10,000,000, and that new id."""
    match = PAGE_ID.search(page)
    new_id = int(match.group(2)) + copy * 10_000_000
    return new_id, page[:match.start(2)] + str(new_id).encode() + page[match.end(2):]


def build_dump(realdata: Path, copies: int, pages_per_stream: int, path: Path) -> tuple[int, int]:
    """(pages, streams) of a multistream dump of `copies` renumbered copies of the excerpt's pages,
    in an order fixed by hash64 of the new ids (the excerpt is sorted with its longest articles
    first: kept in order, the first streams would hold most of the work)."""
    header, pages, footer = mediawiki.split_dump(bz2.open(realdata / EXCERPT).read())
    renumbered = sorted((renumber(page, k) for k in range(copies) for page in pages),
                        key=lambda item: hash64(item[0]))
    offsets = mediawiki.write_multistream(str(path), header, [p for _, p in renumbered], footer,
                                          pages_per_stream)
    return len(renumbered), len(offsets) - 2


def loop(tasks: list, section: dict, out: Path) -> int:
    """The job's work without Spark: the same rows, Arrow batches and zstd Parquet of kept documents."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from pipeline.core.schema import DOC_ARROW_SCHEMA, DROP_REASON
    from pipeline.readers.corpus import batched

    kept = 0
    with pq.ParquetWriter(str(out), DOC_ARROW_SCHEMA, compression="zstd") as writer:
        for task in tasks:
            for batch in batched(wikipedia.task_rows(task, "wikipedia", section), section["batch_rows"]):
                docs = batch.filter(pc.is_null(batch.column(DROP_REASON))).select(DOC_ARROW_SCHEMA.names)
                kept += docs.num_rows
                writer.write_batch(docs)
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"))
    parser.add_argument("--copies", type=int, default=8, help="times the 206-page excerpt is repeated")
    parser.add_argument("--pages-per-stream", type=int, default=50,
                        help="pages per bz2 stream (Wikimedia writes 100; smaller streams let two "
                             "workers share a small dump evenly)")
    parser.add_argument("--streams-per-task", type=int, default=4,
                        help="bz2 streams per task on average (tiny tasks measure Spark's per-task "
                             "cost, about 70 ms of CPU here, not the engine)")
    parser.add_argument("--work", default="/tmp/ingest-bench")
    args = parser.parse_args()

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dump = work / "enwiki-bench-pages-articles-multistream.xml.bz2"
    pages, streams = build_dump(Path(args.realdata), args.copies, args.pages_per_stream, dump)
    split = dump.stat().st_size * args.streams_per_task // streams + 1
    config = load_config(overrides=[f"ingest.wikipedia_split_bytes={split}"])
    section = config["ingest"]
    tasks = wikipedia.plan_tasks([str(dump)], split)
    print(f"dump: {pages} pages in {streams} streams, {dump.stat().st_size / 1e6:.1f} MB bz2, "
          f"{len(tasks)} byte ranges (tasks)")

    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    kept = loop(tasks, section, work / "loop.parquet")
    loop_seconds, loop_cpu = time.perf_counter() - start, time.process_time() - cpu_start

    from pipeline.core.spark import get_spark
    spark = get_spark("ingest-bench", master="local[2]", conf={"spark.ui.enabled": "false"})
    spark.range(4, numPartitions=2).mapInArrow(lambda it: it, "id long").count()  # start workers
    job = IngestJob()
    job_args = job.parser().parse_args(["--kind", "wikipedia", "--input", str(dump),
                                        "--output", str(work / "out")])
    start = time.perf_counter()
    stats = job.run(spark, job_args, config)
    job_seconds = time.perf_counter() - start
    spark.stop()
    assert stats["documents_in"] == pages and stats["documents_out"] == kept, (stats, kept)

    loop_rate, job_rate = pages / loop_seconds, pages / job_seconds
    print(f"{'':28}{'seconds':>10}{'pages/s':>10}")
    print(f"{'single-process loop':28}{loop_seconds:10.1f}{loop_rate:10.1f}")
    print(f"{'Spark job, local[2]':28}{job_seconds:10.1f}{job_rate:10.1f}")
    print(f"speed-up: {job_rate / loop_rate:.2f}x (goal >= 1.7x); {kept} articles kept of {pages} pages")
    # On a shared machine the figure means little: with the kernel's autogroup scheduling a busy
    # machine gives this whole session (loop, JVM and workers alike) one fair share of the CPUs.
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before / "
          f"{os.getloadavg()[0]:.1f} after; the loop got {loop_cpu / loop_seconds:.0%} of one CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
