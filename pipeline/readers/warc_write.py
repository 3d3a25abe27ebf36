"""Write HTML pages as WARC response records (warcio), gzip per record by default.

Used to build benchmark crawls and test fixtures from real pages. The fetcher's own output, request
and response pairs committed by rename, is pipeline/webtext/warcout.py, on the same warcio writer.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO, Iterable

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Page:
    url: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    date: datetime | str | None = None
    record_id: str | None = None
    extra_http_headers: tuple[tuple[str, str], ...] = ()


def warc_date(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return value
    value = value or datetime(2024, 1, 1, tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_pages(fh: BinaryIO, pages: Iterable[Page], gzip: bool = True) -> int:
    """Append one response record per page to an open binary file; returns the record count."""
    writer = WARCWriter(fh, gzip=gzip)
    count = 0
    for page in pages:
        http = StatusAndHeaders(page.status, [("Content-Type", page.content_type),
                                              ("Content-Length", str(len(page.body))),
                                              *page.extra_http_headers], protocol="HTTP/1.1")
        headers = {"WARC-Date": warc_date(page.date)}
        if page.record_id:
            headers["WARC-Record-ID"] = f"<{page.record_id}>"
        record = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.body),
                                           http_headers=http, warc_headers_dict=headers)
        writer.write_record(record)
        count += 1
    return count


def write_warc(path: str, pages: Iterable[Page], gzip: bool = True) -> int:
    with open(path, "wb") as fh:
        return write_pages(fh, pages, gzip=gzip)
