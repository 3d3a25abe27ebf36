"""cc_index: any WARC files -> a cc-index-table-like Parquet, so that the fetch stage reads a
user's own crawl (or the demo's sample WARCs) through the same byte-range path as CommonCrawl."""
from __future__ import annotations

import argparse
from functools import partial
from typing import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import functions as F

from pipeline.core.job import Job
from pipeline.webtext.ccindex import INDEX_COLUMNS, INDEX_DDL, index_rows_to_arrow, index_warc
from pipeline.readers.inputs import expand_inputs
from pipeline.webtext.paths import split_overrides

BATCH_ROWS = 5000


def _index_files(batches: Iterator[pa.RecordBatch], crawl: str, record_types: frozenset[str]
                 ) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for path in batch.column("path").to_pylist():
            rows = []
            for row in index_warc(path, crawl, record_types):
                rows.append(row)
                if len(rows) >= BATCH_ROWS:
                    yield index_rows_to_arrow(rows)
                    rows = []
            if rows:
                yield index_rows_to_arrow(rows)


def build_index(spark, files: list[str], section: dict):
    """(index DataFrame with INDEX_COLUMNS, {file error: count}); the caller writes the index."""
    paths = spark.createDataFrame([(p,) for p in files], "path string").repartition(max(1, len(files)))
    rows = paths.mapInArrow(partial(_index_files, crawl=section["crawl"],
                                    record_types=frozenset(section["record_types"])), INDEX_DDL)
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    errors = {r["error"]: int(r["count"]) for r in rows.where(F.col("error").isNotNull())
              .groupBy("error").count().collect()}
    index = rows.where(F.col("error").isNull()).select(*INDEX_COLUMNS)
    return index, errors


class CcIndexJob(Job):
    name = "cc_index"
    description = __doc__.split("\n\n")[0] + """

One task reads one WARC file (local, s3://, https://) and writes one row per response record:
url_surtkey, url, url_host_name, fetch_time, fetch_status, content_mime_type, content_charset,
content_digest, warc_filename, warc_record_offset, warc_record_length, warc_record_id, partitioned
by crawl and subset as CommonCrawl's table is. Missing, non-WARC and broken files are counted
(file:missing_file, file:not_warc, file:corrupt, file:unreadable) and skipped.

example:
  spark-submit pipeline/cc_index.py --input work/sample/warc/ --output work/cc_index"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", nargs="+", required=True,
                            help="WARC files, folders, globs or a CommonCrawl warc.paths.gz listing "
                                 "(local, s3://, https://)")
        parser.add_argument("--output", required=True, help="output folder (Parquet + _stats.json)")

    def flag_overrides(self, args) -> list[str]:
        args.input, trailing = split_overrides(args.input)
        return trailing

    def validate(self, args, config: dict) -> None:
        args.files = expand_inputs(args.input, config)     # files, folders, globs, warc.paths.gz

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return list(args.files)

    def run(self, spark, args, config: dict) -> dict:
        section = config[self.name]
        index, errors = build_index(spark, args.files, section)
        (index.repartition(section["output_partitions"], "url_surtkey")
         .sortWithinPartitions("url_surtkey", "fetch_time")
         .write.mode("overwrite").partitionBy("crawl", "subset").parquet(args.output))
        written = spark.read.parquet(args.output)
        groups = written.groupBy("crawl", "fetch_status").count().collect()
        by_status: dict[str, int] = {}
        for r in groups:
            by_status[str(r["fetch_status"])] = by_status.get(str(r["fetch_status"]), 0) + int(r["count"])
        return {
            "files": len(args.files),
            "files_failed": {f"file:{k}": v for k, v in sorted(errors.items())},
            "records": sum(by_status.values()),
            "records_by_status": dict(sorted(by_status.items())),
            "crawls": sorted({r["crawl"] for r in groups}),
        }
