"""Writing the fetched pages as WARC, one file per fetch task, committed by rename.

A task writes `<name>.tmp`, then renames it to `<name>` once every record is in: a retried task
writes the same name again (the names depend on the run and the partition only), and a failed one
leaves no half file that a later stage could read.
"""
from __future__ import annotations

import gzip
import io
from datetime import datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.core.job import package_version
from pipeline.core.output import fs_path
from pipeline.readers.warc_write import warc_date


class WarcSink:
    """One output WARC (gzip per record). `path` is what the fetch log records as warc_filename."""

    def __init__(self, folder: str, name: str, software: str = "webmix"):
        self.path = folder.rstrip("/") + "/" + name
        self.name, self.software = name, software
        self.fs, self._final = fs_path(self.path)
        self._tmp = self._final + ".tmp"
        self._fh = self._writer = None    # opened by the first record: a task without pages writes nothing
        self.records = 0

    def __enter__(self) -> "WarcSink":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        """Commit when the block ends normally; remove the half file when it raises."""
        if kind is None:
            self.commit()
        else:
            self.abort()

    def _open(self) -> None:
        self.fs.makedirs(self._final.rsplit("/", 1)[0], exist_ok=True)
        self._fh = self.fs.open(self._tmp, "wb")
        self._writer = WARCWriter(self._fh, gzip=True)
        info = self._writer.create_warcinfo_record(self.name, {
            "software": f"{self.software} {package_version()}", "format": "WARC File Format 1.1"})
        self._writer.write_record(info)

    def tell(self) -> int:
        return self._fh.tell()

    def write_raw(self, record_bytes: bytes) -> tuple[int, int]:
        """Copy a record read from another WARC (a CommonCrawl byte range) as it is; an
        uncompressed record becomes one gzip member, so the file stays gzip-per-record."""
        if record_bytes[:2] != b"\x1f\x8b":
            record_bytes = gzip.compress(record_bytes)
        if self._fh is None:
            self._open()
        offset = self.tell()
        self._fh.write(record_bytes)
        self.records += 1
        return offset, len(record_bytes)

    def write_exchange(self, url: str, request_line: str, request_headers: list[tuple[str, str]],
                       status_line: str, response_headers: list[tuple[str, str]], body: bytes,
                       when: datetime, ip: str | None) -> tuple[int, int, str]:
        """A request record and its response record; returns the response's (offset, length, id)."""
        if self._fh is None:
            self._open()
        date = warc_date(when)
        extra = {"WARC-Date": date}
        if ip:
            extra["WARC-IP-Address"] = ip
        http_headers = StatusAndHeaders(status_line, response_headers, protocol="HTTP/1.1")
        response = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http_headers,
            warc_headers_dict=dict(extra))
        request = self._writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(request_line, request_headers, is_http_request=True),
            warc_headers_dict={**extra, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        offset = self.tell()
        self._writer.write_record(response)
        length = self.tell() - offset
        self._writer.write_record(request)
        self.records += 1
        return offset, length, response.rec_headers.get_header("WARC-Record-ID")

    def commit(self) -> str | None:
        """Close and publish the file; None (and no file) when no page was written."""
        if self._fh is None:
            return None
        self._fh.close()
        if self.records == 0:
            self.fs.rm(self._tmp)
            return None
        if self.fs.exists(self._final):
            self.fs.rm(self._final)      # a retried task's earlier attempt
        self.fs.mv(self._tmp, self._final)
        return self.path

    def abort(self) -> None:
        if self._fh is None:
            return
        try:
            self._fh.close()
            self.fs.rm(self._tmp)
        except OSError:
            pass
