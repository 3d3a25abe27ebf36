"""The one HTML-to-text extractor. Every stage (CommonCrawl filter, WebText, evaluation tools)
calls `extract_text(html, url)` or, with caps and a named drop reason, `extract_page`.

Caps come before parsing, because a time limit cannot interrupt resiliparse inside its C code:
pages over `max_html_bytes` or nested deeper than `max_nesting_depth` are never parsed.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

# Elements that never take a closing tag: they do not nest.
_VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)")


@dataclass(frozen=True)
class ExtractCaps:
    max_html_bytes: int = 5_000_000
    max_nesting_depth: int = 4000
    max_seconds: float = 10.0
    main_content: bool = True

    @classmethod
    def from_config(cls, section: dict) -> "ExtractCaps":
        return cls(max_html_bytes=section["max_html_bytes"], max_nesting_depth=section["max_nesting_depth"],
                   max_seconds=section["max_seconds"], main_content=section["mode"] == "main_content")


def nesting_depth_exceeds(html: bytes, limit: int) -> bool:
    """True if the tag nesting can exceed `limit`. A page with fewer unclosed tags than the limit
    cannot be that deep, which settles almost every page with two byte counts."""
    if html.count(b"<") - 2 * html.count(b"</") < limit:
        return False
    depth = 0
    for closing, name in _TAG.findall(html):
        if name.lower() in _VOID:
            continue
        depth += -1 if closing else 1
        if depth > limit:
            return True
    return False


def decode_html(html: bytes, declared_charset: str | None = None) -> str:
    encoding = declared_charset or detect_encoding(html)
    return bytes_to_str(html, encoding, fallback_encodings=("utf-8", "cp1252"))


def extract_page(html: bytes, url: str, caps: ExtractCaps = ExtractCaps(),
                 declared_charset: str | None = None) -> tuple[str | None, str | None]:
    """(text, None) on success, else (None, reason) with reason one of
    too_large, too_deep, decode_error, parse_error, timeout, empty."""
    if len(html) > caps.max_html_bytes:
        return None, "too_large"
    if nesting_depth_exceeds(html, caps.max_nesting_depth):
        return None, "too_deep"
    start = time.perf_counter()
    try:
        decoded = decode_html(html, declared_charset)
    except (LookupError, ValueError, UnicodeError):
        return None, "decode_error"
    try:
        tree = HTMLTree.parse(decoded)
        text = extract_plain_text(tree, main_content=caps.main_content, alt_texts=False,
                                  preserve_formatting=True, list_bullets=True, links=False,
                                  noscript=False, comments=not caps.main_content)
    except Exception:  # resiliparse raises various types on hostile input; the page is skipped
        return None, "parse_error"
    if time.perf_counter() - start > caps.max_seconds:
        return None, "timeout"
    text = text.strip()
    if not text:
        return None, "empty"
    return text, None


def extract_text(html: bytes, url: str) -> str:
    """Main text of an HTML page ("" when nothing is extracted). The public signature that
    evaluation tools call as `pipeline.text.extract:extract_text`."""
    text, _ = extract_page(html, url)
    return text or ""
