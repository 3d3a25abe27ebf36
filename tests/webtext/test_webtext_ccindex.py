"""Indexing WARC files and reading records back by byte range, on the real WARC excerpts."""
from __future__ import annotations

import gzip

import pytest

from pipeline.core.config import load_config
from pipeline.webtext.ccindex import RangeReader, check_record, index_warc
from pipeline.webtext.paths import list_files
from pipeline.webtext.warcout import WarcSink


def reader():
    return RangeReader(load_config()["fetch_pages"]["ccindex"], "webmix-tests")


@pytest.mark.realdata
def test_real_warcs_index_and_every_range_reads_back(realdata):
    files = list_files([str(realdata / "warc")], (".warc", ".warc.gz"))
    rr = reader()
    by_file = {}
    for path in files:
        rows = list(index_warc(path))
        by_file[path.rsplit("/", 1)[-1]] = rows
        for row in rows:
            if row.get("error"):
                continue
            data, reason = rr.read(row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
            assert reason is None, (path, row)
            record_id, reason = check_record(data, row["url_surtkey"])
            assert reason is None and record_id == row["warc_record_id"], (path, row)
    cc = by_file["resiliparse_CC-MAIN-2020-34_excerpt.warc.gz"]
    assert len(cc) == 16 and {r["crawl"] for r in cc} == {"CC-MAIN-2020-34"}
    assert all(r["fetch_status"] == 200 and r["content_mime_type"] == "text/html" for r in cc)
    assert by_file["warcio_example-bad-non-chunked.warc.gz"] == [
        {"warc_filename": next(f for f in files if f.endswith("bad-non-chunked.warc.gz")), "error": "not_warc"}]
    heritrix = by_file["aut_IAH-20080430-heritrix_archive.org.warc.gz"]
    assert len(heritrix) == 299 and sum(r["fetch_status"] == 404 for r in heritrix) == 40
    # The WET and WAT files have no response records: nothing to index, nothing wrong.
    assert list(index_warc(str(realdata / "warc/commoncrawl/whirlwind_CC-MAIN-2024-22.warc.wet.gz"))) == []


@pytest.mark.realdata
def test_bad_ranges_are_named(tmp_path, realdata):
    path = str(realdata / "warc/commoncrawl/resiliparse_CC-MAIN-2020-34_excerpt.warc.gz")
    rows = list(index_warc(path))
    first, second = rows[0], rows[1]
    rr = reader()
    assert rr.read(str(tmp_path / "gone.warc.gz"), 0, 100) == (None, "missing_warc")
    assert rr.read(path, 10 ** 9, 100) == (None, "short_read")
    assert rr.read(path, 0, 0) == (None, "bad_range")
    assert rr.read(path, 0, 10 ** 9) == (None, "record_too_large")
    data, _ = rr.read(path, first["warc_record_offset"] + 7, first["warc_record_length"])
    assert check_record(data, first["url_surtkey"]) == (None, "bad_offset")
    data, _ = rr.read(path, second["warc_record_offset"], second["warc_record_length"])
    assert check_record(data, first["url_surtkey"]) == (None, "wrong_record")


@pytest.mark.realdata
def test_copied_records_make_a_readable_warc(tmp_path, realdata):
    """An uncompressed record becomes a gzip member; the output indexes like any WARC."""
    plain = str(realdata / "warc/robustness/warcio_example-iana.org-chunked.warc")
    row = list(index_warc(plain))[0]
    data, _ = reader().read(plain, row["warc_record_offset"], row["warc_record_length"])
    sink = WarcSink(str(tmp_path), "copy.warc.gz")
    offset, length = sink.write_raw(data)
    path = sink.commit()
    assert not (tmp_path / "copy.warc.gz.tmp").exists()
    copied = list(index_warc(path))
    assert [(r["url"], r["warc_record_offset"], r["warc_record_length"]) for r in copied] == [
        (row["url"], offset, length)]
    assert gzip.decompress(open(path, "rb").read()[offset:offset + length]) == data
    empty = WarcSink(str(tmp_path), "empty.warc.gz")
    assert empty.commit() is None and not (tmp_path / "empty.warc.gz").exists()
