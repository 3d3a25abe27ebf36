"""reddit_links: Reddit submission dumps -> the WebText URL table.

One task reads one dump file (compressed dumps cannot be split) and applies the submission filters
in Python per batch; Spark then merges submissions of the same normalised URL, summing karma.
Dropped submissions leave the task as one row per (batch, reason) with a count, so the statistics
come from the data without carrying every dropped line through the shuffle.
"""
from __future__ import annotations

import argparse
from functools import partial
from typing import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import functions as F

from pipeline.core.config import InputError
from pipeline.core.job import Job
from pipeline.core.stats import KEPT, funnel
from pipeline.webtext.paths import list_files, split_overrides
from pipeline.webtext.reddit import LinkFilter, iter_records
from pipeline.webtext.urls import surt_key, url_host

SUBMISSIONS_DDL = ("url string, url_surtkey string, host string, score long, created double, "
                   "subreddit string, drop_reason string, n long")
SUBMISSIONS_SCHEMA = pa.schema([
    ("url", pa.string()), ("url_surtkey", pa.string()), ("host", pa.string()), ("score", pa.int64()),
    ("created", pa.float64()), ("subreddit", pa.string()), ("drop_reason", pa.string()), ("n", pa.int64()),
])
BATCH_ROWS = 20_000
STEPS = ["read", "links"]


def _batch(kept: list, dropped: dict[str, int]) -> pa.RecordBatch:
    rows = kept + [(None, None, None, None, None, None, reason, n) for reason, n in sorted(dropped.items())]
    columns = list(zip(*rows)) if rows else [[] for _ in SUBMISSIONS_SCHEMA]
    return pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, SUBMISSIONS_SCHEMA)],
                                      schema=SUBMISSIONS_SCHEMA)


def filter_dump(path: str, link_filter: LinkFilter) -> Iterator[pa.RecordBatch]:
    """Kept submissions of one dump file as rows; dropped ones as (reason, count) rows."""
    kept: list = []
    dropped: dict[str, int] = {}
    for record, reason in iter_records(path):
        if record is None:
            dropped[f"read:{reason}"] = dropped.get(f"read:{reason}", 0) + 1
            continue
        link, reason = link_filter.check(record)
        if link is None:
            dropped[f"links:{reason}"] = dropped.get(f"links:{reason}", 0) + 1
            continue
        key = surt_key(link.url)
        if key is None:
            dropped["links:bad_url"] = dropped.get("links:bad_url", 0) + 1
            continue
        kept.append((link.url, key, url_host(link.url), link.score, link.created, link.subreddit, None, 1))
        if len(kept) >= BATCH_ROWS:
            yield _batch(kept, dropped)
            kept, dropped = [], {}
    if kept or dropped:
        yield _batch(kept, dropped)


def _filter_files(batches: Iterator[pa.RecordBatch], link_filter: LinkFilter) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for path in batch.column("path").to_pylist():
            yield from filter_dump(path, link_filter)


def build_links(spark, files: list[str], link_filter: LinkFilter, partitions: int):
    """(URL table DataFrame, submission counts by reason). The counts are collected (a few rows);
    the table is left to the caller to write."""
    paths = spark.createDataFrame([(p,) for p in files], "path string").repartition(max(1, len(files)))
    submissions = paths.mapInArrow(partial(_filter_files, link_filter=link_filter), SUBMISSIONS_DDL)
    submissions = submissions.persist(StorageLevel.MEMORY_AND_DISK)
    counts = {row["r"]: int(row["n"]) for row in submissions.groupBy(
        F.coalesce("drop_reason", F.lit(KEPT)).alias("r")).agg(F.sum("n").alias("n")).collect()}
    links = (submissions.where(F.col("drop_reason").isNull())
             .groupBy("url")
             .agg(F.min("url_surtkey").alias("url_surtkey"), F.min("host").alias("host"),
                  F.sum("score").alias("karma"), F.count(F.lit(1)).alias("submissions"),
                  F.sort_array(F.collect_set("subreddit")).alias("subreddits"),
                  F.timestamp_seconds(F.min("created")).alias("first_seen"))
             .repartition(partitions, "url")
             .sortWithinPartitions("url"))
    return links, counts


class RedditLinksJob(Job):
    name = "reddit_links"
    description = __doc__.split("\n\n")[0] + """

Reads Pushshift/Arctic Shift NDJSON dumps (.zst .xz .bz2 .gz or plain) and reddit-top-2.5-million
CSV files; keeps link posts with score >= min_score inside the date window and outside the
blocklists; writes one row per normalised URL: url, url_surtkey, host, karma (summed score),
submissions, subreddits, first_seen.

example:
  spark-submit pipeline/reddit_links.py --input dumps/RS_2017-*.zst --output work/links --preset gpt2"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", nargs="+", required=True,
                            help="dump files, folders or globs (local, s3://, https://)")
        parser.add_argument("--output", required=True, help="output folder (Parquet + _stats.json)")
        parser.add_argument("--preset", help="date window: all, gpt2 (before 2018) or webtext2 (2018-01..10)")

    def flag_overrides(self, args) -> list[str]:
        args.input, trailing = split_overrides(args.input)
        return ([f"reddit_links.preset={args.preset}"] if args.preset else []) + trailing

    def validate(self, args, config: dict) -> None:
        LinkFilter.from_config(config[self.name])       # a bad preset or date fails here
        args.files = list_files(args.input, what="Reddit dump")
        if config[self.name]["output_partitions"] < 1:
            raise InputError("config key 'reddit_links.output_partitions' must be at least 1")

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return list(args.files)

    def run(self, spark, args, config: dict) -> dict:
        section = config[self.name]
        links, counts = build_links(spark, args.files, LinkFilter.from_config(section),
                                    section["output_partitions"])
        links.write.mode("overwrite").parquet(args.output)
        urls = spark.read.parquet(args.output).count()
        kept = counts.get(KEPT, 0)
        return {
            "files": len(args.files),
            "submissions_in": sum(counts.values()),
            "submissions_kept": kept,
            "urls_out": urls,
            "duplicate_submissions_merged": kept - urls,
            "drop_reasons": {r: n for r, n in sorted(counts.items()) if r != KEPT},
            "funnel": funnel(counts, STEPS),
        }
