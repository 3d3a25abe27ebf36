"""The polite crawler against a misbehaving server on 127.0.0.1 (webtext_loopback.py).

Every test replaces the socket opener with one that refuses anything but loopback, so no test can
ever open a connection elsewhere; host names reach the server through resolve_overrides."""
from __future__ import annotations

import time

import pytest

from pipeline.core.config import load_config
from pipeline.webtext import httpclient
from pipeline.webtext.crawler import Crawler, CrawlSettings, retry_after_seconds
from pipeline.webtext.httpclient import address_refused

from webtext_loopback import LoopbackServer

HOSTS = ("a.test", "b.test", "c.test")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Record every connection the crawler opens; refuse (and fail the test on) non-loopback."""
    opened: list[tuple[str, int]] = []
    real_open = httpclient.open_connection

    def guarded(address, timeout):
        opened.append(address)
        assert address[0] in ("127.0.0.1", "::1"), f"test tried to connect to {address}"
        return real_open(address, timeout)

    monkeypatch.setattr(httpclient, "open_connection", guarded)
    return opened


def settings(*overrides, hosts=HOSTS) -> CrawlSettings:
    mapping = ", ".join(f"{h}: 127.0.0.1" for h in hosts)
    config = load_config(None, [
        "fetch_pages.http.allow_networks=[127.0.0.0/8]",
        f"fetch_pages.http.resolve_overrides={{{mapping}}}",
        "fetch_pages.http.min_host_delay_seconds=0.05", "fetch_pages.http.max_page_seconds=1.5",
        "fetch_pages.http.read_timeout_seconds=0.5", "fetch_pages.http.connect_timeout_seconds=0.5",
        "fetch_pages.http.max_body_bytes=200000", "fetch_pages.http.backoff_seconds=0.05",
        "fetch_pages.http.max_retries=2", "fetch_pages.http.connections_per_task=8", *overrides])
    return CrawlSettings.from_config(config["fetch_pages"])


def crawl(server, paths, *overrides, host="a.test"):
    urls = [server.url(host, p) if p.startswith("/") else p for p in paths]
    bodies = {}

    def keep(result):
        if result.reason is None:
            bodies[result.url] = result.response.body

    results = Crawler(settings(*overrides)).crawl(urls, on_result=keep)
    by_path = {r.url.split(str(server.port), 1)[-1] if str(server.port) in r.url else r.url: r for r in results}
    return by_path, bodies


def test_pages_robots_and_politeness():
    robots = {"a.test": "User-agent: *\nDisallow: /page/secret\n"}
    with LoopbackServer(robots=robots) as server:
        results, bodies = crawl(server, ["/page/1", "/page/2", "/page/secret", "/page/3", "/slow/0.3/4"],
                                "fetch_pages.http.min_host_delay_seconds=0.2")
        assert results["/page/secret"].reason == "robots_disallowed"
        for path in ("/page/1", "/page/2", "/page/3", "/slow/0.3/4"):
            assert results[path].reason is None and results[path].status == 200
        assert b"<article>" in bodies[server.url("a.test", "/page/1")]
        asked = server.requests_of("a.test")
        assert [p for p, _ in asked].count("/robots.txt") == 1 and asked[0][0] == "/robots.txt"
        assert "/page/secret" not in [p for p, _ in asked]
        starts = [t for _, t in asked]
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        assert min(gaps) >= 0.2                 # one host: requests arrive at least the delay apart


def test_crawl_delay_from_robots_is_honoured_up_to_the_cap():
    robots = {"a.test": "User-agent: *\nCrawl-delay: 0.3\n", "b.test": "User-agent: *\nCrawl-delay: 1000\n"}
    with LoopbackServer(robots=robots) as server:
        urls = [server.url("a.test", f"/page/{i}") for i in range(3)] + [server.url("b.test", "/page/9")]
        results = Crawler(settings("fetch_pages.http.max_crawl_delay_seconds=0.4")).crawl(urls)
        assert all(r.reason is None for r in results)
        starts = [t for _, t in server.requests_of("a.test")]
        assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.3
        b_starts = [t for _, t in server.requests_of("b.test")]
        assert b_starts[1] - b_starts[0] < 1.0           # capped at 0.4, not 1000 s


def test_bad_servers_end_with_named_reasons_and_nothing_hangs():
    with LoopbackServer() as server:
        start = time.monotonic()
        results, _ = crawl(server, ["/drip", "/endless", "/bomb", "/lie", "/loop/a", "/image",
                                    "/nothing", "/fail", "/slow/3/1"])
        elapsed = time.monotonic() - start
        assert results["/drip"].reason == "page_timeout"          # bytes keep coming, too slowly
        assert results["/endless"].reason == "too_large"
        assert results["/bomb"].reason == "too_large"              # 16 KB on the wire, 16 MB inflated
        assert results["/lie"].reason == "truncated_body"          # Content-Length 5000, 20 bytes
        assert results["/loop/a"].reason == "redirect_loop"
        assert results["/image"].reason == "not_html"
        assert results["/nothing"].reason == "http_404"
        assert results["/fail"].reason == "http_500" and results["/fail"].attempts == 3
        assert results["/slow/3/1"].reason == "timeout"            # read timeout 0.5 s
        assert elapsed < 15


def test_too_many_redirects_and_schemes():
    with LoopbackServer() as server:
        hop = "/page/1"
        for _ in range(4):
            hop = "/to?u=" + server.url("a.test", hop).replace(":", "%3A").replace("/", "%2F").replace("?", "%3F").replace("=", "%3D")
        results, _ = crawl(server, [hop, "ftp://a.test/file", "/to?u=ftp://a.test/x"],
                           "fetch_pages.http.max_redirects=2")
        assert results[hop].reason == "too_many_redirects"
        assert results["ftp://a.test/file"].reason == "bad_scheme"
        assert results["/to?u=ftp://a.test/x"].reason == "bad_scheme"


def test_429_is_retried_after_retry_after():
    with LoopbackServer() as server:
        results, bodies = crawl(server, ["/busy/2/5", "/busy/9/6"])
        assert results["/busy/2/5"].reason is None and results["/busy/2/5"].attempts == 3
        assert results["/busy/9/6"].reason == "http_429" and results["/busy/9/6"].attempts == 3
        assert [p for p, _ in server.requests_of("a.test")].count("/busy/2/5") == 3


def test_retry_after_parsing_and_cap():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None


def test_private_addresses_are_refused_without_connecting(monkeypatch, loopback_only):
    # DNS is stubbed: these names resolve to private, link-local (metadata) and CGNAT addresses.
    fake_dns = {"intranet.test": ["10.1.2.3"], "metadata.test": ["169.254.169.254"],
                "cgnat.test": ["100.100.100.200"], "mixed.test": ["192.168.1.5", "fd00::1"]}
    asked = []

    def stub_resolver(host, port):
        asked.append(host)
        if host in fake_dns:
            return fake_dns[host]
        raise OSError(f"unknown host {host}")

    monkeypatch.setattr(httpclient, "resolve_host", stub_resolver)
    with LoopbackServer() as server:
        paths = ["/to?u=http://intranet.test/admin", "/to?u=http://metadata.test/latest/meta-data/",
                 "http://cgnat.test/", "http://mixed.test/page", "/to?u=http://nowhere.test/",
                 "/page/1"]
        results, _ = crawl(server, paths)
        assert results["/to?u=http://intranet.test/admin"].reason == "private_address"
        assert results["/to?u=http://metadata.test/latest/meta-data/"].reason == "private_address"
        assert results["http://cgnat.test/"].reason == "private_address"
        assert results["http://mixed.test/page"].reason == "private_address"
        assert results["/to?u=http://nowhere.test/"].reason == "dns_error"
        assert results["/page/1"].reason is None
        assert {"intranet.test", "metadata.test", "cgnat.test", "mixed.test"} <= set(asked)
        assert all(address[0] == "127.0.0.1" for address in loopback_only)


def test_loopback_is_refused_unless_allowed(loopback_only):
    with LoopbackServer() as server:
        results = Crawler(settings("fetch_pages.http.allow_networks=[]")).crawl([server.url("a.test", "/page/1")])
        assert results[0].reason == "private_address"
        assert loopback_only == []


@pytest.mark.parametrize("address, refused", [
    ("8.8.8.8", False), ("2606:4700::1111", False), ("10.0.0.1", True), ("172.16.5.4", True),
    ("192.168.0.1", True), ("127.0.0.1", True), ("169.254.169.254", True), ("100.64.0.1", True),
    ("0.0.0.0", True), ("::1", True), ("fe80::1", True), ("fd00:ec2::254", True),
    ("::ffff:10.0.0.1", True), ("224.0.0.1", True), ("not an ip", True),
])
def test_address_refused(address, refused):
    assert address_refused(address, ()) is refused


def test_many_hosts_share_the_connection_limit():
    hosts = tuple(f"h{i}.test" for i in range(12))
    with LoopbackServer() as server:
        urls = [server.url(h, f"/page/{i}") for h in hosts for i in range(3)]
        crawler = Crawler(settings("fetch_pages.http.connections_per_task=4", hosts=hosts))
        results = crawler.crawl(urls)
        assert len(results) == 36 and all(r.reason is None for r in results)
        for host in hosts:
            # as the server saw them: the delay runs from the end of the previous response, so no
            # network or scheduling jitter can bring two requests closer than the delay
            starts = [t for _, t in server.requests_of(host)]
            assert len(starts) == 4 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.05
