"""A polite crawler for the URLs one fetch task owns.

Politeness: robots.txt is fetched once per origin (through the host's own slot, so it counts
against the host's rate) and obeyed, with its Crawl-delay honoured up to a cap; a host has at most
one request in flight, and the next one starts `min_host_delay_seconds` after the previous response
ended (so the host itself sees them at least that far apart, whatever the network does); at most
`connections_per_task` requests are open at once in the task. Hosts wait in a heap ordered by the
time they may next be asked, so a worker thread never sleeps while another host is ready.

429 and 5xx answers, timeouts and refused connections are retried up to `max_retries` times, after
Retry-After (when the server gives one, up to a cap) or an exponential backoff; the host's slot is
pushed back by as much, so a struggling host gets nothing in between. Redirects are followed inline
up to `max_redirects`; each hop passes the same scheme/address checks, a same-host hop waits the
host delay, and a hop to another origin checks that origin's robots.txt first.
"""
from __future__ import annotations

import dataclasses
import email.utils
import heapq
import ipaddress
import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from protego import Protego

from pipeline.webtext.httpclient import ClientSettings, Response, get, shared_watchdog
from pipeline.webtext.urls import url_host

log = logging.getLogger("webmix.webtext")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_REASONS = frozenset({"timeout", "connection_error"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 500_000            # Google reads the first 500 KiB of a robots.txt


@dataclass(frozen=True)
class CrawlSettings:
    client: ClientSettings
    robots_agent: str
    connections: int
    min_delay: float
    max_crawl_delay: float
    max_redirects: int
    max_retries: int
    backoff: float
    max_retry_after: float

    @classmethod
    def from_config(cls, fetch: dict) -> "CrawlSettings":
        http = fetch["http"]
        client = ClientSettings(
            user_agent=http["user_agent"], connect_timeout=http["connect_timeout_seconds"],
            read_timeout=http["read_timeout_seconds"], max_seconds=http["max_page_seconds"],
            max_body_bytes=http["max_body_bytes"],
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in http["allow_networks"]),
            resolve_overrides=tuple(sorted((str(k).lower(), str(v)) for k, v in http["resolve_overrides"].items())),
            accept_mime_types=frozenset(m.lower() for m in fetch["html_mime_types"]))
        return cls(client=client, robots_agent=http["robots_agent"],
                   connections=http["connections_per_task"], min_delay=http["min_host_delay_seconds"],
                   max_crawl_delay=http["max_crawl_delay_seconds"], max_redirects=http["max_redirects"],
                   max_retries=http["max_retries"], backoff=http["backoff_seconds"],
                   max_retry_after=http["max_retry_after_seconds"])


@dataclass
class FetchResult:
    """The outcome for one requested URL: `response` holds the final 200 page when reason is None."""
    url: str
    reason: str | None
    final_url: str | None = None
    response: Response | None = None
    status: int | None = None
    attempts: int = 1
    fetched_at: datetime | None = None


@dataclass
class _Robots:
    rules: Protego | None = None      # None: everything allowed (no robots.txt)
    error: str | None = None          # the origin could not be asked at all


@dataclass(eq=False)
class _Host:
    name: str
    queue: deque = field(default_factory=deque)      # (url, attempt)
    next_ok: float = 0.0
    delay: float = 0.0
    last_end: float = 0.0


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class Crawler:
    def __init__(self, settings: CrawlSettings):
        self.settings = settings
        self.watchdog = shared_watchdog()
        self._robots: dict[str, _Robots] = {}
        self._robots_lock = threading.Lock()

    # --- scheduling ------------------------------------------------------------------------------
    def crawl(self, urls: Iterable[str],
              on_result: Callable[[FetchResult], None] | None = None) -> list[FetchResult]:
        """Fetch every URL; each outcome goes to `on_result` (called under a lock, so it may write
        a file) as it comes. The returned results keep no page bodies."""
        hosts: dict[str, _Host] = {}
        for url in urls:
            name = url_host(url)
            host = hosts.setdefault(name, _Host(name, delay=self.settings.min_delay))
            host.queue.append((url, 1))
        self._heap = [(0.0, i, h) for i, h in enumerate(hosts.values())]
        heapq.heapify(self._heap)
        self._seq = itertools.count(len(self._heap))
        self._busy = 0
        self._cond = threading.Condition()
        self._results: list[FetchResult] = []
        self._on_result = on_result
        self._emit_lock = threading.Lock()
        workers = [threading.Thread(target=self._work, name=f"fetch-{i}", daemon=True)
                   for i in range(max(1, min(self.settings.connections, len(hosts))))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return self._results

    def _emit(self, result: FetchResult) -> None:
        with self._emit_lock:
            if self._on_result is not None:
                self._on_result(result)
            result.response = None         # the body has been written; keep memory flat
            self._results.append(result)

    def _take(self) -> _Host | None:
        with self._cond:
            while True:
                if self._heap:
                    ready, _, host = self._heap[0]
                    wait = ready - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        self._busy += 1
                        return host
                    self._cond.wait(wait)
                elif self._busy == 0:
                    return None
                else:
                    self._cond.wait()

    def _release(self, host: _Host) -> None:
        with self._cond:
            self._busy -= 1
            if host.queue:
                heapq.heappush(self._heap, (host.next_ok, next(self._seq), host))
            self._cond.notify_all()

    def _work(self) -> None:
        while (host := self._take()) is not None:
            try:
                self._turn(host)
            except Exception:  # a bug must not stall the task: the URL is counted, the crawl goes on
                if host.queue:
                    url, attempt = host.queue.popleft()
                    log.exception("crawler error on %s", url)
                    self._emit(FetchResult(url, "crawler_error", attempts=attempt))
            finally:
                self._release(host)

    # --- one turn of a host: robots.txt, or one URL ----------------------------------------------
    def _request(self, host: _Host | None, url: str, max_body: int | None = None,
                 any_type: bool = False) -> Response:
        """One GET; when it goes to `host`, it waits for the host's slot time and moves it on.
        The delay runs from the end of the previous response (as Nutch's fetcher does), so the
        host sees its requests at least `delay` apart however the network delays them."""
        if host is not None:
            wait = host.next_ok - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        client = self.settings.client
        if max_body is not None or any_type:
            client = dataclasses.replace(
                client, max_body_bytes=max_body or client.max_body_bytes,
                accept_mime_types=None if any_type else client.accept_mime_types)
        try:
            return get(url, client, self.watchdog)
        finally:
            if host is not None:
                host.last_end = time.monotonic()
                host.next_ok = host.last_end + host.delay

    def _turn(self, host: _Host) -> None:
        url, attempt = host.queue[0]
        origin = _origin(url)
        if origin not in self._robots:
            self._fetch_robots(origin, host)
            return                     # the page waits for the host's next slot
        # The URL stays at the head of the queue until its outcome is settled (see _work).
        robots = self._robots[origin]
        if robots.error or (robots.rules and not robots.rules.can_fetch(url, self.settings.robots_agent)):
            host.queue.popleft()
            self._emit(FetchResult(url, robots.error or "robots_disallowed", attempts=attempt))
            return
        result = self._follow(host, url)
        result.attempts = attempt
        retry_in = self._retry_delay(result, attempt)
        host.queue.popleft()
        if retry_in is not None:
            host.queue.appendleft((url, attempt + 1))
            host.next_ok = max(host.next_ok, time.monotonic() + retry_in)
            return
        self._emit(result)

    def _retry_delay(self, result: FetchResult, attempt: int) -> float | None:
        retryable = result.status in RETRY_STATUSES or result.reason in RETRY_REASONS
        if not retryable or attempt > self.settings.max_retries:
            return None
        backoff = self.settings.backoff * 2 ** (attempt - 1)
        if result.response is not None and result.status in (429, 503):
            asked = retry_after_seconds(result.response.header("Retry-After"))
            if asked is not None:
                if asked > self.settings.max_retry_after:
                    result.reason = "retry_after_too_long"
                    return None
                return max(asked, backoff)
        return backoff

    def _fetch_robots(self, origin: str, host: _Host | None) -> _Robots:
        response, final, reason = self._get_following(host, origin + "/robots.txt",
                                                      max_body=ROBOTS_MAX_BYTES, any_type=True)
        if reason in ("too_large",) or (reason is None and response.status == 200):
            body = response.body if reason is None else b""
            robots = _Robots(rules=Protego.parse(body.decode("utf-8", "replace")))
        elif reason is None and 400 <= response.status < 500 and response.status != 429:
            robots = _Robots()          # no robots.txt: everything is allowed
        elif reason is None:
            robots = _Robots(error="robots_unavailable")   # 5xx / 429: stay away for now
        elif reason in ("redirect_loop", "too_many_redirects", "timeout", "page_timeout",
                        "truncated_body", "bad_response", "bad_encoding"):
            robots = _Robots(error="robots_unavailable")
        else:
            robots = _Robots(error=reason)   # dns_error, private_address, connection_error, ...
        if robots.rules is not None and host is not None:
            delay = robots.rules.crawl_delay(self.settings.robots_agent)
            if delay:
                host.delay = max(self.settings.min_delay, min(float(delay), self.settings.max_crawl_delay))
                host.next_ok = max(host.next_ok, host.last_end + host.delay)
        with self._robots_lock:
            self._robots[origin] = robots
        return robots

    def _get_following(self, host: _Host | None, url: str, max_body: int | None = None,
                       any_type: bool = False, check_robots: bool = False
                       ) -> tuple[Response | None, str, str | None]:
        """GET with redirects: (final response, final URL, reason). Reasons beyond `get`'s:
        redirect_loop, too_many_redirects, bad_redirect, robots_disallowed (a hop's origin)."""
        seen = {url}
        current = url
        for hop in range(self.settings.max_redirects + 1):
            same_host = host is not None and url_host(current) == host.name
            response = self._request(host if same_host else None, current, max_body, any_type)
            if response.reason or response.status not in REDIRECT_STATUSES:
                return response, current, response.reason
            location = response.header("Location")
            if not location:
                return response, current, "bad_redirect"
            target = urljoin(current, location.strip()).split("#", 1)[0]
            if target in seen:
                return response, current, "redirect_loop"
            seen.add(target)
            current = target
            if check_robots and _origin(target) != _origin(url):
                origin = _origin(target)
                robots = self._robots.get(origin) or self._fetch_robots(origin, None)
                if robots.error or (robots.rules and not robots.rules.can_fetch(
                        target, self.settings.robots_agent)):
                    return response, current, robots.error or "robots_disallowed"
        return response, current, "too_many_redirects"

    def _follow(self, host: _Host, url: str) -> FetchResult:
        response, final, reason = self._get_following(host, url, check_robots=True)
        now = datetime.now(timezone.utc)
        status = response.status if response is not None else None
        if reason is None and status != 200:
            reason = f"http_{status}"
        return FetchResult(url, reason, final_url=final, response=response if reason is None or
                           status in RETRY_STATUSES else None, status=status, fetched_at=now)
