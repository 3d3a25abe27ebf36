"""The links stage: URL normalisation, dump formats, the filters, and the URL table from the real
Pushshift dumps checked against a plain-Python reading of the same files."""
from __future__ import annotations

import bz2
import gzip
import json
import lzma

import pytest
import zstandard

from pipeline.core.config import ConfigError, load_config
from pipeline.webtext.links_job import build_links, filter_dump
from pipeline.webtext.reddit import LinkFilter, iter_records
from pipeline.webtext.urls import normalize_url, surt_key

PUSHSHIFT = "reddit/pushshift/RS_v2_2005-06.xz"
IMPORTER = "reddit/pushshift/pushshift-importer_test_submissions.ndjson"


def links_filter(*overrides, preset=None):
    return LinkFilter.from_config(load_config(None, list(overrides))["reddit_links"], preset)


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://WWW.Example.COM:80/a/b/?utm_source=x&id=3#frag", "http://www.example.com/a/b?id=3"),
    ("https://example.com:443", "https://example.com/"),
    ("http://ex.com/x?a=1&amp;fbclid=zz&amp;b=2", "http://ex.com/x?a=1&b=2"),
    ("http://bücher.ch/%7Efoo", "http://xn--bcher-kva.ch/~foo"),
])
def test_normalize_url_folds_spellings_of_one_page(raw, expected):
    assert normalize_url(raw) == (expected, None)


@pytest.mark.parametrize("raw, reason", [
    (None, "missing_url"), ("", "missing_url"), ("ftp://ex.com/f", "not_http"),
    ("javascript:alert(1)", "not_http"), ("example.com/page", "not_http"),
    ("http://ex.com:99999/", "bad_url"), ("http:///nohost", "bad_url"),
])
def test_normalize_url_names_what_is_wrong(raw, reason):
    assert normalize_url(raw) == (None, reason)


def test_surt_key_is_the_cc_index_form():
    assert surt_key("http://www.Example.com/b?z=1&a=2") == "com,example)/b?a=2&z=1"
    assert surt_key("https://example.com/b?a=2&z=1") == surt_key("http://www.example.com/b?z=1&a=2")


def _submission(**fields):
    base = {"url": "http://news.example.com/story", "score": 5, "is_self": False, "over_18": False,
            "created_utc": 1500000000, "subreddit": "news"}
    base.update(fields)
    return base


@pytest.mark.parametrize("fields, reason", [
    ({"url": None}, "missing_url"),
    ({"is_self": True}, "self_post"),
    ({"over_18": True}, "over_18"),
    ({"score": "lots"}, "bad_score"),
    ({"score": 2}, "low_score"),
    ({"created_utc": "yesterday"}, "bad_date"),
    ({"url": "https://en.wikipedia.org/wiki/Reddit"}, "wikipedia"),
    ({"url": "https://i.imgur.com/abc"}, "blocked_domain"),
    ({"url": "https://www.reddit.com/r/x/comments/1/"}, "blocked_domain"),
    ({"url": "http://ex.com/photo.JPG"}, "blocked_extension"),
])
def test_filter_reasons(fields, reason):
    assert links_filter().check(_submission(**fields)) == (None, reason)


def test_filter_accepts_strings_from_csv_and_windows():
    link, reason = links_filter().check(_submission(score="7", created_utc="1500000000.0", over_18="False"))
    assert reason is None and link.score == 7 and link.url == "http://news.example.com/story"
    assert links_filter().check(_submission(over_18=True, score=9))[1] == "over_18"
    assert links_filter("reddit_links.drop_over_18=false").check(_submission(over_18=True))[1] is None
    late = _submission(created_utc=1525000000)                     # 2018-04-29
    assert links_filter(preset="gpt2").check(late)[1] == "after_window"
    assert links_filter(preset="webtext2").check(late)[1] is None
    assert links_filter(preset="webtext2").check(_submission())[1] == "before_window"
    with pytest.raises(ConfigError, match="reddit_links.preset"):
        links_filter(preset="gpt4")
    with pytest.raises(ConfigError, match="reddit_links.end_date"):
        links_filter("reddit_links.end_date=2018/01/01")


@pytest.mark.parametrize("suffix", [".zst", ".xz", ".bz2", ".gz", ".ndjson"])
def test_dump_formats_and_bad_lines(tmp_path, suffix):
    lines = [json.dumps(_submission(score=i)) for i in range(5)] + ["{not json", "[1, 2]", ""]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / f"RS_2017-01{suffix}"
    if suffix == ".zst":
        # the real dumps use long windows: write one that a default decompressor would refuse
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
        data = zstandard.ZstdCompressor(compression_params=params).compress(data)
    elif suffix == ".xz":
        data = lzma.compress(data)
    elif suffix == ".bz2":
        data = bz2.compress(data)
    elif suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    results = list(iter_records(str(path)))
    assert [r for _, r in results] == [None] * 5 + ["bad_json", "not_an_object"]


def test_truncated_dump_ends_with_corrupt_file(tmp_path):
    data = lzma.compress(("\n".join(json.dumps(_submission()) for _ in range(2000)) + "\n").encode())
    path = tmp_path / "RS_cut.xz"
    path.write_bytes(data[: len(data) // 2])
    reasons = [r for _, r in iter_records(str(path))]
    assert reasons[-1] == "corrupt_file" and reasons.count("corrupt_file") == 1


def test_reddit_top_csv_layout(tmp_path):
    header = ("created_utc,score,domain,id,title,author,ups,downs,num_comments,permalink,selftext,"
              "link_flair_text,over_18,thumbnail,subreddit_id,edited,link_flair_css_class,"
              "author_flair_css_class,is_self,name,url,distinguished")
    rows = [
        '1373147944.0,270,forbes.com,1hrqbf,"Title, with comma",bot,315,45,14,http://www.reddit.com/r/x/,,,False,'
        'default,t5_2ql4j,False,,,False,t3_1hrqbf,http://www.forbes.com/sites/a/2013/06/03/story/,',
        '1375790270.0,167,i.imgur.com,1jt181,Pic,bot,250,83,42,http://www.reddit.com/r/y/,,,True,nsfw,'
        't5_2ql4j,False,,,False,t3_1jt181,http://i.imgur.com/p9Su2oi.jpg,',
    ]
    path = tmp_path / "serendipity.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    batches = list(filter_dump(str(path), links_filter()))
    table = batches[0].to_pylist()
    kept = [r for r in table if r["drop_reason"] is None]
    assert [(r["url"], r["score"], r["subreddit"]) for r in kept] == [
        ("http://www.forbes.com/sites/a/2013/06/03/story", 270, "serendipity")]
    assert {r["drop_reason"]: r["n"] for r in table if r["drop_reason"]} == {"links:over_18": 1}


def _plain_reading(path):
    opener = lzma.open if str(path).endswith(".xz") else open
    with opener(path, "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.realdata
def test_real_dumps_give_the_url_table(spark, realdata):
    records = {name: _plain_reading(realdata / name) for name in (PUSHSHIFT, IMPORTER)}
    # The independent counts of MANIFEST.md, from the plain reading.
    rs = records[PUSHSHIFT]
    assert len(rs) == 103 and sum(r["score"] >= 3 for r in rs) == 83 and not any(r["is_self"] for r in rs)
    imp = records[IMPORTER]
    assert len(imp) == 31 and sum(not r["is_self"] for r in imp) == 19
    assert sum(int(r["score"]) >= 3 for r in imp) == 8 and sum(r["over_18"] for r in imp) == 6

    # What the filters should do, in the order they are applied, by plain Python.
    expected: dict[str, int] = {}
    kept_urls: dict[str, list] = {}
    for rec in rs + imp:
        if rec["is_self"]:
            reason = "links:self_post"
        elif rec["over_18"]:
            reason = "links:over_18"
        elif int(rec["score"]) < 3:
            reason = "links:low_score"
        elif rec["domain"].endswith(("reddit.com", "redd.it", "redgifs.com", "imgur.com")):
            reason = "links:blocked_domain"
        else:
            reason = "kept"
            kept_urls.setdefault(normalize_url(rec["url"])[0], []).append(rec)
        expected[reason] = expected.get(reason, 0) + 1

    files = [str(realdata / PUSHSHIFT), str(realdata / IMPORTER)]
    links, counts = build_links(spark, files, links_filter(), partitions=2)
    assert counts == expected
    assert counts["kept"] == 83 + 4      # all 83 of June 2005; 4 more from the importer file
    table = {row["url"]: row for row in links.collect()}
    assert set(table) == set(kept_urls)
    # Four 2005 submissions appear in both files: merged, with karma summed.
    memo = table["http://www.downingstreetmemo.com/"]
    assert memo["submissions"] == 2 and memo["karma"] == 2 * 183 and memo["subreddits"] == ["reddit.com"]
    for url, recs in kept_urls.items():
        row = table[url]
        assert row["karma"] == sum(int(r["score"]) for r in recs)
        assert row["submissions"] == len(recs)
        assert int(row["first_seen"].timestamp()) == min(int(float(r["created_utc"])) for r in recs)
        assert row["url_surtkey"] == surt_key(url)


def test_sample_dump_gives_what_its_labels_expect(tmp_path):
    """The demo's Reddit dump (pipeline.sample) labels each submission with what should become of
    it; the filters must agree, submission by submission."""
    sample = pytest.importorskip("pipeline.sample")
    manifest = sample.generate(tmp_path, seed=0)
    labels = {}
    for line in (tmp_path / manifest["paths"]["reddit_labels"]).read_text().splitlines():
        row = json.loads(line)
        labels[row["id"]] = row["expect"]
    expected_reason = {"link": None, "not_crawled": None, "low_score": "low_score", "blocked": "blocked_domain",
                       "self": "self_post", "over_18": "over_18", "wikipedia": "wikipedia"}
    link_filter = links_filter(preset="gpt2")
    seen = 0
    for name in manifest["paths"]["reddit"]:
        for record, reason in iter_records(str(tmp_path / name)):
            assert reason is None
            _, why = link_filter.check(record)
            assert why == expected_reason[labels[record["id"]]], record
            seen += 1
    assert seen == len(labels)


def test_overrides_after_inputs_are_given_back():
    from pipeline.webtext.paths import split_overrides

    inputs, overrides = split_overrides(["RS_2017-01.zst", "s3://b/crawl=CC-1/x.zst", "/d/a.b=2",
                                         "reddit_links.min_score=5"])
    assert inputs == ["RS_2017-01.zst", "s3://b/crawl=CC-1/x.zst", "/d/a.b=2"]
    assert overrides == ["reddit_links.min_score=5"]
