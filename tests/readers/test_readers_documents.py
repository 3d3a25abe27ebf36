"""WARC file -> staged rows in the worker: extract, langid, heuristics, snippets, the file row (no Spark)."""
from __future__ import annotations

from collections import Counter

from pipeline.core.config import load_config
from pipeline.core.hashing import text_digest
from pipeline.core.schema import docs_to_arrow
from pipeline.readers.warc_write import Page, write_warc
from pipeline.readers.warc_documents import READ_ARROW_SCHEMA, DocumentMaker
from pipeline.steps import SNIPPET_CHARS

ENGLISH = """<html><head><title>River town</title></head><body><nav>Home | About | Contact</nav><article>
<h1>A short history of the river town</h1>
<p>The history of the river town begins with a small ferry crossing that served farmers and traders.
Over the following decades the crossing grew into a market, and the market drew families who built houses.</p>
<p>When the railway arrived, the town changed again: warehouses replaced the orchards, and the old ferry was retired.
Historians still argue about whether the railway saved the town or merely delayed its decline by a generation.</p>
<p>Today the museum keeps photographs of those years, together with letters written by the first station master.
Visitors who walk along the water can see the stone pillars that once carried the wooden pier.</p>
</article></body></html>"""
GERMAN = """<html><body><article><p>Die Geschichte der Stadt am Fluss beginnt mit einer kleinen Fähre, die Bauern
und Händlern diente. In den folgenden Jahrzehnten wuchs daraus ein Markt, und der Markt zog Familien an.</p>
<p>Als die Eisenbahn kam, veränderte sich die Stadt erneut, und die alte Fähre wurde stillgelegt.</p>
</article></body></html>"""
JUNK = "<html><body><ul>" + "".join(f"<li><a href='/p{i}'>Cheap deals {i}</a></li>" for i in range(40)) + \
    "</ul></body></html>"


def test_rows_of_a_file(tmp_path):
    path = tmp_path / "mixed.warc.gz"
    write_warc(str(path), [
        Page("http://en.example/", ENGLISH.encode()),
        Page("http://de.example/", GERMAN.encode("iso-8859-1"), content_type="text/html; charset=iso-8859-1"),
        Page("http://junk.example/", JUNK.encode()),
        Page("http://short.example/", b"<html><body><article><p>Buy now. Best price in town today!</p></article></body></html>"),
        Page("http://img.example/a.png", b"\x89PNG", content_type="image/png"),
        Page("http://gone.example/", ENGLISH.encode(), status="500 Internal Server Error"),
        Page("http://en2.example/", ENGLISH.encode()),   # a second capture: own id, same digest
    ])
    maker = DocumentMaker(load_config(), "commoncrawl")
    rows = [row for batch in maker.file_batches(str(path)) for row in batch]
    docs = [r for r in rows if r["kind"] == "doc"]
    files = [r for r in rows if r["kind"] == "file"]
    assert Counter(r["drop_reason"] for r in docs) == Counter({
        # the link list: the extractor falls back to the whole page (no prose), C4 drops its lines
        None: 2, "langid:language": 1, "heuristics:c4_too_few_lines": 2,
        "read:not_html": 1, "read:http_status": 1})
    en, en2 = [r for r in docs if r["drop_reason"] is None]
    assert en["lang"] == "en" and en["lang_score"] > 0.9
    assert "Home | About" not in en["text"] and en["text"].startswith("The history of the river town")
    assert en["digest"] == text_digest(en["text"]) == en2["digest"] and en["id"] != en2["id"]
    assert en["source"] == "commoncrawl" and en["meta"]["warc_file"] == "mixed.warc.gz"
    german = next(r for r in docs if r["drop_reason"] == "langid:language")
    assert german["lang"] == "de" and "Fähre" in german["text"]          # declared charset honoured
    assert all(len(r["text"] or "") <= SNIPPET_CHARS for r in docs if r["drop_reason"])
    (file_row,) = files
    assert file_row["drop_reason"] == "file:ok" and file_row["id"] == str(path)
    assert file_row["meta"]["records"] == "7" and file_row["meta"]["documents"] == "7"
    assert int(file_row["meta"]["peak_rss_kb"]) > 0 and float(file_row["meta"]["seconds_extract"]) > 0
    batch = docs_to_arrow(rows, READ_ARROW_SCHEMA)
    assert batch.num_rows == 8 and batch.schema == READ_ARROW_SCHEMA


def test_small_batches_and_missing_file(tmp_path):
    path = tmp_path / "en.warc.gz"
    write_warc(str(path), [Page(f"http://en.example/{i}", ENGLISH.encode()) for i in range(5)])
    config = load_config(overrides=["langid.batch_size=2"])
    batches = list(DocumentMaker(config, "cc").file_batches(str(path)))
    assert [len(b) for b in batches] == [2, 2, 1 + 1]
    (only,) = list(DocumentMaker(config, "cc").file_batches(str(tmp_path / "missing.warc.gz")))
    assert [r["drop_reason"] for r in only] == ["file:unreadable"]
