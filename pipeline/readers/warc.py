"""Stream one WARC/WET/ARC file record by record (warcio), inside the task that owns the file.

`WarcFile(path, settings)` yields a `Record` for every response/resource/conversion record: the HTML
payload of a page that can become a document, or the reason it cannot (`read:http_status`,
`read:not_html`, ...). Payloads are read only for HTML pages, and at most `max_bytes + 1` of them,
so an image or a 60 MB page never sits in memory. After the iteration `outcome` says how the file
ended (`FileOutcome`): ok, whole-file gzip (re-read through a streaming decompressor), truncated,
corrupt, not a WARC, unreadable. Whatever was read before an error is kept; the error is logged
once, with the file and offset, and never raised.
"""
from __future__ import annotations

import gzip
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlsplit

import fsspec
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.core.hashing import record_id

log = logging.getLogger("webmix.readers")

# File outcomes (`file:<outcome>` in _stats.json).
OK = "ok"
EMPTY = "empty"
WHOLE_FILE_GZIP = "whole_file_gzip"
TRUNCATED = "truncated"
BAD_RECORD_LENGTH = "bad_record_length"
CORRUPT = "corrupt"
NOT_WARC = "not_warc"
UNREADABLE = "unreadable"

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^;\"'\s]+)", re.IGNORECASE)
_HTML_SNIFF = re.compile(rb"<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_COMPACT_DATE = re.compile(r"^\d{14}$")


@dataclass(frozen=True)
class ReadSettings:
    record_types: frozenset[str]
    html_mime_types: frozenset[str]
    max_bytes: int

    @classmethod
    def from_config(cls, config: dict) -> "ReadSettings":
        return cls(record_types=frozenset(config["readers"]["record_types"]),
                   html_mime_types=frozenset(m.lower() for m in config["extract"]["html_mime_types"]),
                   max_bytes=int(config["extract"]["max_html_bytes"]))


@dataclass
class Record:
    """A record that may become a document: HTML bytes (`payload`) or WET text (`text`), or the
    read-step reason it cannot (`drop_reason`)."""
    id: str
    url: str | None
    date: datetime | None
    meta: dict[str, str]
    payload: bytes | None = None
    text: str | None = None
    charset: str | None = None
    drop_reason: str | None = None


@dataclass
class FileOutcome:
    path: str
    outcome: str = OK
    records: int = 0
    offset: int = 0
    error: str | None = None
    record_types: dict[str, int] = field(default_factory=dict)


def parse_warc_date(value: str | None) -> datetime | None:
    """WARC-Date -> aware UTC datetime; None when it is missing or malformed (e.g. ClueWeb09's
    `2008-10-294T05:21:46-0700`). Parsed here, never by a Spark cast, which fails under ANSI."""
    if not value:
        return None
    value = value.strip()
    try:
        if _COMPACT_DATE.match(value):  # ARC-style 20080430204825
            parsed = datetime.strptime(value, "%Y%m%d%H%M%S")
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def mime_and_charset(content_type: str | None) -> tuple[str | None, str | None]:
    if not content_type:
        return None, None
    mime = content_type.split(";", 1)[0].strip().lower() or None
    match = _CHARSET.search(content_type)
    return mime, (match.group(1) if match else None)


def clean_url(raw: str | None) -> str | None:
    """WARC-Target-URI without the angle brackets some writers add; None when it is not a URL."""
    if not raw:
        return None
    url = raw.strip().strip("<>")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme else None


def read_at_most(stream, limit: int) -> bytes:
    """Up to `limit` bytes (warcio's read(n) may return less than n before the end)."""
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(limit - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def looks_like_archive(head: bytes) -> bool:
    """The first bytes of a file (gzipped or not) start a WARC or an ARC record."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            return False
    head = head.lstrip(b"\r\n")
    return head.startswith(b"WARC/") or head.startswith(b"filedesc://")


class _WholeFileGzip(Exception):
    pass


class WarcFile:
    """Iterate once over a file's candidate records; `outcome` tells how the file ended."""

    def __init__(self, path: str, settings: ReadSettings):
        self.path = path
        self.name = path.rsplit("/", 1)[-1]
        self.settings = settings
        self.outcome = FileOutcome(path)
        self._logged: set[str] = set()

    def __iter__(self) -> Iterator[Record]:
        try:
            raw = fsspec.open(self.path, "rb", compression=None).open()
        except Exception as exc:  # missing, permissions, network, unknown protocol
            self._fail(UNREADABLE, exc)
            return
        try:
            head = raw.read(4096)
            raw.seek(0)
        except Exception as exc:
            raw.close()
            self._fail(UNREADABLE, exc)
            return
        if not head:
            raw.close()
            self.outcome.outcome = EMPTY
            return
        if not looks_like_archive(head):
            # warcio would read any text file as a (broken) ARC file, line by line
            raw.close()
            self._fail(NOT_WARC, f"starts with {head[:40]!r}")
            return
        try:
            yield from self._iterate(ArchiveIterator(raw, arc2warc=True), skip=0)
        except _WholeFileGzip:
            # warcio refuses a file gzipped as one stream; decompress it as a stream and read the
            # plain WARC inside, skipping the records already given out.
            raw.close()
            done = self.outcome.records
            self.outcome.outcome = WHOLE_FILE_GZIP
            try:
                raw = fsspec.open(self.path, "rb", compression=None).open()
            except Exception as exc:
                self._fail(UNREADABLE, exc)
                return
            self.outcome.records = 0
            yield from self._iterate(ArchiveIterator(gzip.GzipFile(fileobj=raw, mode="rb")), skip=done)
        finally:
            raw.close()
        if self.outcome.outcome == OK and self.outcome.records == 0:
            self.outcome.outcome = EMPTY

    def _fail(self, outcome: str, exc: BaseException | str) -> None:
        self.outcome.outcome = outcome
        self.outcome.error = (exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}").strip()[:300]
        log.warning("%s: file:%s at offset %d: %s", self.path, outcome, self.outcome.offset,
                    self.outcome.error.splitlines()[0] if self.outcome.error else "")

    def _note(self, kind: str, offset: int, detail: str) -> None:
        """Log a record-level oddity once per file."""
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning("%s: %s at offset %d: %s (logged once per file)", self.path, kind, offset, detail)

    def _next(self, records: ArchiveIterator):
        try:
            return next(records)
        except StopIteration:
            raise
        except Exception:
            self.outcome.offset = getattr(records, "offset", self.outcome.offset)  # where it broke
            raise

    def _iterate(self, records: ArchiveIterator, skip: int) -> Iterator[Record]:
        out = self.outcome
        while True:
            try:
                record = self._next(records)
            except StopIteration:
                break
            except ArchiveLoadFailed as exc:
                if "non-chunked gzip" in str(exc) and out.outcome == OK:
                    raise _WholeFileGzip() from None
                self._fail(NOT_WARC if out.records == 0 else CORRUPT, exc)
                return
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                self._fail(TRUNCATED if isinstance(exc, EOFError) else CORRUPT, exc)
                return
            except Exception as exc:  # a header line warcio cannot parse, a network error mid-file
                self._fail(NOT_WARC if out.records == 0 else CORRUPT, exc)
                return
            out.records += 1
            if out.records <= skip:
                continue
            rec_type = record.rec_type or "unknown"
            out.record_types[rec_type] = out.record_types.get(rec_type, 0) + 1
            if rec_type not in self.settings.record_types:
                continue
            try:
                candidate = self._candidate(record, rec_type)
                offset = records.get_record_offset()
            except Exception as exc:  # the stream broke inside this record
                self._fail(TRUNCATED if isinstance(exc, EOFError) else CORRUPT, exc)
                return
            out.offset = offset
            candidate.meta["warc_offset"] = str(offset)
            if candidate.id is None:
                candidate.id = record_id(self.path, offset)
            if candidate.meta.get("warc_truncated") == "stream" and out.outcome in (OK, WHOLE_FILE_GZIP):
                self._fail(TRUNCATED, f"record at offset {offset} is shorter than its Content-Length")
            if candidate.date is None and "warc_date_raw" in candidate.meta:
                self._note("bad WARC-Date", offset, candidate.meta["warc_date_raw"])
            yield candidate
        if records.err_count and out.outcome in (OK, WHOLE_FILE_GZIP):
            self._fail(BAD_RECORD_LENGTH, "a record is not followed by a blank line (Content-Length wrong)")

    def _candidate(self, record, rec_type: str) -> Record:
        headers = record.rec_headers
        raw_date = headers.get_header("WARC-Date")
        meta = {"warc_file": self.name, "warc_type": rec_type}
        if headers.get_header("WARC-Truncated"):
            meta["warc_truncated"] = headers.get_header("WARC-Truncated")
        rid = (headers.get_header("WARC-Record-ID") or "").strip().strip("<>") or None
        date = parse_warc_date(raw_date)
        if date is None and raw_date:
            meta["warc_date_raw"] = raw_date[:64]
        raw_url = headers.get_header("WARC-Target-URI")
        url = clean_url(raw_url)
        if url is None and raw_url:
            meta["warc_url_raw"] = raw_url[:512]
        rec = Record(id=rid, url=url, date=date, meta=meta)

        if rec_type == "conversion":  # WET: the text is already extracted; used as it is
            if headers.get_header("WARC-Refers-To"):
                meta["warc_refers_to"] = headers.get_header("WARC-Refers-To").strip("<>")
            data = self._read_payload(record, rec)
            if data is not None:
                rec.text = data.decode("utf-8", errors="replace")
            return rec

        http = record.http_headers
        if rec_type == "response" and http is None:
            rec.drop_reason = "read:not_http"   # dns:, whois:, ftp: captures
            return rec
        if http is not None:
            content_type = http.get_header("Content-Type")
        else:  # a `resource` record: the WARC header types the block
            content_type = headers.get_header("Content-Type")
        mime, rec.charset = mime_and_charset(content_type)
        if mime:
            meta["content_type"] = mime[:100]
        if http is not None and http.get_statuscode() != "200":
            meta["http_status"] = str(http.get_statuscode())[:16]
            rec.drop_reason = "read:http_status"
            return rec
        if mime is not None and mime not in self.settings.html_mime_types:
            rec.drop_reason = "read:not_html"
            return rec
        data = self._read_payload(record, rec)
        if data is None:
            return rec
        if mime is None and not _HTML_SNIFF.search(data[:2048]):
            rec.drop_reason = "read:not_html"
            return rec
        rec.payload = data
        return rec

    def _read_payload(self, record, rec: Record) -> bytes | None:
        """The de-chunked, de-compressed payload, or None with a drop reason."""
        limit = self.settings.max_bytes
        try:
            data = read_at_most(record.content_stream(), limit + 1)
        except (EOFError, zlib.error, OSError, ValueError) as exc:
            rec.drop_reason = "read:payload_error"
            self._note("payload error", self.outcome.offset, f"{type(exc).__name__}: {exc}")
            return None
        if len(data) > limit:
            rec.drop_reason = "extract:too_large"  # the extractor's own reason for the same cap
            return None
        if getattr(record.raw_stream, "limit", 0):  # the stream ended before Content-Length
            rec.meta["warc_truncated"] = "stream"
        if not data:
            rec.drop_reason = "read:empty"
            return None
        return data
