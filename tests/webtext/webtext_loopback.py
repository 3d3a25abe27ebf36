"""A misbehaving web server on 127.0.0.1 for the crawler tests and bench/fetch.py.

Any host name can be pointed at it (the crawler's resolve_overrides); it answers by path and logs
(host, path, time) of every request, so a test can check what the crawler asked and how fast.

    /robots.txt          the host's rules from `robots` (404 when the host has none)
    /page/<n>            an article-like HTML page
    /slow/<s>/<n>        the page after s seconds
    /drip                headers, then one byte every 0.2 s, forever
    /endless             a body that never ends, sent as fast as it goes
    /bomb                a 16 KB gzip body that inflates to 16 MB
    /lie                 Content-Length 5000, 20 bytes sent, connection closed
    /loop/a, /loop/b     redirect to each other
    /to?u=URL            302 to URL
    /busy/<k>/<n>        429 (Retry-After: 0) for the first k asks of this host+path, then the page
    /fail                500 every time
    /image               a PNG
"""
from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WORDS = ("the river carried small boats past the old mill while the town council argued about "
         "the bridge and the price of grain fell again as farmers brought in the harvest").split()


def page_html(host: str, n: str) -> bytes:
    paragraphs = []
    for p in range(5):
        words = [WORDS[(int(n) * 7 + p * 13 + i) % len(WORDS)] if n.isdigit() else WORDS[i % len(WORDS)]
                 for i in range(60)]
        paragraphs.append("<p>" + " ".join(words).capitalize() + f" on {host} page {n} part {p}.</p>")
    return (f"<!doctype html><html><head><title>{host} {n}</title></head><body><article>"
            f"<h1>Story {n}</h1>{''.join(paragraphs)}</article></body></html>").encode()


BOMB = gzip.compress(b"\0" * (16 << 20), compresslevel=9)     # 16 KB on the wire


class LoopbackServer:
    def __init__(self, robots: dict[str, str] | None = None):
        self.robots = robots or {}
        self.log: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._busy_counts: dict[tuple[str, str], int] = {}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_of(self, host: str) -> list[tuple[str, float]]:
        with self._lock:
            return [(p, t) for h, p, t in self.log if h == host]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
                      headers: dict | None = None, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 (http.server's name)
                host = (self.headers.get("Host") or "").split(":")[0]
                parts = urlsplit(self.path)
                path = parts.path
                with server._lock:
                    server.log.append((host, self.path, time.monotonic()))
                segs = path.strip("/").split("/")
                try:
                    self._route(host, path, segs, parts)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _route(self, host, path, segs, parts):
                if path == "/robots.txt":
                    if host in server.robots:
                        self._send(200, server.robots[host].encode(), "text/plain")
                    else:
                        self._send(404, b"no robots", "text/plain")
                elif segs[0] == "page":
                    self._send(200, page_html(host, segs[1]))
                elif segs[0] == "slow":
                    time.sleep(float(segs[1]))
                    self._send(200, page_html(host, segs[2]))
                elif segs[0] == "drip":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    while True:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.2)
                elif segs[0] == "endless":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    block = b"<p>" + b"endless " * 8000 + b"</p>"
                    while True:
                        self.wfile.write(block)
                elif segs[0] == "bomb":
                    self._send(200, BOMB, headers={"Content-Encoding": "gzip"})
                elif segs[0] == "lie":
                    self._send(200, b"<html><body>short</b", length=5000)
                elif segs[0] == "loop":
                    target = "/loop/b" if segs[1] == "a" else "/loop/a"
                    self._send(302, b"", headers={"Location": target})
                elif segs[0] == "to":
                    self._send(302, b"", headers={"Location": parse_qs(parts.query)["u"][0]})
                elif segs[0] == "busy":
                    key = (host, path)
                    with server._lock:
                        seen = server._busy_counts[key] = server._busy_counts.get(key, 0) + 1
                    if seen <= int(segs[1]):
                        self._send(429, b"slow down", "text/plain", headers={"Retry-After": "0"})
                    else:
                        self._send(200, page_html(host, segs[2]))
                elif segs[0] == "fail":
                    self._send(500, b"oops", "text/plain")
                elif segs[0] == "image":
                    self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
                else:
                    self._send(404, b"not here", "text/plain")

        return Handler
