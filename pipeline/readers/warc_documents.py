"""WARC/WET files -> a DataFrame of staged documents: read -> extract -> langid -> heuristics.

One Spark task per file (`parallelize(paths, len(paths))`, then mapInArrow): the task streams its
file record by record and extracts each page in the Python worker, so raw HTML never travels
through the JVM and a worker holds one page and one batch of texts at a time. Each file also yields
one file row (`kind = "file"`) with its outcome, record counts, per-step seconds and peak memory;
`file_stats` turns those rows into the `files` part of `_stats.json`.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.core.schema import DROP_REASON, STAGED_ARROW_SCHEMA
from pipeline.text.documents import DOC, FILE, KIND, READ_SPARK_DDL, STEPS, BatchStep, read_partition

STAGED_COLUMNS = STAGED_ARROW_SCHEMA.names
MAX_LISTED_FILES = 100


@dataclass
class WarcRead:
    """The documents (staged schema) and the per-file outcome rows of one read, sharing one cached
    scan so that the files are read once."""
    rows: DataFrame

    @property
    def documents(self) -> DataFrame:
        return self.rows.where(F.col(KIND) == DOC).select(*STAGED_COLUMNS)

    @property
    def files(self) -> DataFrame:
        return self.rows.where(F.col(KIND) == FILE)

    def unpersist(self) -> None:
        self.rows.unpersist()


def read_warc(spark: SparkSession, paths: list[str], config: dict, source: str,
              persist: bool = True, last_step: BatchStep | None = None) -> WarcRead:
    """Read the files, one task each. `persist` caches the rows (dropped rows hold only a snippet
    of text) so that documents and file outcomes come from one scan. `last_step` runs on every
    batch of rows in the worker, after the heuristics (the quality filter's scoring)."""
    if not paths:
        raise ValueError("read_warc needs at least one path")
    tasks = spark.sparkContext.parallelize([(p,) for p in paths], len(paths))
    rows = spark.createDataFrame(tasks, "path string").mapInArrow(read_partition(config, source, last_step), READ_SPARK_DDL)
    if persist:
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    return WarcRead(rows)


def read_warc_documents(spark: SparkSession, paths: list[str], config: dict, source: str) -> DataFrame:
    """Staged documents (document columns + `drop_reason`, null = kept) of WARC/WET files. For the
    per-file outcomes as well, use `read_warc`."""
    return read_warc(spark, paths, config, source, persist=False).documents


def file_stats(files: DataFrame) -> dict:
    """Outcome counts, the files that were not read cleanly, records and documents, per-step
    seconds (summed over tasks) and the largest peak RSS of a Python worker."""
    outcome = F.regexp_replace(F.col(DROP_REASON), "^file:", "")
    def num(key: str):
        return F.col("meta").getItem(key).try_cast("double")

    sums = ["records", "documents", *[f"seconds_{s}" for s in STEPS]]
    per_outcome = files.groupBy(outcome.alias("outcome")).agg(
        F.count(F.lit(1)).alias("files"), F.max(num("peak_rss_kb")).alias("peak_rss_kb"),
        *[F.sum(num(key)).alias(key) for key in sums]).collect()

    def total(key: str) -> float:
        return sum(float(r[key] or 0) for r in per_outcome)

    problems = (files.where(outcome != "ok")
                .select(F.col("id").alias("file"), outcome.alias("outcome"),
                        F.col("meta").getItem("offset").alias("offset"),
                        F.col("meta").getItem("error").alias("error"))
                .orderBy("file").limit(MAX_LISTED_FILES).collect()) \
        if any(r["outcome"] != "ok" for r in per_outcome) else []
    return {
        "files": int(total("files")),
        "records": int(total("records")),
        "candidate_records": int(total("documents")),
        "outcomes": {r["outcome"]: int(r["files"]) for r in sorted(per_outcome, key=lambda r: r["outcome"])},
        "problems": [row.asDict() for row in problems],
        "worker_seconds": {s: round(total(f"seconds_{s}"), 3) for s in STEPS},
        "worker_peak_rss_mb": round(max([float(r["peak_rss_kb"] or 0) for r in per_outcome] or [0]) / 1024, 1),
    }
