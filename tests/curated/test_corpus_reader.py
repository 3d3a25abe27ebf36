"""The generic corpus reader: listing, field checks and per-file parsing without Spark; one Spark
test for the whole read (JSONL + .txt + a document-schema folder passing through)."""
from __future__ import annotations

import gzip
import json

import pytest

from pipeline.core.config import InputError
from pipeline.readers import corpus
from pipeline.readers.corpus import check_fields, list_tasks, task_rows

OPTS = {**corpus.DEFAULTS, "text_field": "text", "id_field": None, "url_field": None,
        "date_field": None, "txt_mode": "file"}


def rows_of(path, **opts):
    return [r for t in list_tasks([str(path)]) for r in task_rows(t, "test", {**OPTS, **opts})]


def write_jsonl(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_jsonl_bad_lines_are_named_and_skipped(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        json.dumps({"text": "first good", "url": "http://a"}),
        "{not json",
        json.dumps({"body": "no text field here"}),
        "",
        json.dumps({"text": "second good"}),
    ])
    rows = rows_of(path)
    assert [r["drop_reason"] for r in rows] == [None, "read:not_json", "read:missing_text", None]
    assert rows[0]["id"] == "a.jsonl@0" and rows[0]["text"] == "first good"
    assert rows[1]["text"] is None
    assert rows[3]["meta"]["offset"] == str(path.read_bytes().index(b'{"text": "second'))
    assert rows[0]["digest"] and rows[0]["source"] == "test"


def test_jsonl_id_url_date_and_nested_fields(tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [json.dumps(
        {"doc": {"body": "hello world"}, "key": 7, "link": "http://x", "when": "2020-03-29T09:04:10Z"})])
    [row] = rows_of(path, text_field="doc.body", id_field="key", url_field="link", date_field="when")
    assert row["id"] == "7" and row["text"] == "hello world" and row["url"] == "http://x"
    assert row["date"].isoformat() == "2020-03-29T09:04:10+00:00"


def test_byte_ranges_cover_every_line_once(tmp_path):
    lines = [json.dumps({"text": f"document number {i} " + "x" * (i % 37)}) for i in range(200)]
    path = write_jsonl(tmp_path / "big.jsonl", lines)
    whole = [r["id"] for r in rows_of(path)]
    tasks = list_tasks([str(path)], split_bytes=997)
    assert len(tasks) > 5
    split = [r["id"] for t in tasks for r in task_rows(t, "test", OPTS)]
    assert split == whole and len(whole) == 200


def test_gzip_truncated_and_empty_files(tmp_path):
    data = gzip.compress(b"".join(json.dumps({"text": f"doc {i}"}).encode() + b"\n" for i in range(500)))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "empty.txt").write_bytes(b"\n\n")
    rows = rows_of(tmp_path)
    reasons = [r["drop_reason"] for r in rows if r["drop_reason"]]
    assert sorted(reasons) == ["read:empty_file", "read:empty_file", "read:truncated"]
    assert sum(r["drop_reason"] is None for r in rows) > 0      # what came before the cut is kept


def test_txt_legacy_encoding_file_and_blocks(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "latin.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (folder / "ok.txt").write_text("\ufeffPara one.\r\n\r\nPara two\r\nstill two.\n", encoding="utf-8")
    rows = rows_of(folder)
    assert [(r["id"], r["drop_reason"]) for r in rows] == [("texts/latin.txt", "read:not_utf8"),
                                                           ("texts/ok.txt", None)]
    assert rows[1]["text"] == "Para one.\n\nPara two\nstill two."
    blocks = rows_of(folder / "ok.txt", txt_mode="blocks")
    assert [b["text"] for b in blocks] == ["Para one.", "Para two\nstill two."]
    assert [b["id"] for b in blocks] == ["ok.txt@0", "ok.txt@11"]
    [latin] = rows_of(folder / "latin.txt", legacy_encoding="latin-1")
    assert latin["text"] == "café crème"


def test_wrong_field_names_the_fields_found(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", ["garbage", json.dumps({"body": "x", "meta": {"u": 1}})])
    tasks = list_tasks([str(path)])
    with pytest.raises(InputError, match=r"text field 'text' not in c.jsonl; fields found: body, meta$"):
        check_fields(tasks, "text")
    check_fields(tasks, "body", url_field="meta.u")


def test_listing_errors_and_order(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        list_tasks([str(tmp_path / "missing.jsonl")])
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(InputError, match="cannot tell the format"):
        list_tasks([str(tmp_path / "x.csv")])
    with pytest.raises(InputError, match="no jsonl/parquet/txt/docs files"):
        list_tasks([str(tmp_path)])
    sub = tmp_path / "d"
    sub.mkdir()
    for name in ("b.txt", "a.jsonl.gz", "_SUCCESS", ".hidden.txt", "c.parquet"):
        (sub / name).write_bytes(b"")
    assert [(t.rel, t.kind, t.compression) for t in list_tasks([str(sub)])] == [
        ("d/a.jsonl.gz", "jsonl", "gzip"), ("d/b.txt", "txt", None), ("d/c.parquet", "parquet", None)]


def test_parquet_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"content": ["alpha beta", None, "gamma"], "uid": ["u1", "u2", None]}),
                   tmp_path / "p.parquet")
    rows = rows_of(tmp_path / "p.parquet", text_field="content", id_field="uid")
    assert [(r["id"], r["drop_reason"]) for r in rows] == [
        ("u1", None), ("u2", "read:missing_text"), ("p.parquet@2", None)]


@pytest.mark.spark
def test_read_corpus_on_spark(spark, tmp_path):
    from pipeline.core.stats import reason_counts

    src = tmp_path / "src"
    src.mkdir()
    write_jsonl(src / "one.jsonl", [json.dumps({"text": f"doc {i}"}) for i in range(5)] + ["{bad"])
    (src / "two.txt").write_text("a whole file")
    df = corpus.read_corpus(spark, [str(src)], "demo", {}, text_field="text")
    assert reason_counts(df) == {"kept": 6, "read:not_json": 1}
    docs = corpus.kept(df)
    assert docs.columns == list(corpus.DOC_COLUMNS)
    out = tmp_path / "docs"
    docs.write.parquet(str(out))            # a stage output (with _SUCCESS) passes straight through
    again = corpus.read_corpus(spark, [str(out)], "other", {})
    assert sorted(r["id"] for r in corpus.kept(again).collect()) == sorted(
        r["id"] for r in docs.collect())
    assert {r["source"] for r in again.collect()} == {"demo"}
    with pytest.raises(InputError, match="fields found: text"):
        corpus.read_corpus(spark, [str(src / "one.jsonl")], "demo", {}, text_field="body")
