"""Stage outputs: committed whole or not at all, fingerprinted, with `_stats.json` beside them.

Spark writes `_SUCCESS` last; `_stats.json` is written after it and carries the fingerprint. An
output counts as complete for a fingerprint only when both are there and the fingerprints match,
so a failed run is redone and a changed config, input or model never reuses stale output.
"""
from __future__ import annotations

import json
import os
import posixpath
import time
from typing import Any

import fsspec

STATS_FILE = "_stats.json"
SUCCESS_FILE = "_SUCCESS"


def fs_url(path: str) -> str:
    """A Spark/Hadoop URL as fsspec opens it: Hadoop's s3a:// bucket is fsspec's s3://."""
    return "s3://" + path[len("s3a://"):] if path.startswith("s3a://") else path


def fs_path(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and path fsspec opens a Spark/Hadoop URL with."""
    return fsspec.core.url_to_fs(fs_url(url))


def join(folder: str, *names: str) -> str:
    return posixpath.join(folder.rstrip("/"), *names)


def under(root: str, path: str) -> str:
    """`path` as written in a file whose relative paths are under `root` (a folder or a URL): a URL or
    an absolute path stays as it is."""
    return path if "://" in path or os.path.isabs(path) else join(root, path)


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
    return "file" in protocols


def url_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A path `fs` listed (find, glob: protocol stripped) as a URL that opens on that filesystem
    again; a local path stays a plain path."""
    return path if is_local(fs) else fs.unstrip_protocol(path)


def read_bytes(url: str) -> bytes:
    fs, p = fs_path(url)
    return fs.cat_file(p)


def exists(path: str) -> bool:
    fs, p = fs_path(path)
    return fs.exists(p)


def read_stats(path: str) -> dict | None:
    url = fs_url(join(path, STATS_FILE))
    fs, p = fsspec.core.url_to_fs(url)
    if not fs.exists(p):
        return None
    with fs.open(p, "r") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError:
            return None


def is_complete(path: str, fingerprint: str | None = None) -> bool:
    fs, p = fs_path(path)
    if not fs.exists(join(p, SUCCESS_FILE)):
        return False
    stats = read_stats(path)
    if stats is None:
        return False
    return fingerprint is None or stats.get("fingerprint") == fingerprint


def write_stats(path: str, stats: dict[str, Any]) -> None:
    fs, p = fs_path(path)
    fs.makedirs(p, exist_ok=True)
    tmp = join(p, f".{STATS_FILE}.{os.getpid()}.tmp")
    with fs.open(tmp, "w") as fh:
        json.dump(stats, fh, indent=2, sort_keys=True, default=str)
    fs.mv(tmp, join(p, STATS_FILE))


def fingerprint_of(path: str) -> str:
    """What an input contributes to a downstream fingerprint: a stage output's own fingerprint,
    a file's size and modification time, or a folder's listing of those."""
    stats = read_stats(path) if is_complete(path) else None
    if stats and stats.get("fingerprint"):
        return f"stage:{stats['fingerprint']}"
    fs, p = fs_path(path)
    try:
        if fs.isdir(p):
            entries = sorted(fs.find(p, detail=True).items())
            return "dir:" + ";".join(f"{k}:{v.get('size')}:{_mtime(v)}" for k, v in entries)
        info = fs.info(p)
        return f"file:{info.get('size')}:{_mtime(info)}"
    except (FileNotFoundError, OSError):
        return f"missing:{path}"


def _mtime(info: dict) -> Any:
    return info.get("mtime") or info.get("LastModified") or info.get("last_modified") or ""


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = round(time.perf_counter() - self.start, 3)
