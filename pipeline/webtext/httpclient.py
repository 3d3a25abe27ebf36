"""One HTTP GET, guarded: only http/https, only public addresses (checked after our own DNS
resolution, and the connection pinned to the checked address so a second lookup cannot swap it),
connect/read timeouts plus a whole-response deadline, and a body cap that holds after
decompression too.

Written on `http.client` rather than requests/urllib3 because those resolve the host again inside
the connection pool (a rebinding DNS answer would slip past the address check), decompress without
a size cap, and cannot bound the total time of a response that arrives one byte at a time.
"""
from __future__ import annotations

import heapq
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

READ_CHUNK = 65536
# Cloud metadata endpoints; all but the last are also caught as link-local / private.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200"))
HOP_HEADERS = ("content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive")


def resolve_host(host: str, port: int) -> list[str]:
    """The host's addresses (the module-level hook that tests replace with a stub)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def open_connection(address: tuple[str, int], timeout: float) -> socket.socket:
    """Open a TCP connection (the one place a socket is opened; tests watch it)."""
    return socket.create_connection(address, timeout)


def address_refused(ip_text: str, allowed: tuple) -> bool:
    """True if the address is private, loopback, link-local, reserved, multicast, shared (CGNAT)
    or a cloud metadata address, and not inside one of the `allowed` networks."""
    try:
        ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed):
        return False
    return ip in METADATA_ADDRESSES or not ip.is_global or ip.is_multicast


class Watchdog:
    """Closes the sockets of responses that pass their deadline, waking a blocked read: a socket
    timeout bounds one read, not a response that drips a byte just inside it."""

    def __init__(self):
        self._heap: list[tuple[float, int, "_Guard"]] = []
        self._cond = threading.Condition()
        self._seq = 0
        threading.Thread(target=self._run, name="fetch-watchdog", daemon=True).start()

    def watch(self, guard: "_Guard") -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (guard.deadline, self._seq, guard))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, guard = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            guard.expire()


_shared: Watchdog | None = None
_shared_lock = threading.Lock()


def shared_watchdog() -> Watchdog:
    """One watchdog thread per process (a Python worker runs many fetch tasks)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Watchdog()
        return _shared


@dataclass(eq=False)
class _Guard:
    deadline: float
    sock: socket.socket | None = None
    done: bool = False
    expired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire(self) -> None:
        with self.lock:
            if self.done or self.sock is None:
                self.expired = not self.done
                return
            self.expired = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> None:
        with self.lock:
            self.done = True


@dataclass
class Response:
    """What one GET gave: `reason` is None for a complete response (any status), else why not."""
    url: str
    reason: str | None = None
    status: int | None = None
    status_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    ip: str | None = None
    request_line: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def stored_headers(self) -> list[tuple[str, str]]:
        """Headers as stored in the WARC: the body is stored decoded, so the transfer headers are
        replaced (the originals kept as X-Crawler-*, as CommonCrawl does)."""
        kept = [(k, v) for k, v in self.headers if k.lower() not in HOP_HEADERS]
        moved = [(f"X-Crawler-{k}", v) for k, v in self.headers if k.lower() in HOP_HEADERS]
        return kept + moved + [("Content-Length", str(len(self.body)))]


@dataclass(frozen=True)
class ClientSettings:
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_seconds: float
    max_body_bytes: int
    allowed_networks: tuple = ()
    resolve_overrides: tuple = ()      # ((host, ip), ...)
    accept_mime_types: frozenset[str] | None = None   # None: any type is read


class _Decoder:
    """Content-Encoding gzip/deflate, never producing more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int):
        self.limit = limit
        self.out = bytearray()
        encoding = encoding.strip().lower()
        self.z = None
        if encoding in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.z = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise ValueError(encoding)

    def feed(self, data: bytes) -> bool:
        """False once the decoded body would pass the limit."""
        if self.z is None:
            self.out += data
            return len(self.out) <= self.limit
        while data:
            self.out += self.z.decompress(data, self.limit + 1 - len(self.out))
            if len(self.out) > self.limit:
                return False
            data = self.z.unconsumed_tail
        return True

    def finish(self) -> bytes:
        if self.z is not None:
            self.out += self.z.flush()
        return bytes(self.out[: self.limit + 1])


def get(url: str, settings: ClientSettings, watchdog: Watchdog) -> Response:
    """GET `url` once (no redirects followed). Reasons: bad_scheme, bad_url, dns_error,
    private_address, connection_error, timeout, page_timeout, tls_error, bad_response,
    truncated_body, too_large, not_html, bad_encoding."""
    result = Response(url=url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        result.reason = "bad_url"
        return result
    if parts.scheme not in ("http", "https"):
        result.reason = "bad_scheme"
        return result
    host = parts.hostname
    if not host:
        result.reason = "bad_url"
        return result
    port = port or (443 if parts.scheme == "https" else 80)
    overrides = dict(settings.resolve_overrides)
    try:
        addresses = [overrides[host]] if host in overrides else resolve_host(host, port)
    except (OSError, UnicodeError):
        result.reason = "dns_error"
        return result
    usable = [a for a in addresses if not address_refused(a, settings.allowed_networks)]
    if not usable:
        result.reason = "private_address" if addresses else "dns_error"
        return result
    result.ip = ip = usable[0]

    guard = _Guard(deadline=time.monotonic() + settings.max_seconds)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, port, timeout=settings.connect_timeout)

    def pinned(_address, timeout, source_address=None):
        sock = open_connection((ip, port), timeout)
        with guard.lock:
            guard.sock = sock
        return sock

    conn._create_connection = pinned          # connect to the address we checked, by name for TLS/SNI
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = [("User-Agent", settings.user_agent),
                       ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"),
                       ("Accept-Encoding", "gzip, deflate"), ("Connection", "close")]
    result.request_line = f"GET {path} HTTP/1.1"
    result.request_headers = [("Host", parts.netloc)] + request_headers
    watchdog.watch(guard)
    try:
        conn.request("GET", path, headers=dict(request_headers))
        conn.sock.settimeout(settings.read_timeout)
        response = conn.getresponse()
        result.status = response.status
        result.status_line = f"{response.status} {response.reason}"
        result.headers = list(response.getheaders())
        if response.status == 200:
            _read_body(response, result, settings, guard)
    except (socket.timeout, TimeoutError):
        result.reason = "page_timeout" if guard.expired else "timeout"
    except ssl.SSLError:
        result.reason = "tls_error"
    except zlib.error:
        result.reason = "bad_encoding"
    except http.client.IncompleteRead:
        result.reason = "page_timeout" if guard.expired else "truncated_body"
    except http.client.HTTPException:
        result.reason = "page_timeout" if guard.expired else "bad_response"
    except OSError:
        result.reason = "page_timeout" if guard.expired else "connection_error"
    finally:
        guard.finish()
        conn.close()
    if result.reason is None and guard.expired:
        result.reason = "page_timeout"
    if result.reason:
        result.body = b""
    return result


def _read_body(response: http.client.HTTPResponse, result: Response, settings: ClientSettings,
               guard: _Guard) -> None:
    mime = (result.header("Content-Type") or "").split(";")[0].strip().lower()
    if settings.accept_mime_types is not None and mime and mime not in settings.accept_mime_types:
        result.reason = "not_html"
        return
    declared = result.header("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > settings.max_body_bytes:
        result.reason = "too_large"
        return
    try:
        decoder = _Decoder(result.header("Content-Encoding") or "", settings.max_body_bytes)
    except ValueError:
        result.reason = "bad_encoding"
        return
    raw = 0
    while True:
        if time.monotonic() > guard.deadline:
            result.reason = "page_timeout"
            return
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            break
        raw += len(chunk)
        if raw > settings.max_body_bytes or not decoder.feed(chunk):
            result.reason = "too_large"
            return
    if guard.expired:                 # the watchdog cut the stream: what came is not the page
        result.reason = "page_timeout"
        return
    if response.length:               # the connection closed before Content-Length bytes came
        result.reason = "truncated_body"
        return
    try:
        result.body = decoder.finish()
    except zlib.error:
        result.reason = "bad_encoding"
        return
    if len(result.body) > settings.max_body_bytes:
        result.reason = "too_large"
