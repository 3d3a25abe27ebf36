"""fetch_pages: the WebText URL table -> WARC files of the pages, through a CommonCrawl-style index
(`--via ccindex`) or the polite crawler (`--via http`). Both write WARC, so extraction is one path.

Output folder:
    warc/<run>-<partition>.warc.gz    the pages (response + request records; gzip per record)
    log/run=<run>/*.parquet           one row per URL and run: how it went (drop_reason null = ok)
                                      and where its record is (warc_filename, offset, length, id)
A rerun into the same folder skips every URL already fetched, and every URL that failed for a
lasting reason by the same route (a 404 stays a 404; a timeout is tried again). So `--via ccindex`
then `--via http` into one folder crawls only what the index did not have.
"""
from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime, timezone
from functools import partial
from typing import Iterator

import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.core.output import SUCCESS_FILE, fs_path
from pipeline.core.stats import KEPT
from pipeline.webtext.ccindex import RangeReader, check_record, select_captures
from pipeline.webtext.crawler import Crawler, CrawlSettings, FetchResult

log = logging.getLogger("webmix.webtext")

LOG_SCHEMA = pa.schema([
    ("url", pa.string()), ("url_surtkey", pa.string()), ("host", pa.string()), ("via", pa.string()),
    ("drop_reason", pa.string()), ("fetched_url", pa.string()), ("http_status", pa.int32()),
    ("warc_filename", pa.string()), ("warc_record_offset", pa.int64()), ("warc_record_length", pa.int64()),
    ("warc_record_id", pa.string()), ("fetch_time", pa.timestamp("us", tz="UTC")), ("attempts", pa.int32()),
])
LOG_DDL = ("url string, url_surtkey string, host string, via string, drop_reason string, "
           "fetched_url string, http_status int, warc_filename string, warc_record_offset long, "
           "warc_record_length long, warc_record_id string, fetch_time timestamp, attempts int")
LOG_COLUMNS = LOG_SCHEMA.names
# Failures worth another try on a rerun; any other failure stays failed for its route.
TRANSIENT_REASONS = ("fetch:timeout", "fetch:page_timeout", "fetch:connection_error", "fetch:dns_error",
                     "fetch:robots_unavailable", "fetch:crawler_error", "fetch:range_error",
                     "fetch:http_429", "fetch:retry_after_too_long", "fetch:tls_error")



def _exists(path: str) -> bool:
    fs, local = fs_path(path)
    return fs.exists(local)


def _speculation_on(spark=None) -> bool:
    """spark.speculation as the launcher set it (read before the session starts)."""
    if spark is not None:
        return spark.sparkContext.getConf().get("spark.speculation", "false").lower() == "true"
    if "PYSPARK_GATEWAY_PORT" not in os.environ:      # not under spark-submit: our own default (off)
        return False
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return SparkConf().get("spark.speculation", "false").lower() == "true"


def _log_batch(rows: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=LOG_SCHEMA)


def _strip_id(record_id: str | None) -> str | None:
    # The readers use WARC-Record-ID without its angle brackets as the document id.
    return record_id.strip().strip("<>") if record_id else None


# --- ccindex: byte ranges -------------------------------------------------------------------------

def _read_captures(batches: Iterator[pa.RecordBatch], out_dir: str, run: str, settings: dict,
                   user_agent: str) -> Iterator[pa.RecordBatch]:
    from pipeline.webtext.warcout import WarcSink

    part = TaskContext.get().partitionId()
    reader = RangeReader(settings, user_agent)
    rows: list[dict] = []
    logged: set[tuple[str, str]] = set()
    try:
        with WarcSink(out_dir + "/warc", f"{run}-{part:05d}.warc.gz") as sink:
            for batch in batches:
                for cap in batch.to_pylist():
                    row = {"url": cap["url"], "url_surtkey": cap["url_surtkey"], "host": cap["host"],
                           "via": "ccindex", "fetched_url": cap["capture_url"], "http_status": cap["fetch_status"],
                           "fetch_time": cap["fetch_time"], "attempts": 1}
                    data, reason = reader.read(cap["warc_filename"], cap["warc_record_offset"],
                                               cap["warc_record_length"])
                    record_id = None
                    if data is not None:
                        record_id, reason = check_record(data, cap["url_surtkey"])
                    if reason:
                        if (reason, cap["warc_filename"]) not in logged:     # once per file and reason
                            logged.add((reason, cap["warc_filename"]))
                            log.warning("fetch_pages: %s at %s offset %s (%s)", reason, cap["warc_filename"],
                                        cap["warc_record_offset"], cap["url"])
                        rows.append({**row, "drop_reason": f"fetch:{reason}"})
                        continue
                    offset, length = sink.write_raw(data)
                    rows.append({**row, "warc_filename": sink.path, "warc_record_offset": offset,
                                 "warc_record_length": length, "warc_record_id": _strip_id(record_id)})
    finally:
        reader.close()
    if rows:
        yield _log_batch(rows)


def fetch_via_ccindex(spark, urls: DataFrame, index: DataFrame, fetch: dict, out_dir: str, run: str
                      ) -> DataFrame:
    captures = select_captures(urls, index, fetch)
    missing = (captures.where(F.col("capture_reason").isNotNull())
               .select("url", "url_surtkey", "host", F.lit("ccindex").alias("via"),
                       F.concat(F.lit("fetch:"), F.col("capture_reason")).alias("drop_reason"),
                       *[F.lit(None).cast(t).alias(c) for c, t in (
                           ("fetched_url", "string"), ("http_status", "int"), ("warc_filename", "string"),
                           ("warc_record_offset", "long"), ("warc_record_length", "long"),
                           ("warc_record_id", "string"), ("fetch_time", "timestamp"))],
                       F.lit(1).alias("attempts")))
    # Records of one WARC file go to one task, in file order: one open file, forward seeks.
    found = (captures.where(F.col("capture_reason").isNull())
             .repartition(fetch["partitions"], "warc_filename")
             .sortWithinPartitions("warc_filename", "warc_record_offset")
             .mapInArrow(partial(_read_captures, out_dir=out_dir, run=run, settings=fetch["ccindex"],
                                 user_agent=fetch["http"]["user_agent"]), LOG_DDL))
    return found.unionByName(missing)


# --- http: the polite crawler ---------------------------------------------------------------------

def _crawl_partition(batches: Iterator[pa.RecordBatch], out_dir: str, run: str,
                     settings: CrawlSettings) -> Iterator[pa.RecordBatch]:
    from pipeline.webtext.warcout import WarcSink

    part = TaskContext.get().partitionId()
    links = {}
    for batch in batches:
        for row in batch.to_pylist():
            links[row["url"]] = row
    if not links:
        return
    sink = WarcSink(out_dir + "/warc", f"{run}-{part:05d}.warc.gz")
    rows: list[dict] = []

    def record(result: FetchResult) -> None:
        link = links[result.url]
        row = {"url": result.url, "url_surtkey": link["url_surtkey"], "host": link["host"], "via": "http",
               "fetched_url": result.final_url, "http_status": result.status,
               "fetch_time": result.fetched_at, "attempts": result.attempts,
               "drop_reason": f"fetch:{result.reason}" if result.reason else None}
        if result.reason is None and result.response is not None:
            response = result.response
            offset, length, record_id = sink.write_exchange(
                result.final_url, response.request_line, response.request_headers, response.status_line,
                response.stored_headers(), response.body, result.fetched_at, response.ip)
            row.update(warc_filename=sink.path, warc_record_offset=offset, warc_record_length=length,
                       warc_record_id=_strip_id(record_id))
        rows.append(row)

    failures: list[BaseException] = []

    def record_safely(result: FetchResult) -> None:
        try:
            record(result)
        except Exception as exc:   # a failed write (disk full, lost bucket) must fail the task
            failures.append(exc)
            raise

    with sink:
        Crawler(settings).crawl(sorted(links), on_result=record_safely)
        if failures:
            raise failures[0]      # Spark retries the task whole; its file is written again

    rows.sort(key=lambda r: r["url"])
    for start in range(0, len(rows), 5000):
        yield _log_batch(rows[start:start + 5000])


def fetch_via_http(spark, urls: DataFrame, fetch: dict, out_dir: str, run: str) -> DataFrame:
    if _speculation_on(spark):
        # A speculative copy of a crawl task would ask every host of it a second time.
        raise ConfigError("fetch_pages --via http needs spark.speculation=false "
                          "(a speculative task would double the load on its hosts)")
    settings = CrawlSettings.from_config(fetch)
    # One task owns a host (politeness holds across tasks); pinned partitions, never coalesced.
    return (urls.select("url", "url_surtkey", "host")
            .repartition(fetch["partitions"], "host")
            .mapInArrow(partial(_crawl_partition, out_dir=out_dir, run=run, settings=settings), LOG_DDL))


# --- the job --------------------------------------------------------------------------------------

def already_done(spark, out_dir: str, via: str) -> DataFrame | None:
    """url_surtkeys that a rerun skips: fetched by any route, or failed lastingly by this one."""
    fs, path = fs_path(out_dir + "/log")
    if not fs.exists(path):
        return None
    logged = spark.read.parquet(out_dir + "/log")
    skip = F.col("drop_reason").isNull() | ((F.col("via") == via)
                                            & ~F.col("drop_reason").isin(*TRANSIENT_REASONS)
                                            & ~F.col("drop_reason").startswith("fetch:http_5"))
    return logged.where(skip).select("url_surtkey").distinct()


class FetchPagesJob(Job):
    name = "fetch_pages"
    description = __doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 1)[1] + """
examples:
  spark-submit pipeline/fetch_pages.py --via ccindex --urls work/links --index work/cc_index --output work/pages
  spark-submit pipeline/fetch_pages.py --via ccindex --urls work/links \\
      --index s3a://commoncrawl/cc-index/table/cc-main/warc/ --output s3a://bucket/pages fetch_pages.ccindex.crawls=[CC-MAIN-2018-05]
  spark-submit --conf spark.speculation=false pipeline/fetch_pages.py --via http --urls work/links --output work/pages"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--via", choices=["ccindex", "http"], help="fetch route (default: fetch_pages.via)")
        parser.add_argument("--urls", required=True, help="the URL table written by reddit_links")
        parser.add_argument("--index", help="a cc-index table (cc_index output or CommonCrawl's); --via ccindex")
        parser.add_argument("--output", required=True, help="output folder (warc/, log/, _stats.json)")

    def flag_overrides(self, args) -> list[str]:
        return [f"fetch_pages.via={args.via}"] if args.via else []

    def validate(self, args, config: dict) -> None:
        section = config[self.name]
        if section["via"] not in ("ccindex", "http"):
            raise ConfigError(f"config key 'fetch_pages.via' must be ccindex or http, got {section['via']!r}")
        if section["partitions"] < 1 or section["http"]["connections_per_task"] < 1:
            raise ConfigError("config keys 'fetch_pages.partitions' and "
                              "'fetch_pages.http.connections_per_task' must be at least 1")
        if section["via"] == "ccindex" and not args.index:
            raise InputError("--via ccindex needs --index (a cc-index table folder)")
        try:
            CrawlSettings.from_config(section)       # bad networks in allow_networks fail here
        except ValueError as exc:
            raise ConfigError(f"config key 'fetch_pages.http.allow_networks': {exc}") from None
        for path, what in ((args.urls, "URL table"), (args.index, "index")):
            if path and not _exists(path):
                raise InputError(f"{what} not found: {path}")
        if section["via"] == "http" and _speculation_on():
            raise ConfigError("fetch_pages --via http needs spark.speculation=false "
                              "(a speculative task would ask its hosts a second time)")

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return [args.urls] + ([args.index] if args.index else [])

    def run(self, spark, args, config: dict) -> dict:
        fetch = config[self.name]
        via = fetch["via"]
        out = args.output.rstrip("/")
        fs, root = fs_path(out)
        if fs.exists(root + "/" + SUCCESS_FILE):
            fs.rm(root + "/" + SUCCESS_FILE)       # not complete again until this run commits
        spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
        run = f"{via}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
        urls = spark.read.parquet(args.urls).select("url", "url_surtkey", "host")
        urls_in = urls.count()
        done = already_done(spark, out, via)
        todo = urls.join(done, "url_surtkey", "left_anti") if done is not None else urls
        if via == "ccindex":
            result = fetch_via_ccindex(spark, todo, spark.read.parquet(args.index), fetch, out, run)
        else:
            result = fetch_via_http(spark, todo, fetch, out, run)
        result.select(*LOG_COLUMNS).write.mode("overwrite").parquet(f"{out}/log/run={run}")
        this_run = spark.read.parquet(f"{out}/log/run={run}")
        summary = this_run.groupBy(F.coalesce("drop_reason", F.lit(KEPT)).alias("r")).agg(
            F.count(F.lit(1)).alias("n"), F.collect_set("warc_filename").alias("files")).collect()
        counts = {r["r"]: int(r["n"]) for r in summary}
        fetched_total = spark.read.parquet(f"{out}/log").where(F.col("drop_reason").isNull()).count()
        with fs.open(root + "/" + SUCCESS_FILE, "wb"):
            pass
        attempted = sum(counts.values())
        return {
            "via": via, "run": run, "urls_in": urls_in, "skipped_already_done": urls_in - attempted,
            "attempted": attempted, "fetched": counts.get(KEPT, 0),
            "drop_reasons": {r: n for r, n in sorted(counts.items()) if r != KEPT},
            "fetched_all_runs": fetched_total,
            "warc_files": len({f for r in summary for f in r["files"]}),
        }
