"""Keys of exact duplicates: the normalised URL and the hash of the normalised text.

URL normalisation (url-normalize, then): scheme dropped (http and https of one page are one page),
host without a leading "www.", fragment dropped, query parameters sorted, trailing slash dropped.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from url_normalize import url_normalize


def normalize_url(url: str | None) -> str | None:
    """A comparison key for a URL; None for a missing or unparsable one (never an exact duplicate)."""
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url_normalize(url.strip()))
    except (ValueError, TypeError, UnicodeError):
        return None
    host = (parts.hostname or "").removeprefix("www.")
    if not host:
        return None
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path.rstrip("/")
    return f"{host}{port}{path}" + (f"?{query}" if query else "")
