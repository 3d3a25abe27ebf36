"""WARC/WET files -> a DataFrame of staged documents, through the document steps (pipeline/steps).

One Spark task per file (`parallelize(paths, len(paths))`, then mapInArrow). In the Python worker,
`DocumentMaker.file_batches(path)` reads the file record by record (pipeline.readers.warc), runs
the streaming steps (extract) on each record as it is read, so at most one raw page is in memory,
then the other steps on batches of `langid.batch_size` rows, and yields rows in the staged schema
(documents + `drop_reason`, null = kept). Rows dropped after extraction keep only a snippet of
their text, so a cached DataFrame stays small. The last batch of a file also carries one *file
row* (`kind = "file"`): how the file ended (`file:<outcome>`), its record counts, the seconds the
reader and each step took, and the worker's peak memory, so `_stats.json` is computed from the
data, never from accumulators; `file_stats` turns those rows into its `files` part.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.core.schema import DROP_REASON, STAGED_ARROW_SCHEMA, STAGED_SPARK_DDL, docs_to_arrow
from pipeline.readers.warc import ReadSettings, Record, WarcFile
from pipeline.steps import READ, StepList

KIND = "kind"
DOC, FILE = "doc", "file"
READ_ARROW_SCHEMA = STAGED_ARROW_SCHEMA.append(pa.field(KIND, pa.string()))
READ_SPARK_DDL = STAGED_SPARK_DDL + f", {KIND} string"
STAGED_COLUMNS = STAGED_ARROW_SCHEMA.names
# What WARC readers run when they are not given steps (extract_webtext): the text steps.
TEXT_STEPS = ("extract", "langid", "c4_lines", "gopher_quality", "gopher_repetition")
STEP_NAMES_KEY = "steps"
MAX_LISTED_FILES = 100


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM), 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class DocumentMaker:
    """Per-worker state: the read settings and the steps (their models are cached per worker)."""

    def __init__(self, config: dict, source: str, steps: StepList | None = None):
        self.source = source
        self.steps = StepList.from_config(config, TEXT_STEPS) if steps is None else steps
        self.settings = ReadSettings.from_config(config)
        self.batch_rows = max(1, int(config["langid"]["batch_size"]))

    def _row(self, rec: Record) -> dict:
        return {"id": rec.id, "source": self.source, "url": rec.url, "date": rec.date, "meta": rec.meta,
                DROP_REASON: rec.drop_reason, KIND: DOC, "text": rec.text, "payload": rec.payload,
                "charset": rec.charset}

    def _file_row(self, warc: WarcFile, seconds: Counter, documents: int) -> dict:
        out = warc.outcome
        names = [READ, *self.steps.names]
        meta = {"warc_file": warc.name, "records": str(out.records), "documents": str(documents),
                "offset": str(out.offset), "peak_rss_kb": str(peak_rss_kb()), STEP_NAMES_KEY: ",".join(names)}
        meta.update({f"records_{k}": str(v) for k, v in sorted(out.record_types.items())})
        meta.update({f"seconds_{step}": f"{seconds[step]:.6f}" for step in names})
        if out.error:
            meta["error"] = out.error
        return {"id": out.path, "source": self.source, "meta": meta, DROP_REASON: f"file:{out.outcome}", KIND: FILE}

    def file_batches(self, path: str) -> Iterator[list[dict]]:
        """Rows of one file in batches; the last batch ends with the file row."""
        seconds: Counter = Counter()
        warc = WarcFile(path, self.settings)
        records = iter(warc)
        pending: list[dict] = []
        documents = 0
        while True:
            start = time.perf_counter()
            rec = next(records, None)
            seconds[READ] += time.perf_counter() - start
            if rec is None:
                break
            pending.append(self.steps.run_streaming(self._row(rec), seconds))
            documents += 1
            if len(pending) >= self.batch_rows:
                yield self.steps.run(pending, seconds)
                pending = []
        yield self.steps.run(pending, seconds) + [self._file_row(warc, seconds, documents)]


def read_partition(config: dict, source: str, steps: StepList | None = None):
    """The mapInArrow function: batches of `path` rows in, staged rows (+ file rows) out."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        maker = DocumentMaker(config, source, steps)
        for batch in batches:
            for path in batch.column("path").to_pylist():
                for rows in maker.file_batches(path):
                    if rows:
                        yield docs_to_arrow(rows, READ_ARROW_SCHEMA)
    return run


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
              persist: bool = True, steps: StepList | None = None) -> WarcRead:
    """Read the files, one task each, through `steps` (default: TEXT_STEPS). `persist` caches the
    rows (dropped rows hold only a snippet of text) so that documents and file outcomes come from
    one scan."""
    if not paths:
        raise ValueError("read_warc needs at least one path")
    tasks = spark.sparkContext.parallelize([(p,) for p in paths], len(paths))
    rows = spark.createDataFrame(tasks, "path string").mapInArrow(read_partition(config, source, steps), READ_SPARK_DDL)
    if persist:
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    return WarcRead(rows)


def read_warc_documents(spark: SparkSession, paths: list[str], config: dict, source: str) -> DataFrame:
    """Staged documents (document columns + `drop_reason`, null = kept) of WARC/WET files. For the
    per-file outcomes as well, use `read_warc`."""
    return read_warc(spark, paths, config, source, persist=False).documents


def file_stats(files: DataFrame) -> dict:
    """Outcome counts, the files that were not read cleanly, records and documents, per-step
    seconds (summed over tasks, steps as the file rows name them) and the largest peak RSS of a
    Python worker."""
    outcome = F.regexp_replace(F.col(DROP_REASON), "^file:", "")

    def num(key: str):
        return F.col("meta").getItem(key).try_cast("double")

    first = files.select(F.col("meta").getItem(STEP_NAMES_KEY).alias("s")).first()
    steps = first["s"].split(",") if first is not None and first["s"] else [READ]
    sums = ["records", "documents", *[f"seconds_{s}" for s in steps]]
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
        "worker_seconds": {s: round(total(f"seconds_{s}"), 3) for s in steps},
        "worker_peak_rss_mb": round(max([float(r["peak_rss_kb"] or 0) for r in per_outcome] or [0]) / 1024, 1),
    }
