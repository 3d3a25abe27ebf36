"""Files written by the Spark tasks themselves, committed by the driver.

Where a stage makes its rows in Python anyway, handing them to the JVM only to have them encoded as
Parquet there copies every row through Arrow into the JVM and spends the JVM's CPU on the encoding
(on 2 cores, a quarter of the ingest job's time). Such stages write their files in the task with
pyarrow, under the protocol of Spark's FileOutputCommitter: an attempt writes under
`_temporary/<attempt>/` and returns what it wrote; the driver moves the files of the attempts Spark
reports as successful into place, removes `_temporary/` (where failed and speculative attempts left
theirs) and writes `_SUCCESS` last. File names derive from the task, never from the attempt, so a
rerun or a retried task produces the same folder.
"""
from __future__ import annotations

import json
import posixpath
from typing import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.output import SUCCESS_FILE, fs_path, join, url_of
from pipeline.core.schema import DOC_ARROW_SCHEMA, DROP_REASON, KEPT

TEMP_DIR = "_temporary"
ROW_GROUP_BYTES = 32 << 20    # Arrow bytes buffered before a row group is written: Spark's writer
                              # makes row groups of up to 128 MB; a quarter bounds a worker's memory
WRITTEN_DDL = "written string"


def parquet_files(folder: str) -> list[str]:
    """The Parquet files of an output folder in name order (URLs off the local disk); Spark's and our
    bookkeeping files (`_temporary/`, `_SUCCESS`, `.crc`) left out, Hive-style subfolders included."""
    fs, root = fs_path(folder)
    root = root.rstrip("/")
    return sorted(url_of(fs, p) for p in fs.find(root) if p.endswith(".parquet")
                  and not any(part.startswith(("_", ".")) for part in p[len(root):].split("/") if part))


def attempt_name() -> str:
    """This task attempt's folder name under `_temporary/` (called inside a Spark task)."""
    from pyspark import TaskContext
    return f"attempt-{TaskContext.get().taskAttemptId()}"


def clear(output: str) -> None:
    """Remove an output folder before its stage writes it again (the `overwrite` of Spark's writer)."""
    fs, root = fs_path(output)
    if fs.exists(root):
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)


def commit(output: str, written: list[dict]) -> list[dict]:
    """Move each file from `_temporary/` to its final name, then drop `_temporary/`.
    `written` holds one entry per file of a successful attempt: {temp, file, ...stats}."""
    fs, root = fs_path(output)
    files = []
    for entry in sorted(written, key=lambda e: e["file"]):
        fs.mv(join(root, entry["temp"]), join(root, entry["file"]))
        files.append({k: v for k, v in entry.items() if k != "temp"})
    if fs.exists(join(root, TEMP_DIR)):
        fs.rm(join(root, TEMP_DIR), recursive=True)
    return files


def mark_success(output: str) -> None:
    fs, root = fs_path(output)
    fs.touch(join(root, SUCCESS_FILE))


def map_tasks(spark, n_tasks: int, run_task: Callable[[int], Iterator[pa.RecordBatch]], ddl: str):
    """A DataFrame of what `run_task(index)` yields for each task index, one Spark partition per task."""
    def map_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column(0).to_pylist():
                yield from run_task(index)

    return spark.range(0, n_tasks, numPartitions=n_tasks).mapInArrow(map_partition, ddl)


# --- documents -----------------------------------------------------------------------------------

class DocumentFile:
    """One zstd Parquet file of documents, opened on its first row; row groups of ~ROW_GROUP_BYTES."""

    def __init__(self, url: str):
        self.url, self.rows = url, 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self._fh = self._writer = None

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._pending.append(batch)
            self._pending_bytes += batch.nbytes
            self.rows += batch.num_rows
            if self._pending_bytes >= ROW_GROUP_BYTES:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            fs, path = fs_path(self.url)
            fs.makedirs(posixpath.dirname(path), exist_ok=True)
            self._fh = fs.open(path, "wb")
            self._writer = pq.ParquetWriter(self._fh, DOC_ARROW_SCHEMA, compression="zstd")
        table = pa.Table.from_batches(self._pending, DOC_ARROW_SCHEMA)
        self._writer.write_table(table, row_group_size=table.num_rows)  # exactly one row group
        self._pending, self._pending_bytes = [], 0

    def close(self) -> int:
        """Finish the file; the rows it holds (0: no file was written)."""
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._fh.close()
        return self.rows


def part_name(index: int) -> str:
    return f"part-{index:05d}.zstd.parquet"


def write_staged(staged: Iterable[pa.RecordBatch], output: str, index: int, attempt: str) -> dict:
    """Staged batches (documents + drop_reason) of task `index`: the kept documents into its part
    file under the attempt's folder; returns what it wrote and the task's reason counts."""
    temp = join(TEMP_DIR, attempt, part_name(index))
    part = DocumentFile(join(output, temp))
    reasons: dict[str, int] = {}
    chars = 0
    for batch in staged:
        dropped = batch.column(DROP_REASON)
        for item in pc.value_counts(pc.fill_null(dropped, KEPT)).to_pylist():
            reasons[item["values"]] = reasons.get(item["values"], 0) + item["counts"]
        docs = batch.filter(pc.is_null(dropped)).select(DOC_ARROW_SCHEMA.names)
        chars += pc.sum(pc.utf8_length(docs.column("text"))).as_py() or 0
        part.write(docs)
    rows = part.close()
    return {"temp": temp if rows else None, "file": part_name(index), "rows": rows,
            "chars": chars, "reasons": reasons}


def write_documents(spark, n_tasks: int, staged_of: Callable[[int], Iterable[pa.RecordBatch]],
                    output: str) -> dict:
    """Run the tasks, each writing the kept documents of `staged_of(index)` into its own part file,
    and commit the folder. Returns {"reasons": {reason or "kept": rows}, "chars": kept characters,
    "files": [...]}, summed over the successful attempts only (a retried task is counted once)."""
    def run_task(index: int) -> Iterator[pa.RecordBatch]:
        summary = json.dumps(write_staged(staged_of(index), output, index, attempt_name()))
        yield pa.RecordBatch.from_pydict({"written": [summary]})

    clear(output)
    written = [json.loads(row["written"]) for row in map_tasks(spark, n_tasks, run_task, WRITTEN_DDL).collect()]
    reasons: dict[str, int] = {}
    for entry in written:
        for reason, n in entry["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    files = commit(output, [e for e in written if e["temp"]])
    if not files:   # an empty result is still a readable folder: one file with the schema, no rows
        fs, root = fs_path(output)
        with fs.open(join(root, part_name(0)), "wb") as fh:
            pq.write_table(DOC_ARROW_SCHEMA.empty_table(), fh, compression="zstd")
    mark_success(output)
    return {"reasons": reasons, "chars": sum(e["chars"] for e in written),
            "files": [{"file": f["file"], "rows": f["rows"]} for f in files]}
