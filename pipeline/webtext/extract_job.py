"""extract_webtext: fetched pages (fetch_pages output) -> WebText documents.

The WARC files named in the fetch log go through the one reader (read -> extract -> langid ->
heuristics, exactly as for CommonCrawl); each page is matched to its link by WARC-Record-ID through
the fetch log, and to the link's karma, submissions, subreddits and first-seen time through the URL
table. On top, pages that are a wall rather than the page are dropped with their own reasons:
webtext:near_empty, webtext:javascript_required, webtext:robot_check.
"""
from __future__ import annotations

import argparse

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.core.config import InputError
from pipeline.core.job import Job
from pipeline.core.schema import DOC_COLUMNS, DOC_SPARK_DDL, DROP_REASON
from pipeline.core.stats import KEPT, funnel
from pipeline.readers.warc_documents import file_stats, read_warc
from pipeline.steps import SNIPPET_CHARS
from pipeline.webtext.fetch_job import _exists

STEPS = ["file", "read", "extract", "langid", "webtext", "heuristics"]


def _any_phrase(text: Column, phrases: list[str]) -> Column:
    lowered = F.lower(text)
    test = F.lit(False)
    for phrase in phrases:
        test = test | lowered.contains(phrase.lower())
    return test


def wall_reason(section: dict) -> Column:
    """The webtext drop reason of a row (null: none), for rows the reader kept or dropped only in
    its heuristics (whose text is a snippet: near_empty is then judged only on a whole text)."""
    text = F.coalesce(F.col("text"), F.lit(""))
    words = F.size(F.split(F.trim(text), r"\s+"))
    words = F.when(F.trim(text) == "", F.lit(0)).otherwise(words)
    kept = F.col(DROP_REASON).isNull()
    judged = kept | F.col(DROP_REASON).startswith("heuristics:")
    whole = kept | (F.length(text) < SNIPPET_CHARS)
    short = words <= section["bot_wall_max_words"]
    return (F.when(judged & short & _any_phrase(text, section["javascript_phrases"]),
                   F.lit("webtext:javascript_required"))
            .when(judged & short & _any_phrase(text, section["robot_check_phrases"]),
                  F.lit("webtext:robot_check"))
            .when(judged & whole & (words < section["min_words"]), F.lit("webtext:near_empty")))


def attach_links(docs: DataFrame, fetch_log: DataFrame, links: DataFrame) -> DataFrame:
    """Documents with their link's Reddit data in `meta`; a page the log does not know (a stray
    record) is dropped as webtext:not_in_fetch_log."""
    pages = fetch_log.select(F.col("warc_record_id").alias("_rid"), F.col("url_surtkey").alias("_key"),
                             F.col("url").alias("_link"), F.col("via").alias("_via"))
    reddit = links.select(F.col("url_surtkey").alias("_key"), F.col("karma").alias("_karma"),
                          F.col("submissions").alias("_subs"), F.col("subreddits").alias("_subreddits"),
                          F.col("first_seen").alias("_first"))
    joined = (docs.join(pages, docs["id"] == pages["_rid"], "left")
              .join(reddit, "_key", "left"))
    extra = F.create_map(
        F.lit("reddit_url"), F.col("_link"), F.lit("karma"), F.col("_karma").cast("string"),
        F.lit("submissions"), F.col("_subs").cast("string"),
        F.lit("subreddits"), F.concat_ws(",", F.col("_subreddits")),
        F.lit("first_seen"), F.date_format(F.col("_first"), "yyyy-MM-dd'T'HH:mm:ss'Z'"),
        F.lit("fetched_via"), F.col("_via"))
    meta = F.when(F.col("_rid").isNull(), F.col("meta")).otherwise(
        F.map_concat(F.coalesce(F.col("meta"), F.create_map().cast("map<string,string>")), extra))
    reason = F.when(F.col(DROP_REASON).isNull() & F.col("_rid").isNull(), F.lit("webtext:not_in_fetch_log")) \
        .otherwise(F.col(DROP_REASON))
    return joined.withColumn("meta", meta).withColumn(DROP_REASON, reason).select(*DOC_COLUMNS, DROP_REASON)


def build_webtext(spark, pages_dir: str, links_dir: str, config: dict):
    """(staged documents, file stats): the reader's rows with links attached and walls dropped."""
    section = config["extract_webtext"]
    fetch_log = spark.read.parquet(pages_dir.rstrip("/") + "/log").where(F.col("drop_reason").isNull())
    files = sorted(r["warc_filename"] for r in fetch_log.select("warc_filename").distinct().collect())
    if not files:
        return None, {"files": 0}
    read = read_warc(spark, files, config, section["source"])
    docs = attach_links(read.documents, fetch_log, spark.read.parquet(links_dir))
    staged = docs.withColumn(DROP_REASON, F.coalesce(wall_reason(section), F.col(DROP_REASON)))
    return staged, file_stats(read.files)


class ExtractWebtextJob(Job):
    name = "extract_webtext"
    sections = ("readers", "extract", "langid", "heuristics")
    description = __doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 1)[1] + """
example:
  spark-submit pipeline/extract_webtext.py --pages work/pages --urls work/links --output work/docs/webtext"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--pages", required=True, help="the fetch_pages output folder")
        parser.add_argument("--urls", required=True, help="the URL table written by reddit_links")
        parser.add_argument("--output", required=True, help="documents folder (Parquet + _stats.json)")

    def validate(self, args, config: dict) -> None:
        for path, what in ((args.pages + "/log", "fetch log (a fetch_pages output)"), (args.urls, "URL table")):
            if not _exists(path):
                raise InputError(f"{what} not found: {path}")

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return [args.pages, args.urls]

    def run(self, spark, args, config: dict) -> dict:
        staged, files = build_webtext(spark, args.pages, args.urls, config)
        if staged is None:
            spark.createDataFrame([], DOC_SPARK_DDL).write.mode("overwrite").parquet(args.output)
            return {"documents_in": 0, "documents_out": 0, "files": files}
        staged = staged.persist(StorageLevel.MEMORY_AND_DISK)
        counts = {r["r"]: int(r["count"]) for r in staged.groupBy(
            F.coalesce(DROP_REASON, F.lit(KEPT)).alias("r")).count().collect()}
        staged.where(F.col(DROP_REASON).isNull()).select(*DOC_COLUMNS) \
            .write.mode("overwrite").parquet(args.output)
        staged.unpersist()
        return {
            "documents_in": sum(counts.values()), "documents_out": counts.get(KEPT, 0),
            "drop_reasons": {r: n for r, n in sorted(counts.items()) if r != KEPT},
            "funnel": funnel(counts, STEPS), "files": files,
        }
