"""The one HTML-to-text extractor. Every stage (CommonCrawl filter, WebText, evaluation tools)
calls `extract_text(html, url)` or, with caps and a named drop reason, `extract_page`.

Three modes (`extract.mode` in conf/pipeline.yaml):
- `webmix` (default): resiliparse's main-content pass, then the block-level boilerplate decision of
  pipeline/text/boilerplate.py (link density, block size and kind, position relative to the prose);
  on a page where that pass leaves no prose, the page with comments, then every visible block
  (`keep_comments` keeps comment sections and forum replies on every page).
- `main_content`: resiliparse's main-content pass alone (the extractor before `webmix`).
- `full_page`: every visible text node.

Caps come before parsing, because a time limit cannot interrupt resiliparse inside its C code:
pages over `max_html_bytes` or nested deeper than `max_nesting_depth` are never parsed; a page
whose extraction took longer than `max_seconds` is dropped afterwards (so one slow page is counted,
and the cap bounds what a pathological page can cost only together with the other two).
"""
from __future__ import annotations

import re
import time
from itertools import accumulate
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

from pipeline.core.config import ConfigError
from pipeline.text.boilerplate import BoilerplateParams, main_text_and_prose

MODES = ("webmix", "main_content", "full_page")
# Elements that never take a closing tag: they do not nest.
_VOID = b"area base br col embed hr img input link meta param source track wbr".split()
# The "/" (or nothing) of every tag that is not void: the regex engine skips the void ones.
_NESTING_TAG = re.compile(rb"<(/?)(?!(?:" + b"|".join(_VOID) + rb")(?![a-zA-Z0-9]))[a-zA-Z]", re.IGNORECASE)
_TITLE = re.compile(r"<title\b[^>]*>", re.IGNORECASE)
# Image and figure captions: resiliparse keeps them inside the article, gold article bodies and
# readers do not. Never on the elements that usually hold the whole article.
_SKIP_CAPTIONS = ["figcaption", "[class*=caption]:not(article):not(main):not(body)"]
_BOILERPLATE = BoilerplateParams()


@dataclass(frozen=True)
class ExtractCaps:
    max_html_bytes: int = 5_000_000
    max_nesting_depth: int = 4000
    max_seconds: float = 10.0
    mode: str = "webmix"
    keep_comments: bool = False   # webmix: keep comment sections and forum replies (docs/extraction.md)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"extract.mode: {self.mode!r} is not one of {', '.join(MODES)}")

    @classmethod
    def from_config(cls, section: dict) -> "ExtractCaps":
        return cls(max_html_bytes=section["max_html_bytes"], max_nesting_depth=section["max_nesting_depth"],
                   max_seconds=section["max_seconds"], mode=section["mode"],
                   keep_comments=bool(section.get("keep_comments", cls.keep_comments)))


def nesting_depth_exceeds(html: bytes, limit: int) -> bool:
    """True if the tag nesting exceeds `limit`. A page with no more opening tags than the limit
    cannot be that deep, which settles almost every page with two byte counts."""
    if html.count(b"<") - html.count(b"</") <= limit:
        return False
    # (one regex scan and a C-level running sum: a Python loop over the tags of the few pages
    # that get here cost as much as all the byte counts)
    return max(accumulate(-1 if closing else 1 for closing in _NESTING_TAG.findall(html)), default=0) > limit


def _detected_then_defaults(html: bytes):
    # A generator: bytes_to_str asks for it only if the declared charset fails to decode.
    yield detect_encoding(html)
    yield "utf-8"
    yield "cp1252"


def decode_html(html: bytes, declared_charset: str | None = None) -> str:
    """The page as text: in the charset the HTTP header declared when the bytes decode in it,
    else in the one detected from the bytes and the page's own <meta> declaration."""
    if declared_charset:
        try:
            return bytes_to_str(html, declared_charset, fallback_encodings=_detected_then_defaults(html))
        except LookupError:  # a label no codec knows ("utf8mb4", "none"): decide from the bytes
            pass
    return bytes_to_str(html, detect_encoding(html), fallback_encodings=("utf-8", "cp1252"))


def _webmix(tree: HTMLTree, keep_comments: bool) -> str:
    """The block decision on resiliparse's main content. When that holds no prose at all, the
    page's prose was removed by resiliparse's class/id rules (a forum thread whose posts sit in
    "comment" elements, a body wrapped in a "sidebar" or "hidden" div): the same decision is made
    on the page with comments, then on every visible block, and the first view with prose wins.
    (Retrying pages with little prose as well gains 0.002 F1 on the tuning pages and loses 0.01
    on AEB's short articles.)"""
    text, prose = main_text_and_prose(_minimal_html(tree, True, keep_comments), _BOILERPLATE)
    if prose:
        return text
    views = ([(True, True)] if not keep_comments else []) + [(False, keep_comments)]
    for main_content, comments in views:
        other, more = main_text_and_prose(_minimal_html(tree, main_content, comments), _BOILERPLATE)
        if more:
            return other
        text = text or other
    return text


def _minimal_html(tree: HTMLTree, main_content: bool, comments: bool) -> str:
    return extract_plain_text(tree, preserve_formatting="minimal_html", links=True, main_content=main_content,
                              comments=comments, post_meta=False, alt_texts=False, skip_elements=_SKIP_CAPTIONS)


def _extract(tree: HTMLTree, caps: "ExtractCaps") -> str:
    if caps.mode == "webmix":
        return _webmix(tree, caps.keep_comments)
    main = caps.mode == "main_content"
    return extract_plain_text(tree, main_content=main, alt_texts=False, preserve_formatting=True,
                              list_bullets=True, links=False, noscript=False, comments=not main)


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
        text = _extract(HTMLTree.parse(decoded), caps)
        if not text.strip() and _TITLE.search(decoded):
            # A <title> that is never closed (or closed as "</titlevalue=...") swallows the whole
            # page as its text: parse once more without it.
            text = _extract(HTMLTree.parse(_TITLE.sub("", decoded)), caps)
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
