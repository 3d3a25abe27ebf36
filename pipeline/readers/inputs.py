"""Input specs -> the list of files a job reads, resolved on the driver before Spark starts.

A spec is a file, a directory (its WARC/WET/ARC files, recursively), a glob, or a CommonCrawl
listing (`warc.paths.gz`, `wet.paths.gz`: one path a line, put after `readers.commoncrawl_base_url`),
on the local disk, `s3://` or `https://` (all through fsspec). A spec that does not exist or cannot
be read raises InputError (one line). Files named in a listing are not checked one by one (a crawl
lists 90,000): the task that owns a file counts it as `file:unreadable` if it cannot be opened.
"""
from __future__ import annotations

import os
import re

import fsspec

from pipeline.core.config import InputError
from pipeline.core.output import SUCCESS_FILE, fs_path, is_local, url_of

ARCHIVE_NAME = re.compile(r"\.(warc|wet|wat|arc)(\.gz)?$", re.IGNORECASE)
LISTING_NAME = re.compile(r"\.paths(\.gz)?$", re.IGNORECASE)
_GLOB_CHARS = re.compile(r"[*?\[]")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _fs(path: str):
    try:
        return fs_path(path)
    except ImportError as exc:
        raise InputError(f"cannot open {path}: {exc} (install its filesystem package, e.g. s3fs)") from None
    except ValueError as exc:
        raise InputError(f"cannot open {path}: {exc}") from None


def is_document_folder(spec: str) -> bool:
    """A folder written by a webmix stage (Parquet documents, committed with `_SUCCESS`)."""
    if _GLOB_CHARS.search(spec) or LISTING_NAME.search(spec):
        return False
    fs, path = _fs(spec)
    try:
        return fs.isdir(path) and fs.exists(path.rstrip("/") + "/" + SUCCESS_FILE)
    except OSError:
        return False


def read_listing(spec: str, base_url: str) -> list[str]:
    """A CommonCrawl `*.paths(.gz)` listing -> full paths (relative lines are put after base_url)."""
    try:
        with fsspec.open(spec, "rt", compression="infer", encoding="utf-8") as fh:
            lines = [line.strip() for line in fh]
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the listing {spec}: {exc}") from None
    base = base_url.rstrip("/") + "/"
    paths = [line if _SCHEME.match(line) or line.startswith("/") else base + line.lstrip("/")
             for line in lines if line and not line.startswith("#")]
    if not paths:
        raise InputError(f"the listing {spec} names no files")
    return paths


def _expand_one(spec: str, base_url: str) -> list[str]:
    if LISTING_NAME.search(spec) and not _GLOB_CHARS.search(spec):
        return read_listing(spec, base_url)
    fs, path = _fs(spec)
    try:
        if _GLOB_CHARS.search(spec):
            found = sorted(p for p in fs.glob(path) if fs.isfile(p))
            if not found:
                raise InputError(f"no files match {spec}")
            return [url_of(fs, p) for p in found]
        if fs.isdir(path):
            found = sorted(p for p in fs.find(path) if ARCHIVE_NAME.search(p))
            if not found:
                raise InputError(f"no WARC/WET/ARC files (*.warc[.gz], *.wet[.gz], *.arc[.gz]) in {spec}")
            return [url_of(fs, p) for p in found]
        if not fs.isfile(path):
            raise InputError(f"input not found: {spec}")
    except InputError:
        raise
    except (OSError, ValueError) as exc:  # permissions, network, a bad URL
        raise InputError(f"cannot read input {spec}: {exc}") from None
    if is_local(fs) and not os.access(path, os.R_OK):
        raise InputError(f"input not readable: {spec}")
    return [url_of(fs, path)]


def expand_inputs(specs: list[str], config: dict) -> list[str]:
    """Every file the specs name, in a stable order, each once."""
    if not specs:
        raise InputError("no input given (--input)")
    base_url = config["readers"]["commoncrawl_base_url"]
    paths: dict[str, None] = {}
    for spec in specs:
        for path in _expand_one(spec, base_url):
            paths.setdefault(path, None)
    return list(paths)
