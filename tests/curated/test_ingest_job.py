"""`pipeline/ingest.py` end to end on the shared Spark session (in-process `IngestJob().main`), and
the entry script once as a subprocess for the fail-before-Spark path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.core.output import read_stats
from pipeline.curated import mediawiki
from pipeline.curated.ingest_job import IngestJob

REPO = Path(__file__).resolve().parents[2]
WIKI = "text/wikipedia/gensim_enwiki-pages-articles1-shortened.xml.bz2"
MARKUP = ("{{", "}}", "[[", "]]", "<ref", "|-", "{|", "*** START OF", "*** END OF")


def docs(path) -> list[dict]:
    rows = pq.read_table(str(path)).to_pylist()
    for row in rows:
        row["meta"] = dict(row["meta"])
    return sorted(rows, key=lambda r: r["id"])


@pytest.mark.spark
def test_real_wikipedia_dump(spark, realdata, tmp_path):
    out = tmp_path / "wikipedia"
    assert IngestJob().main(["--kind", "wikipedia", "--input", str(realdata / WIKI),
                             "--output", str(out), "ingest.wikipedia_split_bytes=400000"]) == 0
    rows = docs(out)
    stats = read_stats(str(out))
    assert stats["documents_in"] == 206 and stats["documents_out"] == len(rows) == 97
    assert stats["drop_reasons"] == {"wikipedia:redirect": 99, "wikipedia:disambiguation": 8,
                                     "wikipedia:namespace": 1, "wikipedia:stub": 1}
    for row in rows:
        for residue in MARKUP:
            assert residue not in row["text"], (row["meta"]["title"], residue)
        assert row["source"] == "wikipedia" and row["id"] == f"enwiki:{row['meta']['page_id']}"
    by_title = {r["meta"]["title"]: r for r in rows}
    anarchism = by_title["Anarchism"]
    assert anarchism["text"].startswith(
        "Anarchism is a political philosophy that advocates self-governed societies based on "
        "voluntary institutions.")
    assert anarchism["url"] == "https://en.wikipedia.org/wiki/Anarchism"
    assert anarchism["meta"]["revision_time"] == "2016-04-22T10:19:33Z"
    assert "Alabama is a state located in the southeastern region of the United States." in \
        by_title["Alabama"]["text"]
    assert "Apollo 11 was the first spaceflight that landed humans on the Moon." in \
        by_title["Apollo 11"]["text"]
    assert "\nHistory\n" in by_title["Alabama"]["text"]          # headings as plain lines


@pytest.mark.spark
def test_multistream_ids_and_texts_do_not_depend_on_the_split(spark, tmp_path):
    header = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">\n<siteinfo>'
              b"<dbname>testwiki</dbname><base>https://t.example/wiki/Main_Page</base></siteinfo>\n")
    body = "It has [[link|linked]] words {{and templates}}. " * 40
    pages = [(f"<page><title>Page {i}</title><ns>0</ns><id>{i}</id><revision><timestamp>"
              f"2020-01-01T00:00:00Z</timestamp><text>Page {i} is about {i}. {body}</text>"
              f"</revision></page>").encode() for i in range(1, 61)]
    dump = tmp_path / "testwiki-pages-articles-multistream.xml.bz2"
    offsets = mediawiki.write_multistream(str(dump), header, pages, b"</mediawiki>\n",
                                          pages_per_stream=5)
    runs = []
    for split in (offsets[-1] // 5, 1 << 24):          # 6 tasks sharing the dump, then 1
        out = tmp_path / f"split{split}"
        assert IngestJob().main(["--kind", "wikipedia", "--input", str(dump), "--output", str(out),
                                 f"ingest.wikipedia_split_bytes={split}"]) == 0
        runs.append([(r["id"], r["digest"], r["text"]) for r in docs(out)])
    assert runs[0] == runs[1]
    assert sorted(i for i, _, _ in runs[0]) == sorted(f"testwiki:{i}" for i in range(1, 61))
    assert all("{{" not in text and "linked words." in text for _, _, text in runs[0])


@pytest.mark.spark
def test_books_chunked_and_stable_across_reruns(spark, realdata, tmp_path):
    out = tmp_path / "books"
    argv = ["--kind", "books", "--input", str(realdata / "text/books"), "--output", str(out),
            "--chunk-words", "20000"]
    assert IngestJob().main(argv) == 0
    first = docs(out)
    assert IngestJob().main(argv + ["--force"]) == 0
    again = docs(out)
    assert [(r["id"], r["digest"]) for r in first] == [(r["id"], r["digest"]) for r in again]
    assert {r["meta"]["book_id"] for r in first} == {
        "books/gutenberg_11-0", "books/gutenberg_1342-0", "books/gutenberg_1661",
        "books/gutenberg_2701-0", "books/tinyshakespeare"}
    assert "books/gutenberg_1342-0#0" in {r["id"] for r in first}
    for row in first:
        for residue in MARKUP:
            assert residue not in row["text"], (row["id"], residue)
        assert len(row["text"].split()) < 40000
    assert read_stats(str(out))["drop_reasons"] == {}


@pytest.mark.spark
def test_generic_jsonl_with_bad_input(spark, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text(
        json.dumps({"body": "one", "key": "k1"}) + "\n{oops\n" + json.dumps({"key": "k3"}) + "\n")
    (src / "b.jsonl").write_text("")
    out = tmp_path / "out"
    assert IngestJob().main(["--kind", "jsonl", "--input", str(src), "--output", str(out),
                             "--source", "notes", "--text-field", "body", "--id-field", "key"]) == 0
    assert [(r["id"], r["text"], r["source"]) for r in docs(out)] == [("k1", "one", "notes")]
    assert read_stats(str(out))["drop_reasons"] == {
        "read:not_json": 1, "read:missing_text": 1, "read:empty_file": 1}


def test_wrong_field_exits_2_before_spark(realdata, tmp_path, spark_submit):
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(spark_submit), "pipeline/ingest.py", "--kind", "jsonl",
         "--input", str(realdata / "text/cc_extracted/dolma_ccnet_cc_en_head-0091.jsonl.gz"),
         "--output", str(tmp_path / "x"), "--source", "cc", "--text-field", "content"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    # spark-submit's launcher passes the Python driver's stderr on through its own stdout.
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert errors == ["error: text field 'content' not in dolma_ccnet_cc_en_head-0091.jsonl.gz; "
                      "fields found: added, created, id, metadata, source, text"]
    assert not (tmp_path / "x").exists()
