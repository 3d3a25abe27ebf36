"""Reading Reddit submission dumps and deciding which submissions are WebText links.

Formats: Pushshift / Arctic Shift NDJSON (one JSON object a line) as `.zst`, `.xz`, `.bz2`, `.gz` or
plain; and the reddit-top-2.5-million CSV layout (one file per subreddit, named after it, with a
header line). Every submission comes out as a `(record, reason)` pair so that nothing bad in a dump
stops the reading: the caller counts the reason.
"""
from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import io
import json
import lzma
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import fsspec
import zstandard

from pipeline.core.config import ConfigError
from pipeline.webtext.urls import UrlRules, normalize_url

# Pushshift's monthly dumps since 2019 are compressed with --long=31 windows: a default
# decompressor refuses them ("frame requires too much memory").
ZSTD_MAX_WINDOW = 1 << 31
READ_BUFFER = 1 << 20
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")


@contextmanager
def open_dump(path: str) -> Iterator[io.BufferedIOBase]:
    """The decompressed bytes of a dump file (local, s3://, https:// through fsspec)."""
    lower = path.lower()
    with fsspec.open(path, "rb") as raw:
        if lower.endswith(".zst") or lower.endswith(".zstd"):
            reader = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).stream_reader(raw)
            stream: io.BufferedIOBase = io.BufferedReader(reader, READ_BUFFER)
        elif lower.endswith(".xz") or lower.endswith(".lzma"):
            stream = lzma.open(raw)
        elif lower.endswith(".bz2"):
            stream = bz2.open(raw)
        elif lower.endswith(".gz"):
            stream = gzip.open(raw)
        else:
            stream = io.BufferedReader(raw, READ_BUFFER) if not isinstance(raw, io.BufferedReader) else raw
        try:
            yield stream
        finally:
            stream.close()


def is_csv(path: str) -> bool:
    return path.lower().endswith(CSV_SUFFIXES)


def csv_subreddit(path: str) -> str:
    """reddit-top-2.5-million names each file after its subreddit (data/AskReddit.csv)."""
    name = os.path.basename(path)
    for suffix in CSV_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def iter_records(path: str) -> Iterator[tuple[dict | None, str | None]]:
    """Each submission of a dump as (record, None), or (None, reason) for a line that is not one:
    bad_json, not_an_object. A file that breaks off (corrupt or truncated compression) ends with
    one (None, "corrupt_file")."""
    try:
        with open_dump(path) as stream:
            if is_csv(path):
                subreddit = csv_subreddit(path)
                text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
                for row in csv.DictReader(text):
                    row.setdefault("subreddit", subreddit)
                    yield row, None
                return
            for line in stream:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (ValueError, UnicodeDecodeError):
                    yield None, "bad_json"
                    continue
                yield (record, None) if isinstance(record, dict) else (None, "not_an_object")
    except (OSError, EOFError, lzma.LZMAError, zstandard.ZstdError, csv.Error, ValueError):
        yield None, "corrupt_file"


# --- field parsing: dumps are untrusted (ints as strings, floats as strings, "True"/"False") ------

def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "t", "1", "yes"):
            return True
        if lowered in ("false", "f", "0", "no", ""):
            return False
    return None


def parse_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def parse_epoch(value) -> float | None:
    """created_utc: an int, a float or either as a string; None if absent or implausible."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 < seconds < 4102444800 else None   # before 2100-01-01


def parse_date(text: str | None, key: str) -> float | None:
    """A config date (YYYY-MM-DD, UTC) as epoch seconds."""
    if text in (None, ""):
        return None
    try:
        day = dt.datetime.strptime(str(text), "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ConfigError(f"config key '{key}' must be a date YYYY-MM-DD, got {text!r}") from None
    return day.timestamp()


@dataclass(frozen=True)
class Link:
    url: str
    score: int
    created: float
    subreddit: str | None


@dataclass(frozen=True)
class LinkFilter:
    """GPT-2's rule (score >= 3, outbound links) plus the configured window and blocklists.

    `check` takes one submission and answers (Link, None) or (None, reason); reasons in the order
    they are tested: missing_url, self_post, over_18, bad_score, low_score, bad_date, before_window,
    after_window, not_http, bad_url, wikipedia, blocked_domain, blocked_extension."""
    min_score: int
    drop_over_18: bool
    start: float | None
    end: float | None
    rules: UrlRules

    @classmethod
    def from_config(cls, section: dict, preset: str | None = None) -> "LinkFilter":
        preset = preset or section["preset"]
        presets = section["presets"]
        if preset not in ("all", *presets):
            raise ConfigError(f"config key 'reddit_links.preset' must be one of all, "
                              f"{', '.join(presets)}; got {preset!r}")
        window = presets.get(preset, {})
        start = section["start_date"] or window.get("start")
        end = section["end_date"] or window.get("end")
        return cls(min_score=section["min_score"], drop_over_18=section["drop_over_18"],
                   start=parse_date(start, "reddit_links.start_date"),
                   end=parse_date(end, "reddit_links.end_date"),
                   rules=UrlRules.from_config(section))

    def check(self, record: dict) -> tuple[Link | None, str | None]:
        raw_url = record.get("url")
        if not raw_url or not isinstance(raw_url, str):
            return None, "missing_url"
        if parse_bool(record.get("is_self")):
            return None, "self_post"
        if self.drop_over_18 and parse_bool(record.get("over_18")):
            return None, "over_18"
        score = parse_int(record.get("score"))
        if score is None:
            return None, "bad_score"
        if score < self.min_score:
            return None, "low_score"
        created = parse_epoch(record.get("created_utc"))
        if created is None:
            return None, "bad_date"
        if self.start is not None and created < self.start:
            return None, "before_window"
        if self.end is not None and created >= self.end:
            return None, "after_window"
        url, reason = normalize_url(raw_url)
        if url is None:
            return None, reason
        reason = self.rules.reason(url)
        if reason:
            return None, reason
        subreddit = record.get("subreddit")
        return Link(url, score, created, str(subreddit) if subreddit else None), None
