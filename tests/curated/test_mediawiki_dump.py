"""MediaWiki dumps without Spark: multistream splitting, page rules, damaged input."""
from __future__ import annotations

import bz2
from xml.sax.saxutils import escape

import pytest

from pipeline.core.config import load_config
from pipeline.curated import mediawiki, wikipedia

HEADER = b"""<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">
  <siteinfo>
    <dbname>testwiki</dbname>
    <base>https://test.wikipedia.org/wiki/Main_Page</base>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="6" case="first-letter">Datei</namespace>
      <namespace key="14" case="first-letter">Kategorie</namespace>
    </namespaces>
  </siteinfo>
"""
FOOTER = b"</mediawiki>\n"
PROSE = "The river flows through the valley and past the old mill. " * 12


def page(page_id: int, title: str, text: str, ns: int = 0, redirect: str | None = None) -> bytes:
    redirect_tag = f'<redirect title="{escape(redirect)}" />' if redirect else ""
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{page_id}</id>\n"
            f"    {redirect_tag}\n    <revision>\n      <id>{page_id * 10}</id>\n"
            f"      <timestamp>2020-01-0{page_id % 9 + 1}T10:00:00Z</timestamp>\n"
            f"      <text xml:space=\"preserve\">{escape(text)}</text>\n    </revision>\n  </page>"
            ).encode()


def articles(n: int) -> list[bytes]:
    return [page(i, f"River {i}", f"'''River {i}''' is a river. {PROSE}[[Kategorie:Rivers]]")
            for i in range(1, n + 1)]


@pytest.fixture
def section():
    return load_config()["ingest"]


def test_every_split_reads_every_page_once(tmp_path):
    path = str(tmp_path / "test-pages-articles-multistream.xml.bz2")
    offsets = mediawiki.write_multistream(path, HEADER, articles(47), FOOTER, pages_per_stream=5)
    size = offsets[-1] + 40
    whole = [p.page_id for _, p in mediawiki.iter_pages(path)]
    assert whole == [str(i) for i in range(1, 48)]
    for split in (size, 2000, 777, 64):
        got = [item[1].page_id for start in range(0, size, split)
               for item in mediawiki.iter_pages(path, start, start + split)]
        assert got == whole, split


def test_page_rules_and_document_fields(tmp_path, section):
    pages = [
        page(1, "Good River", f"'''Good River''' flows. {PROSE}\n[[Datei:Map.png|thumb|Map]]"
                              f"[[Kategorie:Rivers]]"),
        page(2, "Old name", "#REDIRECT [[Good River]]", redirect="Good River"),
        page(3, "Mercury", "'''Mercury''' may be:\n* [[Mercury (planet)]]\n{{disambiguation}}"),
        page(4, "Stub River", "'''Stub River''' is short."),
        page(5, "Talk:Good River", PROSE, ns=1),
        page(6, "Lake (disambiguation)", PROSE),
    ]
    path = str(tmp_path / "x.xml.bz2")
    mediawiki.write_multistream(path, HEADER, pages, FOOTER)
    rows = [r for t in wikipedia.plan_tasks([path], 1 << 20)
            for r in wikipedia.task_rows(t, "wikipedia", section)]
    assert [(r["id"], r["drop_reason"]) for r in rows] == [
        ("testwiki:1", None), ("testwiki:2", "wikipedia:redirect"),
        ("testwiki:3", "wikipedia:disambiguation"), ("testwiki:4", "wikipedia:stub"),
        ("testwiki:5", "wikipedia:namespace"), ("testwiki:6", "wikipedia:disambiguation")]
    good = rows[0]
    assert good["url"] == "https://test.wikipedia.org/wiki/Good_River"
    assert good["meta"]["title"] == "Good River" and good["meta"]["page_id"] == "1"
    assert good["meta"]["revision_time"] == "2020-01-02T10:00:00Z"
    assert good["date"].isoformat() == "2020-01-02T10:00:00+00:00"
    assert good["text"].startswith("Good River flows. The river")
    assert "Map" not in good["text"] and "Rivers" not in good["text"]   # localised File/Category


def test_truncated_and_bad_xml_are_counted_and_the_rest_kept(tmp_path, section):
    pages = articles(12)
    pages[3] = pages[3].replace(b"</title>", b"</titel>")           # does not parse
    path = tmp_path / "cut.xml.bz2"
    offsets = mediawiki.write_multistream(str(path), HEADER, pages, FOOTER, pages_per_stream=4)
    data = path.read_bytes()
    path.write_bytes(data[: offsets[3] + (offsets[4] - offsets[3]) // 2])  # third page stream cut
    rows = [r for t in wikipedia.plan_tasks([str(path)], 1 << 20)
            for r in wikipedia.task_rows(t, "wikipedia", section)]
    reasons = [r["drop_reason"] for r in rows]
    assert reasons.count(None) == 7
    assert reasons.count("wikipedia:bad_xml") == 1
    assert reasons[-1] == "wikipedia:truncated"
    bad = rows[reasons.index("wikipedia:bad_xml")]
    assert bad["id"].startswith("cut.xml.bz2@") and bad["text"] is None


def test_file_that_is_not_a_dump_is_one_counted_row(tmp_path, section):
    path = tmp_path / "junk.xml.bz2"
    path.write_bytes(bz2.compress(b"hello, not xml at all"))
    (tmp_path / "empty.xml.bz2").write_bytes(b"")
    rows = [r for t in wikipedia.plan_tasks([str(tmp_path)], 1 << 20)
            for r in wikipedia.task_rows(t, "wikipedia", section)]
    assert sorted(r["drop_reason"] for r in rows) == ["wikipedia:unreadable"] * 2


def test_siteinfo_of_real_excerpt(realdata):
    site = mediawiki.read_siteinfo(
        str(realdata / "text/wikipedia/gensim_enwiki-pages-articles1-shortened.xml.bz2"))
    assert site.dbname == "enwiki" and site.base_url == "https://en.wikipedia.org/wiki/"
    assert site.names(14) == {"category"}
