"""The index, the two fetch routes and the extraction, end to end on tiny fixtures, through the
jobs themselves (in process, on the shared Spark session)."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.webtext.extract_job import ExtractWebtextJob
from pipeline.webtext.fetch_job import FetchPagesJob
from pipeline.webtext.index_job import CcIndexJob
from pipeline.webtext.urls import surt_key, url_host

from webtext_loopback import LoopbackServer

ARTICLE = """<p>The council met on Tuesday evening to discuss the new bridge across the river. Several
residents spoke about the traffic that has grown on the old road since the factory opened.</p>
<p>Engineers presented three designs, and each of them would take about two years to build. The
cheapest plan reuses the stone piers that have stood in the water for more than a century.</p>
<p>After a long debate, the members agreed to hold a public meeting next month, where people from
both banks can look at the drawings and ask questions before any money is spent.</p>
<p>The mayor said that she was pleased with the turnout and that the town would publish the
full report on its website, together with the costs of each design and a timetable.</p>"""


def page(title: str, body: str = ARTICLE) -> bytes:
    return (f"<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{body}<p>This copy of the story is called {title}.</p></article></body></html>").encode()


def write_warc(path, captures, gzip=True, crawl="TEST-CRAWL-01"):
    """captures: (url, status, mime, body, warc-date)."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"isPartOf": crawl}))
        for url, status, mime, body, date in captures:
            http = StatusAndHeaders(f"{status} X", [("Content-Type", mime)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": date}))


def write_links(spark, path, urls):
    rows = [(u, surt_key(u), url_host(u), 10 + i, 1, ["news", "science"], datetime(2017, 3, 1, tzinfo=timezone.utc))
            for i, u in enumerate(urls)]
    spark.createDataFrame(rows, "url string, url_surtkey string, host string, karma long, submissions long, "
                                "subreddits array<string>, first_seen timestamp").write.parquet(str(path))


def stats(path):
    return json.loads((path / "_stats.json").read_text())


def log_rows(spark, out):
    return {r["url"]: r for r in spark.read.parquet(str(out / "log")).collect()}


@pytest.mark.spark
def test_ccindex_route_index_fetch_extract(spark, tmp_path):
    warcs = tmp_path / "crawl"
    warcs.mkdir()
    write_warc(warcs / "one.warc.gz", [
        ("http://news.example.com/bridge", 200, "text/html; charset=utf-8", page("Old bridge"), "2019-01-05T10:00:00Z"),
        ("http://news.example.com/bridge", 200, "text/html", page("New bridge"), "2020-06-01T10:00:00Z"),
        ("http://news.example.com/gone", 404, "text/html", b"<html>gone</html>", "2020-06-01T10:00:00Z"),
        ("https://www.blog.example.org/post?id=1", 200, "image/png", b"\x89PNG", "2020-06-02T10:00:00Z"),
        ("https://www.blog.example.org/post?id=1", 200, "text/html", page("Blog post"), "2019-06-02T10:00:00Z"),
        ("http://walls.example.net/js", 200, "text/html", page("App", "<p>This site needs JavaScript to work. "
         "Please enable JavaScript in your browser settings and then reload this page to continue.</p>"),
         "2020-06-02T10:00:00Z"),
        ("http://walls.example.net/bot", 200, "text/html", page("Check", "<p>Checking your browser before "
         "you can read this article. Please prove that you are not a robot by ticking the box below.</p>"),
         "2020-06-02T10:00:00Z"),
        ("http://walls.example.net/empty", 200, "text/html", page("Hi", "<p>Thanks for visiting our "
         "little website today, we hope that you enjoyed it.</p>"), "2020-06-02T10:00:00Z"),
    ])
    write_warc(warcs / "plain.warc", [("http://plain.example.com/a", 200, "text/html", page("Plain"),
                                       "2020-01-01T00:00:00Z")], gzip=False)
    write_warc(warcs / "doomed.warc.gz", [("http://doomed.example.com/x", 200, "text/html", page("Doomed"),
                                           "2020-01-01T00:00:00Z")])
    (warcs / "broken.warc.gz").write_bytes(b"this is not a warc file at all")

    index = tmp_path / "index"
    assert CcIndexJob().main(["--input", str(warcs), "--output", str(index), "cc_index.output_partitions=1"]) == 0
    index_stats = stats(index)
    assert index_stats["records"] == 10 and index_stats["files_failed"] == {"file:not_warc": 1}
    table = spark.read.parquet(str(index))
    assert set(table.columns) >= {"url", "url_surtkey", "fetch_time", "fetch_status", "content_mime_type",
                                  "warc_filename", "warc_record_offset", "warc_record_length", "crawl", "subset"}
    assert {r["crawl"] for r in table.select("crawl").collect()} == {"TEST-CRAWL-01"}
    (warcs / "doomed.warc.gz").unlink()            # the index now points at a missing file

    links = tmp_path / "links"
    # The link's spelling differs from the capture's (https, no www, other parameter order): SURT joins them.
    urls = ["http://news.example.com/bridge", "http://news.example.com/gone", "http://blog.example.org/post?id=1",
            "http://walls.example.net/js", "http://walls.example.net/empty", "http://plain.example.com/a",
            "http://doomed.example.com/x", "http://never.example.com/", "http://walls.example.net/bot"]
    write_links(spark, links, urls)
    pages = tmp_path / "pages"
    argv = ["--via", "ccindex", "--urls", str(links), "--index", str(index), "--output", str(pages),
            "fetch_pages.partitions=2"]
    assert FetchPagesJob().main(argv) == 0
    fetched = log_rows(spark, pages)
    assert fetched["http://news.example.com/gone"]["drop_reason"] == "fetch:no_good_capture"
    assert fetched["http://never.example.com/"]["drop_reason"] == "fetch:not_in_index"
    assert fetched["http://doomed.example.com/x"]["drop_reason"] == "fetch:missing_warc"
    ok = {u for u, r in fetched.items() if r["drop_reason"] is None}
    assert ok == {urls[0], urls[2], urls[3], urls[4], urls[5], urls[8]}
    assert fetched[urls[0]]["fetch_time"].year == 2020            # the newest capture
    assert fetched[urls[2]]["fetched_url"] == "https://www.blog.example.org/post?id=1"   # the HTML one
    out_records = {}
    for name in {r["warc_filename"] for r in fetched.values() if r["warc_filename"]}:
        with open(name, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    out_records[rec.rec_headers.get_header("WARC-Record-ID").strip("<>")] = rec.content_stream().read()
    assert b"New bridge" in out_records[fetched[urls[0]]["warc_record_id"]]
    assert stats(pages)["fetched"] == 6

    docs = tmp_path / "docs"
    assert ExtractWebtextJob().main(["--pages", str(pages), "--urls", str(links), "--output", str(docs)]) == 0
    result = stats(docs)
    assert result["drop_reasons"].get("webtext:javascript_required") == 1, result
    assert result["drop_reasons"].get("webtext:near_empty") == 1, result
    assert result["drop_reasons"].get("webtext:robot_check") == 1, result
    out = {r["url"]: r for r in spark.read.parquet(str(docs)).collect()}
    assert set(out) == {"http://news.example.com/bridge", "https://www.blog.example.org/post?id=1",
                        "http://plain.example.com/a"}
    bridge = out["http://news.example.com/bridge"]
    assert bridge["source"] == "webtext" and "called New bridge." in bridge["text"]
    assert bridge["meta"]["karma"] == "10" and bridge["meta"]["subreddits"] == "news,science"
    assert bridge["meta"]["first_seen"] == "2017-03-01T00:00:00Z"
    assert bridge["meta"]["reddit_url"] == "http://news.example.com/bridge"


@pytest.mark.spark
def test_http_route_writes_warc_and_reruns_only_transient_failures(spark, tmp_path):
    hosts = ["a.test", "b.test", "c.test"]
    with LoopbackServer(robots={"b.test": "User-agent: *\nDisallow: /page/2\n"}) as server:
        urls = [server.url("a.test", "/page/1"), server.url("a.test", "/nothing"),
                server.url("b.test", "/page/2"), server.url("b.test", "/page/3"),
                server.url("c.test", "/slow/2/4")]
        links = tmp_path / "links"
        write_links(spark, links, urls)
        pages = tmp_path / "pages"
        mapping = ", ".join(f"{h}: 127.0.0.1" for h in hosts)
        flags = ["--via", "http", "--urls", str(links), "--output", str(pages)]
        overrides = ["fetch_pages.partitions=2",
                "fetch_pages.http.allow_networks=[127.0.0.0/8]",
                f"fetch_pages.http.resolve_overrides={{{mapping}}}",
                "fetch_pages.http.min_host_delay_seconds=0.05", "fetch_pages.http.read_timeout_seconds=0.5",
                "fetch_pages.http.max_retries=0"]
        assert FetchPagesJob().main(flags + overrides) == 0
        fetched = log_rows(spark, pages)
        assert fetched[urls[0]]["drop_reason"] is None and fetched[urls[3]]["drop_reason"] is None
        assert fetched[urls[1]]["drop_reason"] == "fetch:http_404"
        assert fetched[urls[2]]["drop_reason"] == "fetch:robots_disallowed"
        assert fetched[urls[4]]["drop_reason"] == "fetch:timeout"
        record = fetched[urls[0]]
        with open(record["warc_filename"], "rb") as fh:
            fh.seek(record["warc_record_offset"])
            rec = next(iter(ArchiveIterator(io.BytesIO(fh.read(record["warc_record_length"])))))
            assert rec.rec_type == "response" and rec.http_headers.get_statuscode() == "200"
            assert b"<article>" in rec.content_stream().read()
        with open(record["warc_filename"], "rb") as fh:
            kinds = [r.rec_type for r in ArchiveIterator(fh)]
        assert kinds[0] == "warcinfo" and "request" in kinds

        asked_before = len(server.log)
        assert FetchPagesJob().main(flags + ["--force"] + overrides + ["fetch_pages.http.read_timeout_seconds=5.0"]) == 0
        again = stats(pages)
        assert again["attempted"] == 1 and again["fetched"] == 1 and again["fetched_all_runs"] == 3
        assert [p for _, p, _ in server.log[asked_before:]] == ["/robots.txt", "/slow/2/4"]
