"""How a source is run: its reading tasks, one Spark partition each, and what a task yields —
staged Arrow batches (document columns + `drop_reason`, null = kept) made inside the executor that
owns the task. Every reader of curated text (pipeline/readers/corpus.py, pipeline/curated/) returns
a ReadPlan; the tasks and their function travel to the executors in the closure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from pipeline.core.config import InputError
from pipeline.core.schema import STAGED_ARROW_SCHEMA, STAGED_SPARK_DDL, docs_to_arrow
from pipeline.core.task_output import map_tasks, write_documents


def batched(rows: Iterable[dict], size: int, schema: pa.Schema = STAGED_ARROW_SCHEMA
            ) -> Iterator[pa.RecordBatch]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield docs_to_arrow(chunk, schema)
            chunk = []
    if chunk:
        yield docs_to_arrow(chunk, schema)


@dataclass(frozen=True)
class ReadPlan:
    """A source's reading tasks and what one task yields: staged Arrow batches (document columns +
    `drop_reason`, null = kept), made inside the executor that owns the task. `staged` hands them
    to Spark as a DataFrame; `write` has the tasks write the kept documents themselves."""
    tasks: list
    batches_of: Callable[[Any], Iterable[pa.RecordBatch]]

    def __post_init__(self):
        if not self.tasks:
            raise InputError("no input files to read")

    def _task_batches(self, index: int) -> Iterable[pa.RecordBatch]:
        return self.batches_of(self.tasks[index])

    def staged(self, spark):
        """The staged rows, one Spark partition per task: filter with `kept`, count with
        `pipeline.core.stats.reason_counts`."""
        return map_tasks(spark, len(self.tasks), self._task_batches, STAGED_SPARK_DDL)

    def write(self, spark, output: str) -> dict:
        """The kept documents as Parquet in `output`, one file per task written by the task, plus
        the reason counts of every row (see pipeline/core/task_output.py)."""
        return write_documents(spark, len(self.tasks), self._task_batches, output)


def row_plan(tasks: list, rows_of: Callable[[Any], Iterable[dict]], batch_rows: int) -> ReadPlan:
    """A plan whose tasks yield rows (dicts), sent on in Arrow batches of `batch_rows`."""
    return ReadPlan(tasks, lambda task: batched(rows_of(task), batch_rows))
