"""Fetch benchmark: the polite crawler against a loopback server, then the same pages through the
ccindex route (index the crawler's WARC, read every page back by byte range), side by side.

Many host names (default 60) all resolve to 127.0.0.1 through the crawler's resolve_overrides;
a tenth of the pages answer slowly. Printed: pages/s of each route and their ratio, and the highest
request rate any single host saw, measured where the crawler starts a request and where the server
receives it, against the per-host limit (1 / min_host_delay_seconds), which must never be exceeded.
Runs the engines as a fetch task runs them (no Spark: the figures are per task).

    .venv/bin/python bench/fetch.py [--hosts 60] [--pages-per-host 50] [--delay 0.1] [--max-seconds 300]
"""
from __future__ import annotations

import argparse
import bisect
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "webtext")]

from pipeline.core.config import load_config  # noqa: E402
from pipeline.webtext import crawler as crawler_module  # noqa: E402
from pipeline.webtext.ccindex import RangeReader, check_record, index_warc  # noqa: E402
from pipeline.webtext.crawler import Crawler, CrawlSettings  # noqa: E402
from pipeline.webtext.urls import surt_key, url_host  # noqa: E402
from pipeline.webtext.warcout import WarcSink  # noqa: E402
from webtext_loopback import LoopbackServer  # noqa: E402


def max_rate(times_by_host: dict[str, list[float]], window: float = 1.0) -> tuple[float, str]:
    """The most requests any host got within `window` seconds (half-open), as requests/second."""
    best, where = 0, ""
    for host, times in times_by_host.items():
        times = sorted(times)
        for i, start in enumerate(times):
            n = bisect.bisect_left(times, start + window) - i
            if n > best:
                best, where = n, host
    return best / window, where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=60)
    parser.add_argument("--pages-per-host", type=int, default=50)
    parser.add_argument("--slow-every", type=int, default=10, help="every Nth page answers after --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=0.3)
    parser.add_argument("--delay", type=float, default=0.1, help="min_host_delay_seconds")
    parser.add_argument("--connections", type=int, default=64, help="connections_per_task")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="give up after this long")
    args = parser.parse_args()

    hosts = [f"host{i:03d}.bench" for i in range(args.hosts)]
    mapping = ", ".join(f"{h}: 127.0.0.1" for h in hosts)
    config = load_config(None, [
        "fetch_pages.http.allow_networks=[127.0.0.0/8]", f"fetch_pages.http.resolve_overrides={{{mapping}}}",
        f"fetch_pages.http.min_host_delay_seconds={args.delay}",
        f"fetch_pages.http.connections_per_task={args.connections}",
        "fetch_pages.http.read_timeout_seconds=5.0", "fetch_pages.http.max_page_seconds=10.0"])
    settings = CrawlSettings.from_config(config["fetch_pages"])

    started: dict[str, list[float]] = defaultdict(list)
    real_get = crawler_module.get
    lock = threading.Lock()

    def timed_get(url, client, watchdog):
        with lock:
            started[url_host(url)].append(time.monotonic())
        return real_get(url, client, watchdog)

    crawler_module.get = timed_get

    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        urls = []
        for h in hosts:
            for n in range(args.pages_per_host):
                slow = args.slow_every and n % args.slow_every == args.slow_every - 1
                urls.append(server.url(h, f"/slow/{args.slow_seconds}/{n}" if slow else f"/page/{n}"))

        # --- http route -------------------------------------------------------------------------
        sink = WarcSink(tmp, "crawl.warc.gz")
        outcome = {}

        def write(result):
            outcome[result.url] = result.reason
            if result.reason is None:
                r = result.response
                sink.write_exchange(result.final_url, r.request_line, r.request_headers, r.status_line,
                                    r.stored_headers(), r.body, result.fetched_at, r.ip)

        crawl = threading.Thread(target=lambda: Crawler(settings).crawl(urls, on_result=write), daemon=True)
        t0 = time.perf_counter()
        crawl.start()
        crawl.join(args.max_seconds)
        http_seconds = time.perf_counter() - t0
        finished = not crawl.is_alive()
        warc_path = sink.commit()
        ok = sum(1 for r in outcome.values() if r is None)

        server_times: dict[str, list[float]] = defaultdict(list)
        for host, _, t in server.log:
            server_times[host].append(t)
        client_rate, client_host = max_rate(started)
        server_rate, server_host = max_rate(server_times)

        # --- ccindex route over the same pages ---------------------------------------------------
        t1 = time.perf_counter()
        rows = [r for r in index_warc(warc_path) if not r.get("error")]
        index_seconds = time.perf_counter() - t1
        reader = RangeReader(config["fetch_pages"]["ccindex"], settings.client.user_agent)
        out = WarcSink(tmp, "ccindex.warc.gz")
        t2 = time.perf_counter()
        read_ok = 0
        for row in sorted(rows, key=lambda r: r["warc_record_offset"]):
            data, reason = reader.read(row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
            if data is not None and check_record(data, surt_key(row["url"]))[1] is None:
                out.write_raw(data)
                read_ok += 1
        cc_seconds = time.perf_counter() - t2
        out.commit()
        reader.close()

    crawler_module.get = real_get
    limit = 1.0 / args.delay
    http_rate = ok / http_seconds if http_seconds else 0.0
    cc_rate = read_ok / cc_seconds if cc_seconds else 0.0
    print(f"pages: {len(urls)} over {len(hosts)} hosts ({len(urls) // args.slow_every if args.slow_every else 0} "
          f"slow by {args.slow_seconds}s); per-host limit {limit:.1f} req/s; {args.connections} connections")
    print(f"{'route':<22}{'pages ok':>10}{'seconds':>10}{'pages/s':>10}")
    print(f"{'http crawler':<22}{ok:>10}{http_seconds:>10.2f}{http_rate:>10.1f}"
          + ("" if finished else "   (stopped at --max-seconds)"))
    print(f"{'ccindex byte ranges':<22}{read_ok:>10}{cc_seconds:>10.2f}{cc_rate:>10.1f}"
          f"   (+ {index_seconds:.2f}s to index the WARC)")
    print(f"ccindex / http pages/s: {cc_rate / http_rate:.1f}x" if http_rate else "no pages crawled")
    print(f"highest per-host rate (any 1 s window): crawler starts {client_rate:.1f} req/s ({client_host}), "
          f"server arrivals {server_rate:.1f} req/s ({server_host}); limit {limit:.1f} req/s")
    print(f"ideal crawl time at the limit: {args.pages_per_host * args.delay:.1f}s per host; "
          f"requests per host incl. robots.txt: {args.pages_per_host + 1}")
    if client_rate > limit:
        print("POLITENESS VIOLATED: the crawler started requests faster than the per-host limit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
