"""The embedded sample: deterministic bytes, real WARC/zstd/bz2 files, and the promised mix."""
import bz2
import gzip
import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
import zstandard
from warcio.archiveiterator import ArchiveIterator

from pipeline.sample import generate
from pipeline.sample.crawl import KIND_COUNTS


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _responses(sample_dir):
    labels = {r["record_id"]: r for r in _jsonl(sample_dir / "crawl" / "labels.jsonl")}
    for path in sorted((sample_dir / "crawl").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                yield path.name, record, labels


def test_same_seed_same_bytes_other_seed_other_bytes(sample_dir, tmp_path):
    again = generate(tmp_path / "again", seed=0)
    first = json.loads((sample_dir / "manifest.json").read_text())
    assert again["sha256"] == first["sha256"]
    assert (tmp_path / "again" / "manifest.json").read_bytes() == (sample_dir / "manifest.json").read_bytes()
    other = generate(tmp_path / "other", seed=1)
    changed = [k for k in first["sha256"] if other["sha256"].get(k) != first["sha256"][k]]
    assert any(k.endswith(".warc.gz") for k in changed) or other["paths"]["warcs"] != first["paths"]["warcs"]


def test_warc_files_hold_request_and_response_per_label(sample_dir):
    types, ids, seen = Counter(), set(), {}
    for name, record, labels in _responses(sample_dir):
        types[record.rec_type] += 1
        rid = record.rec_headers.get_header("WARC-Record-ID")
        assert rid not in ids
        ids.add(rid)
        if record.rec_type == "response":
            label = labels[rid]
            assert label["warc_file"] == name
            assert record.rec_headers.get_header("WARC-Target-URI") == label["url"]
            assert int(record.http_headers.get_statuscode()) == label["status"]
            body = record.content_stream().read()   # Content-Encoding undone by warcio
            if label["kind"] in ("article", "exact_duplicate", "recapture", "near_duplicate"):
                assert b"<article>" in body
            seen[rid] = label
    labels = _jsonl(sample_dir / "crawl" / "labels.jsonl")
    assert len(seen) == len(labels) == types["response"] == types["request"]
    assert types["warcinfo"] == len(list((sample_dir / "crawl").glob("*.warc.gz"))) == 4
    with gzip.open(sample_dir / "crawl" / "warc.paths.gz", "rt") as fh:
        assert [line.strip() for line in fh] == [f"crawl/{p.name}" for p in sorted((sample_dir / "crawl").glob("*.warc.gz"))]


def test_crawl_mix_matches_the_plan(sample_dir):
    labels = _jsonl(sample_dir / "crawl" / "labels.jsonl")
    kinds = Counter(r["kind"] for r in labels)
    for kind, count in KIND_COUNTS.items():
        assert kinds[kind] == count, kind
    assert 100 <= kinds["article"] <= 150
    assert 300 <= len(labels) <= 600
    assert {r["lang"] for r in labels if r["kind"] == "foreign"} == {"de", "fr", "es", "it", "nl", "pt"}
    urls = {r["url"] for r in labels if r["kind"] == "article"}
    for row in labels:
        if row["kind"] in ("exact_duplicate", "near_duplicate", "recapture"):
            assert row["duplicate_of"] in urls
    recaptured = [r for r in labels if r["kind"] == "recapture"]
    originals = {r["url"]: r for r in labels if r["kind"] == "article"}
    assert all(r["date"] > originals[r["url"]]["date"] for r in recaptured)
    assert {r["status"] for r in labels if r["kind"] == "http_error"} >= {404, 500, 301}
    assert all(r["expected_keep"] == (r["drop_by"] is None) for r in labels)


def test_reddit_dump_links_crawl_pages(sample_dir):
    rows = []
    for path in sorted((sample_dir / "reddit").glob("RS_*.zst")):
        with open(path, "rb") as fh:
            data = zstandard.ZstdDecompressor().stream_reader(fh).read()
        rows += [json.loads(line) for line in data.decode().splitlines()]
    expect = {r["id"]: r["expect"] for r in _jsonl(sample_dir / "reddit" / "labels.jsonl")}
    crawl_urls = {r["url"] for r in _jsonl(sample_dir / "crawl" / "labels.jsonl") if r["status"] == 200}
    fields = {"id", "url", "score", "subreddit", "created_utc", "is_self", "over_18", "permalink", "title", "domain"}
    kinds = Counter()
    for row in rows:
        assert fields <= set(row)
        kind = expect[row["id"]]
        kinds[kind] += 1
        if kind == "link":
            assert row["url"] in crawl_urls and row["score"] >= 3 and not row["over_18"] and not row["is_self"]
        elif kind == "low_score":
            assert row["score"] < 3
        elif kind == "self":
            assert row["is_self"] and row["domain"].startswith("self.")
        elif kind == "over_18":
            assert row["over_18"]
        elif kind == "not_crawled":
            assert row["url"] not in crawl_urls
    assert set(kinds) == {"link", "low_score", "self", "over_18", "blocked", "wikipedia", "not_crawled"}
    # Low-karma and NSFW posts link pages that no qualifying post links.
    good = {r["url"] for r in rows if expect[r["id"]] == "link"}
    assert not good & {r["url"] for r in rows if expect[r["id"]] in ("low_score", "over_18")}


def test_curated_positives(sample_dir):
    texts = sorted((sample_dir / "curated" / "wikipedia" / "text").glob("*.txt"))
    assert len(texts) >= 80
    with bz2.open(sample_dir / "curated" / "wikipedia" / "dump" / "enwiki-sample-pages-articles.xml.bz2") as fh:
        root = ET.parse(fh).getroot()
    ns = {"mw": "http://www.mediawiki.org/xml/export-0.10/"}
    pages = root.findall("mw:page", ns)
    articles = [p for p in pages if p.find("mw:ns", ns).text == "0" and p.find("mw:redirect", ns) is None]
    assert len(articles) == len(texts)
    assert "[[Category:" in articles[0].find("mw:revision/mw:text", ns).text
    books = sorted((sample_dir / "curated" / "books").glob("*.txt"))
    assert len(books) >= 5
    for book in books:
        text = book.read_text(encoding="utf-8")
        assert "*** START OF THIS PROJECT GUTENBERG EBOOK" in text and "*** END OF THIS PROJECT GUTENBERG EBOOK" in text
        assert len(text.split()) > 1000


def test_eval_set_copies_some_sample_pages(sample_dir):
    rows = _jsonl(sample_dir / "eval" / "sample_eval.jsonl")
    truth = {r["id"]: r["contaminated"] for r in _jsonl(sample_dir / "eval" / "labels.jsonl")}
    assert set(rows[0]) == {"id", "text"} and len(rows) == len(truth) >= 10
    page_text = {}
    for _, record, labels in _responses(sample_dir):
        if record.rec_type == "response" and labels[record.rec_headers.get_header("WARC-Record-ID")]["in_eval"]:
            markup = record.content_stream().read().decode("utf-8")
            page_text[record.rec_headers.get_header("WARC-Target-URI")] = " ".join(
                html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
    assert len(page_text) == sum(truth.values())
    pages = "\n".join(page_text.values())
    for row in rows:
        assert (row["text"] in pages) == truth[row["id"]], row["id"]


def test_cli_help_and_bad_scale(capsys):
    from pipeline.sample.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and "OUT_DIR" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["/tmp/never-written", "--scale", "0"])
