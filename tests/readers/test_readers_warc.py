"""Streaming WARC/WET records: formats, HTTP quirks, broken files (no Spark)."""
from __future__ import annotations

import gzip
import io
from collections import Counter
from datetime import datetime, timezone

import pytest
from warcio.warcwriter import WARCWriter

from pipeline.core.config import load_config
from pipeline.readers import warc
from pipeline.readers.warc import ReadSettings, WarcFile, parse_warc_date
from pipeline.readers.warc_write import Page, write_pages

SETTINGS = ReadSettings.from_config(load_config())
HTML = b"<html><head><title>t</title></head><body><p>Hello, world.</p></body></html>"


def pages() -> list[Page]:
    parts = [b"<html><body>Chun", b"ked page.</body></h", b"tml>\n"]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return [
        Page("http://a.example/", HTML, date="2024-05-18T01:58:10Z"),
        Page("http://a.example/missing", HTML, status="404 Not Found"),
        Page("http://a.example/logo.png", b"\x89PNG....", content_type="image/png"),
        Page("http://b.example/latin", "<html><body>Café crème</body></html>".encode("latin-1"),
             content_type="text/html; charset=ISO-8859-1", date="2008-10-294T05:21:46-0700"),
        Page("http://b.example/gz", gzip.compress(HTML), extra_http_headers=(("Content-Encoding", "gzip"),)),
        Page("http://b.example/chunked", chunked, extra_http_headers=(("Transfer-Encoding", "chunked"),)),
        Page("http://b.example/untyped", HTML, content_type=""),
    ]


def warc_bytes(gzip_records: bool = True) -> bytes:
    buffer = io.BytesIO()
    write_pages(buffer, pages(), gzip=gzip_records)
    return buffer.getvalue()


def read(path, settings=SETTINGS):
    reader = WarcFile(str(path), settings)
    return list(reader), reader.outcome


@pytest.mark.parametrize("gzip_records", [True, False])
def test_records_of_a_crawl(tmp_path, gzip_records):
    path = tmp_path / ("crawl.warc.gz" if gzip_records else "crawl.warc")
    path.write_bytes(warc_bytes(gzip_records))
    records, outcome = read(path)
    assert outcome.outcome == "ok" and outcome.records == 7
    by_url = {r.url: r for r in records}
    assert by_url["http://a.example/"].payload == HTML
    assert by_url["http://a.example/"].date == datetime(2024, 5, 18, 1, 58, 10, tzinfo=timezone.utc)
    assert by_url["http://a.example/missing"].drop_reason == "read:http_status"
    assert by_url["http://a.example/logo.png"].drop_reason == "read:not_html"
    latin = by_url["http://b.example/latin"]
    assert latin.charset == "ISO-8859-1" and "Café".encode("latin-1") in latin.payload
    assert latin.date is None and latin.meta["warc_date_raw"].startswith("2008-10-294")
    assert by_url["http://b.example/gz"].payload == HTML            # Content-Encoding undone
    assert by_url["http://b.example/chunked"].payload == b"<html><body>Chunked page.</body></html>\n"
    assert by_url["http://b.example/untyped"].payload == HTML       # sniffed as HTML
    assert all(r.id.startswith("urn:uuid:") for r in records)
    assert len({r.meta["warc_offset"] for r in records}) == 7


def test_whole_file_gzip_is_read_and_named(tmp_path):
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(warc_bytes(gzip_records=False)))
    records, outcome = read(path)
    assert outcome.outcome == "whole_file_gzip"
    assert len(records) == 7 and len({r.id for r in records}) == 7


def test_truncated_file_keeps_what_was_read(tmp_path):
    data = warc_bytes()
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: len(data) - 40])
    records, outcome = read(path)
    assert outcome.outcome in ("truncated", "corrupt")
    assert outcome.error
    assert len(records) >= 6
    assert records[0].payload == HTML


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"# just some notes\nnot a WARC\n", "not_warc"),
    (gzip.compress(b"hello, not a warc either"), "not_warc"),
])
def test_non_warc_files(tmp_path, content, expected):
    path = tmp_path / "x.warc.gz"
    path.write_bytes(content)
    records, outcome = read(path)
    assert records == [] and outcome.outcome == expected


def test_unreadable_file(tmp_path):
    records, outcome = read(tmp_path / "gone.warc.gz")
    assert records == [] and outcome.outcome == "unreadable" and "gone.warc.gz" in outcome.error


def test_payload_cap_and_wet_conversion(tmp_path):
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(writer.create_warc_record(
        "http://c.example/", "conversion", payload=io.BytesIO("Plain text, as CommonCrawl's WET has it.".encode()),
        warc_content_type="text/plain", warc_headers_dict={"WARC-Refers-To": "<urn:uuid:1>"}))
    write_pages(buffer, [Page("http://c.example/big", b"<html>" + b"x" * 5000 + b"</html>")])
    path = tmp_path / "c.warc.wet.gz"
    path.write_bytes(buffer.getvalue())
    records, outcome = read(path, ReadSettings(SETTINGS.record_types, SETTINGS.html_mime_types, 1000))
    assert records[0].text == "Plain text, as CommonCrawl's WET has it."
    assert records[0].meta["warc_refers_to"] == "urn:uuid:1"
    assert records[1].drop_reason == "extract:too_large" and records[1].payload is None


def test_parse_warc_date():
    assert parse_warc_date("2008-04-30T20:48:25Z") == datetime(2008, 4, 30, 20, 48, 25, tzinfo=timezone.utc)
    assert parse_warc_date("20080430204825") == datetime(2008, 4, 30, 20, 48, 25, tzinfo=timezone.utc)
    assert parse_warc_date("2024-05-18T01:58:10.5-02:00").hour == 3
    for bad in ("2008-10-294T05:21:46-0700", "", None, "yesterday"):
        assert parse_warc_date(bad) is None


# --- the real files in ../shared/realdata/warc ----------------------------------------------------------
EXPECTED_OUTCOMES = {
    "resiliparse_clipped_truncated.warc.gz": warc.TRUNCATED,
    "warcio_example-bad-non-chunked.warc.gz": warc.WHOLE_FILE_GZIP,
    "warcio_example-trunc.warc": warc.BAD_RECORD_LENGTH,
}


def test_every_real_file_is_read_or_named(realdata):
    files = sorted(p for p in (realdata / "warc").rglob("*") if p.is_file())
    assert len(files) >= 13
    for path in files:
        records, outcome = read(path)
        assert outcome.outcome == EXPECTED_OUTCOMES.get(path.name, warc.OK), (path.name, outcome)
        for record in records:
            assert record.drop_reason is None or record.drop_reason.split(":")[0] in ("read", "extract")
            assert record.id and record.meta["warc_file"] == path.name


def test_independent_counts_of_real_files(realdata):
    records, outcome = read(realdata / "warc/other_crawls/aut_IAH-20080430-heritrix_archive.org.warc.gz")
    assert outcome.record_types["response"] == 299
    assert sum(r.meta.get("content_type") in SETTINGS.html_mime_types for r in records) == 140
    assert Counter(r.drop_reason for r in records)[None] == 94   # the 200s among them

    records, _ = read(realdata / "warc/other_crawls/resiliparse_clueweb09-ja_quirk.warc.gz")
    html = [r for r in records if r.payload]
    assert len(html) == 29 and all(r.date is None for r in html)        # WARC-Date 2008-10-294T...
    assert {r.charset.lower() for r in html} == {"euc-jp"}

    records, _ = read(realdata / "warc/commoncrawl/resiliparse_CC-MAIN-2020-34_excerpt.warc.gz")
    assert sum(1 for r in records if r.payload) == 16
