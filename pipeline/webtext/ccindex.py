"""A CommonCrawl-style columnar URL index: building one for any WARC files, choosing the best
capture of each URL from one (ours or CommonCrawl's own cc-index table), and reading a record by
its byte range.

The columns are those of the cc-index table (s3://commoncrawl/cc-index/table/cc-main/warc/), so
the fetch stage joins a user's crawl, the demo's sample WARCs and CommonCrawl alike.
"""
from __future__ import annotations

import io
import logging
import os
import time
from datetime import datetime, timezone
from typing import Iterator

import fsspec
import pyarrow as pa
import requests
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.readers.warc import looks_like_archive
from pipeline.webtext.reddit import parse_date
from pipeline.webtext.urls import surt_key, url_host
from pipeline.core.output import fs_url

log = logging.getLogger("webmix.webtext")

INDEX_SCHEMA = pa.schema([
    ("url_surtkey", pa.string()), ("url", pa.string()), ("url_host_name", pa.string()),
    ("fetch_time", pa.timestamp("us", tz="UTC")), ("fetch_status", pa.int32()),
    ("content_mime_type", pa.string()), ("content_charset", pa.string()),
    ("content_digest", pa.string()), ("warc_filename", pa.string()),
    ("warc_record_offset", pa.int64()), ("warc_record_length", pa.int64()),
    ("warc_record_id", pa.string()), ("crawl", pa.string()), ("subset", pa.string()),
    ("error", pa.string()),     # set only on a per-file outcome row (the file could not be read)
])
INDEX_DDL = ("url_surtkey string, url string, url_host_name string, fetch_time timestamp, "
             "fetch_status int, content_mime_type string, content_charset string, content_digest string, "
             "warc_filename string, warc_record_offset long, warc_record_length long, "
             "warc_record_id string, crawl string, subset string, error string")
INDEX_COLUMNS = [f.name for f in INDEX_SCHEMA if f.name != "error"]



def _warc_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _crawl_name(path: str, warcinfo: dict[str, str], configured: str) -> str:
    if configured:
        return configured
    if warcinfo.get("isPartOf"):
        return warcinfo["isPartOf"]
    base = os.path.basename(path)
    return base.split(".warc")[0] if ".warc" in base else base


def _warcinfo_fields(record) -> dict[str, str]:
    fields = {}
    for line in record.content_stream().read(65536).decode("utf-8", "replace").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def index_warc(path: str, crawl: str = "", record_types: frozenset[str] = frozenset({"response"})
               ) -> Iterator[dict]:
    """One index row per indexed record of a WARC file, then, if the file could not be read to its
    end, one outcome row with `error` set (missing_file, not_warc, corrupt). Rows read before an
    error stay: their offsets are good."""
    warcinfo: dict[str, str] = {}
    try:
        with fsspec.open(fs_url(path), "rb") as fh:
            if not looks_like_archive(fh.read(512)):
                # warcio would take any text line for an ARC header
                yield {"warc_filename": path, "error": "not_warc"}
                return
            fh.seek(0)
            # ARC parsing only for .arc names: it takes any text line for an ARC header.
            records = ArchiveIterator(fh, arc2warc=".arc" in os.path.basename(path).lower())
            for record in records:
                kind = record.rec_type
                if kind == "warcinfo" and not warcinfo:
                    warcinfo = _warcinfo_fields(record)
                row = None
                if kind in record_types:
                    headers = record.rec_headers
                    url = (headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
                    http = record.http_headers
                    status = mime = charset = None
                    if http is not None:
                        try:
                            status = int(http.get_statuscode())
                        except (TypeError, ValueError):
                            status = None
                        content_type = http.get_header("Content-Type") or ""
                        mime = content_type.split(";")[0].strip().lower() or None
                        if "charset=" in content_type.lower():
                            charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
                    row = {
                        "url_surtkey": surt_key(url) if url else None, "url": url or None,
                        "url_host_name": url_host(url) or None,
                        "fetch_time": _warc_time(headers.get_header("WARC-Date")),
                        "fetch_status": status, "content_mime_type": mime, "content_charset": charset,
                        "content_digest": headers.get_header("WARC-Payload-Digest"),
                        "warc_filename": path,
                        "warc_record_id": headers.get_header("WARC-Record-ID"), "subset": "warc",
                    }
                # The offset is known only once the record is read to its end (warcio reads the
                # rest of the record when asked for it earlier, emptying the content stream).
                records.read_to_end(record)
                if row is not None and row["url_surtkey"]:
                    row["warc_record_offset"] = records.get_record_offset()
                    row["warc_record_length"] = records.get_record_length()
                    row["crawl"] = _crawl_name(path, warcinfo, crawl)
                    yield row
    except FileNotFoundError:
        yield {"warc_filename": path, "error": "missing_file"}
    except ArchiveLoadFailed as exc:
        log.warning("cc_index: %s is not a readable WARC: %s", path, str(exc).strip()[:200])
        yield {"warc_filename": path, "error": "not_warc"}
    except (OSError, EOFError, ValueError) as exc:    # truncated gzip, zlib errors, bad lengths
        log.warning("cc_index: %s breaks off: %s", path, exc)
        yield {"warc_filename": path, "error": "corrupt"}
    except ImportError as exc:                        # no fsspec backend for the protocol
        log.warning("cc_index: cannot open %s: %s", path, exc)
        yield {"warc_filename": path, "error": "unreadable"}


def index_rows_to_arrow(rows: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=INDEX_SCHEMA)


# --- choosing captures -----------------------------------------------------------------------------

def select_captures(urls: DataFrame, index: DataFrame, fetch: dict) -> DataFrame:
    """Each URL of `urls` (with url_surtkey) with its best capture: status 200, an HTML type,
    inside the fetch-time window, newest first (ties: file, offset). URLs without one keep null
    capture columns and a reason: not_in_index (never captured) or no_good_capture."""
    settings = fetch["ccindex"]
    captures = index.where(F.col("subset") == "warc")
    if settings["crawls"]:
        captures = captures.where(F.col("crawl").isin(settings["crawls"]))
    start = parse_date(settings["min_fetch_time"], "fetch_pages.ccindex.min_fetch_time")
    end = parse_date(settings["max_fetch_time"], "fetch_pages.ccindex.max_fetch_time")
    good = ((F.col("fetch_status") == 200)
            & F.lower(F.col("content_mime_type")).isin([m.lower() for m in fetch["html_mime_types"]]))
    if start is not None:
        good = good & (F.col("fetch_time") >= F.lit(datetime.fromtimestamp(start, timezone.utc)))
    if end is not None:
        good = good & (F.col("fetch_time") < F.lit(datetime.fromtimestamp(end, timezone.utc)))
    captures = captures.select(
        "url_surtkey", F.col("url").alias("capture_url"), "fetch_time", "fetch_status", "content_mime_type",
        "warc_filename", "warc_record_offset", "warc_record_length", "crawl",
        F.coalesce(good, F.lit(False)).alias("good"))
    # The URL table is small next to an index: broadcast it and scan the index once.
    joined = captures.join(F.broadcast(urls.select("url", "url_surtkey", "host")), "url_surtkey")
    order = Window.partitionBy("url_surtkey").orderBy(
        F.col("good").desc(), F.col("fetch_time").desc_nulls_last(), "warc_filename", "warc_record_offset")
    best = (joined.withColumn("rank", F.row_number().over(order)).where(F.col("rank") == 1)
            .drop("rank", "url", "host"))
    result = urls.select("url", "url_surtkey", "host").join(best, "url_surtkey", "left")
    reason = (F.when(F.col("good").isNull(), F.lit("not_in_index"))
              .when(~F.col("good"), F.lit("no_good_capture")))
    return result.withColumn("capture_reason", reason).drop("good")


# --- reading one record by byte range ----------------------------------------------------------------

class RangeReader:
    """Reads `length` bytes at `offset` of WARC files: local or any fsspec filesystem (s3://), and
    https:// with a plain Range request (with retries: data.commoncrawl.org answers 503 when busy).
    One reader serves a task; filesystems and HTTP connections are reused between records."""

    def __init__(self, settings: dict, user_agent: str):
        self.base_url = settings["warc_base_url"].rstrip("/") + "/"
        self.timeout = settings["timeout_seconds"]
        self.retries = settings["retries"]
        self.max_bytes = settings["max_record_bytes"]
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self._open: dict[str, object] = {}

    def resolve(self, name: str) -> str:
        if "://" in name or name.startswith("/"):
            return name
        return self.base_url + name       # cc-index rows name files relative to the bucket

    def read(self, name: str, offset: int, length: int) -> tuple[bytes | None, str | None]:
        """(bytes, None) or (None, reason): record_too_large, bad_range, missing_warc, short_read,
        range_error."""
        if length is None or offset is None or length <= 0 or offset < 0:
            return None, "bad_range"
        if length > self.max_bytes:
            return None, "record_too_large"
        path = self.resolve(name)
        if path.startswith(("http://", "https://")):
            return self._read_http(path, offset, length)
        try:
            fh = self._open.get(path)
            if fh is None:
                fh = self._open[path] = fsspec.open(fs_url(path), "rb").open()
            fh.seek(offset)
            data = fh.read(length)
        except FileNotFoundError:
            return None, "missing_warc"
        except (OSError, ValueError):
            return None, "range_error"
        return (data, None) if len(data) == length else (None, "short_read")

    def _read_http(self, url: str, offset: int, length: int) -> tuple[bytes | None, str | None]:
        headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
        for attempt in range(self.retries + 1):
            try:
                response = self.session.get(url, headers=headers, timeout=self.timeout)
            except requests.RequestException:
                response = None
            if response is not None and response.status_code == 206:
                data = response.content
                return (data, None) if len(data) == length else (None, "short_read")
            if response is not None and response.status_code == 404:
                return None, "missing_warc"
            if response is not None and response.status_code not in (429, 500, 502, 503, 504):
                return None, "range_error"
            if attempt < self.retries:
                time.sleep(min(60.0, 2.0 ** attempt))
        return None, "range_error"

    def close(self) -> None:
        for fh in self._open.values():
            try:
                fh.close()
            except OSError:
                pass
        self.session.close()


def check_record(data: bytes, expected_surtkey: str | None) -> tuple[str | None, str | None]:
    """(WARC-Record-ID, None) if `data` is one WARC response record for the expected URL, else
    (None, reason): bad_offset (not a record there) or wrong_record (another URL's record)."""
    try:
        records = ArchiveIterator(io.BytesIO(data))
        record = next(iter(records))
        records.read_to_end(record)
    except (ArchiveLoadFailed, StopIteration, OSError, EOFError, ValueError):
        return None, "bad_offset"
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
    if record.rec_type != "response" or not url:
        return None, "bad_offset"
    if expected_surtkey and surt_key(url) != expected_surtkey:
        return None, "wrong_record"
    return record.rec_headers.get_header("WARC-Record-ID"), None
