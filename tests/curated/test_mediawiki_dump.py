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


# --- dumps in any encoding XML allows (XML 1.0 Appendix F) ----------------------------------------
DECLARATION = '<?xml version="1.0" encoding="{}"?>\n'
ENCODINGS = {   # name: (codec of the file's bytes, text put before the dump)
    "utf16le_bom": ("utf-16-le", "\ufeff"),
    "utf16_declared": ("utf-16", DECLARATION.format("UTF-16")),     # Python's utf-16 writes a BOM
    "utf16be_declared_no_bom": ("utf-16-be", DECLARATION.format("UTF-16")),
    "latin1_declared": ("iso-8859-1", DECLARATION.format("ISO-8859-1")),
    "utf8_bom": ("utf-8", "\ufeff"),
}


def reencode(utf8: bytes, name: str, errors: str = "strict") -> bytes:
    codec, prefix = ENCODINGS[name]
    return (prefix + utf8.decode("utf-8")).encode(codec, errors)


def kept_rows(path, section) -> list[dict]:
    rows = [r for task in wikipedia.plan_tasks([str(path)], 1 << 30)
            for r in wikipedia.task_rows(task, "wikipedia", section)]
    return [r for r in rows if r["drop_reason"] is None]


def pages_of(path) -> list[tuple[str, str]]:
    site = mediawiki.read_siteinfo(str(path))
    return [(p.title, p.text) for _, p in mediawiki.iter_pages(str(path), encoding=site.encoding)]


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_dumps_in_other_encodings_read_like_utf8(tmp_path, section, name):
    utf8 = HEADER + b"\n".join([page(1, "Rivière Noire", f"'''Rivière Noire''': café. {PROSE}"),
                               page(2, "Ölbach", f"'''Ölbach''' fließt. {PROSE}")]) + b"\n" + FOOTER
    (tmp_path / "utf8.xml").write_bytes(utf8)
    expected = pages_of(tmp_path / "utf8.xml")
    assert [title for title, _ in expected] == ["Rivière Noire", "Ölbach"]
    plain = tmp_path / f"{name}.xml"
    plain.write_bytes(reencode(utf8, name))
    assert pages_of(plain) == expected
    assert [r["meta"]["title"] for r in kept_rows(plain, section)] == ["Rivière Noire", "Ölbach"]
    # Multistream: only the first stream starts with the BOM or declaration; a task reading a later
    # stream alone decodes it with the encoding found at the file's start.
    header, pages, footer = mediawiki.split_dump(utf8)
    codec = {"utf-16": "utf-16-le"}.get(ENCODINGS[name][0], ENCODINGS[name][0])
    multistream = tmp_path / f"{name}-multistream.xml.bz2"
    offsets = mediawiki.write_multistream(str(multistream), reencode(header, name),
                                          [p.decode().encode(codec) for p in pages],
                                          footer.decode().encode(codec), pages_per_stream=1)
    assert pages_of(multistream) == expected
    site = mediawiki.read_siteinfo(str(multistream))
    second = [p.title for _, p in mediawiki.iter_pages(str(multistream), offsets[2], offsets[3], site.encoding)]
    assert second == ["Ölbach"]


def test_unknown_declared_encoding_is_an_unreadable_dump(tmp_path, section):
    path = tmp_path / "odd.xml"
    path.write_bytes(DECLARATION.format("X-NOPE").encode() + HEADER + FOOTER)
    rows = list(wikipedia.task_rows(wikipedia.plan_tasks([str(path)], 1 << 20)[0], "wikipedia", section))
    assert [r["drop_reason"] for r in rows] == ["wikipedia:unreadable"]


def test_real_enwiki_excerpt_reencoded_reads_the_same_pages(realdata, tmp_path):
    source = realdata / "text/wikipedia/gensim_enwiki-pages-articles1-shortened.xml.bz2"
    header, pages, footer = mediawiki.split_dump(bz2.decompress(source.read_bytes()))
    utf8 = header + b"\n".join(pages[:100]) + b"\n" + footer   # the first 100 pages keep it quick
    (tmp_path / "enwiki.xml").write_bytes(utf8)
    expected = pages_of(tmp_path / "enwiki.xml")
    assert len(expected) == 100
    for name in ("utf16le_bom", "utf16_declared", "latin1_declared"):
        path = tmp_path / f"enwiki-{name}.xml"
        # Latin-1 cannot hold every character: those become "?", one for one.
        path.write_bytes(reencode(utf8, name, "replace"))
        got = pages_of(path)
        if name.startswith("latin1"):
            latin1 = [(t.encode("latin-1", "replace").decode("latin-1"), x.encode("latin-1", "replace").decode("latin-1"))
                      for t, x in expected]
            assert got == latin1, name
        else:
            assert got == expected, name
