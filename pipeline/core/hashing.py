"""The one place for ids, content digests, hashing and seeding.

Every random choice in webmix is a pure function of (seed, key): `uniform(seed, doc_id, salt)` gives
the same number on the driver, in any executor, after any retry or repartitioning.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

import numpy as np

from pipeline.core.output import fs_path

_WS = re.compile(r"\s+")
_TWO53 = float(2**53)


def hash64(*parts: object) -> int:
    """Unsigned 64-bit hash of the parts (joined unambiguously); stable across processes and runs."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(4, "little"))
        h.update(data)
    return int.from_bytes(h.digest(), "little")


def uniform(seed: int, key: str, salt: str = "") -> float:
    """A uniform draw in [0, 1) determined by (seed, salt, key) alone."""
    return (hash64(seed, salt, key) >> 11) / _TWO53


def uniforms(seed: int, keys: Iterable[str], salt: str = "") -> np.ndarray:
    """`uniform` over many keys (a batch), as a float64 array."""
    return np.fromiter((uniform(seed, k, salt) for k in keys), dtype=np.float64)


def normalize_text(text: str) -> str:
    """The text form that content digests and exact dedup compare: NFKC, lower case, one space."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def text_digest(text: str) -> str:
    """Digest of the normalised text: two captures of one page share it."""
    return hashlib.sha1(normalize_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def record_id(path: str, offset: int, chunk: int | None = None) -> str:
    """An id for a record that has no id of its own: file name + byte offset (+ chunk index)."""
    base = f"{path.rsplit('/', 1)[-1]}@{offset}"
    return base if chunk is None else f"{base}#{chunk}"


def file_sha256(path: str, block: int = 1 << 20) -> str:
    """SHA-256 of a file: a local path or any fsspec URL (s3://...)."""
    h = hashlib.sha256()
    fs, p = fs_path(path)
    with fs.open(p, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()
