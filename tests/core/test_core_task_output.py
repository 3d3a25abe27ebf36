"""Files written by tasks and committed by the driver (pipeline/core/task_output.py)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core import task_output
from pipeline.core.schema import DOC_ARROW_SCHEMA, KEPT, docs_to_arrow, empty_doc
from pipeline.readers.read_plan import ReadPlan, batched


def staged_rows(task: int) -> list[dict]:
    """Task 0: 3 documents and 2 drops; task 1: drops only; task 2: 1 document."""
    rows = {0: [empty_doc(id=f"a{i}", text="x" * (i + 1), source="s", meta={"k": str(i)}) for i in range(3)]
            + [empty_doc(id=f"a-bad{i}", source="s", drop_reason="read:not_json") for i in range(2)],
            1: [empty_doc(id="b-bad", source="s", drop_reason="read:empty_file")],
            2: [empty_doc(id="c0", text="hello", source="s")]}
    return rows[task]


def test_attempts_write_under_temporary_and_only_committed_ones_land(tmp_path):
    out = str(tmp_path / "out")
    task_output.clear(out)
    written = []
    for attempt in ("attempt-7", "attempt-8"):   # a failed attempt, then its retry
        written.append(task_output.write_staged(batched(staged_rows(0), 2), out, 0, attempt))
    assert (tmp_path / "out/_temporary/attempt-7/part-00000.zstd.parquet").exists()
    files = task_output.commit(out, [written[1]])
    task_output.mark_success(out)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["_SUCCESS", "part-00000.zstd.parquet"]
    assert files == [{"file": "part-00000.zstd.parquet", "rows": 3, "chars": 6,
                      "reasons": {KEPT: 3, "read:not_json": 2}}]
    table = pq.read_table(out)
    assert table.schema.equals(DOC_ARROW_SCHEMA) and table.column("id").to_pylist() == ["a0", "a1", "a2"]
    assert dict(table.column("meta")[2].as_py()) == {"k": "2"}


def test_row_groups_close_at_the_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(task_output, "ROW_GROUP_BYTES", 1)
    part = task_output.DocumentFile(str(tmp_path / "f.parquet"))
    for i in range(3):
        part.write(docs_to_arrow([empty_doc(id=str(i), text="t")], DOC_ARROW_SCHEMA))
    assert part.close() == 3 and pq.ParquetFile(tmp_path / "f.parquet").num_row_groups == 3
    empty = task_output.DocumentFile(str(tmp_path / "none.parquet"))
    assert empty.close() == 0 and not (tmp_path / "none.parquet").exists()


@pytest.mark.spark
def test_write_documents_on_spark(spark, tmp_path):
    out = tmp_path / "docs"
    (out / "stale.parquet").parent.mkdir()
    (out / "stale.parquet").write_bytes(b"left by an earlier run")
    rows = {task: staged_rows(task) for task in range(3)}   # the executors cannot import this module
    plan = ReadPlan([0, 1, 2], lambda task: batched(rows[task], 2))
    result = plan.write(spark, str(out))
    assert result["reasons"] == {KEPT: 4, "read:not_json": 2, "read:empty_file": 1}
    assert result["chars"] == 1 + 2 + 3 + 5
    # Task 1 kept nothing, so it wrote no file; names follow tasks, not attempts.
    assert result["files"] == [{"file": "part-00000.zstd.parquet", "rows": 3},
                               {"file": "part-00002.zstd.parquet", "rows": 1}]
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS", "part-00000.zstd.parquet",
                                                     "part-00002.zstd.parquet"]
    back = spark.read.parquet(str(out))
    assert sorted(r["id"] for r in back.collect()) == ["a0", "a1", "a2", "c0"]
    assert str(back.schema["date"].dataType) == "TimestampType()"
    # The same documents as the staged DataFrame of the same plan.
    staged = {r["id"] for r in plan.staged(spark).where("drop_reason is null").collect()}
    assert staged == {"a0", "a1", "a2", "c0"}


@pytest.mark.spark
def test_nothing_kept_is_still_a_readable_folder(spark, tmp_path):
    out = tmp_path / "none"
    rows = staged_rows(1)
    result = ReadPlan([1], lambda task: batched(rows, 2)).write(spark, str(out))
    assert result["reasons"] == {"read:empty_file": 1}
    df = spark.read.parquet(str(out))
    assert df.count() == 0 and df.columns == DOC_ARROW_SCHEMA.names
    assert pa.types.is_map(pq.read_schema(next(out.glob("*.parquet"))).field("meta").type)


def test_a_plan_needs_tasks():
    from pipeline.core.config import InputError
    with pytest.raises(InputError):
        ReadPlan([], lambda task: iter(()))
