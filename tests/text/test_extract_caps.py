"""extract_page: caps before parsing, named drop reasons, charsets, modes, real pages."""
from __future__ import annotations

import glob
import time

import pytest

from pipeline.core.config import ConfigError
from pipeline.text import extract as extract_module
from pipeline.text.extract import ExtractCaps, decode_html, extract_page, extract_text, nesting_depth_exceeds

PROSE = ("The harbour reopened on Monday after three days of storms kept the fishing fleet in port, "
         "and the first boats were back before dawn with a modest catch.")
ARTICLE = f"<html><body><div><p>{PROSE}</p><p>{PROSE}</p></div></body></html>"


@pytest.fixture
def never_parse(monkeypatch):
    """Fail the test if the page reaches the HTML parser."""
    def refuse(*args, **kwargs):
        raise AssertionError("page was parsed")
    monkeypatch.setattr(extract_module.HTMLTree, "parse", refuse)


def test_a_200000_deep_page_is_dropped_unparsed(never_parse):
    deep = b"<html><body>" + b"<div>" * 200_000 + b"x" + b"</div>" * 200_000 + b"</body></html>"
    start = time.perf_counter()
    assert extract_page(deep, "u") == (None, "too_deep")
    assert time.perf_counter() - start < 5      # a stall guard, not a benchmark: it takes ~50 ms


def test_a_60_mb_page_is_dropped_unparsed(never_parse):
    huge = b"<html><body>" + b"<p>" + b"a" * 60_000_000 + b"</p></body></html>"
    start = time.perf_counter()
    assert extract_page(huge, "u") == (None, "too_large")
    assert time.perf_counter() - start < 5


def test_nesting_depth_counts_open_elements_not_void_ones():
    assert not nesting_depth_exceeds(b"<div>" * 10 + b"</div>" * 10, 10)
    assert nesting_depth_exceeds(b"<div>" * 11, 10)
    assert not nesting_depth_exceeds(b"<div>" + b"<br><img src=x>" * 50 + b"</div>", 10)
    assert not nesting_depth_exceeds(b"<p>a</p>" * 50, 10)         # many siblings are shallow


def test_time_cap_drops_a_slow_page():
    assert extract_page(ARTICLE.encode(), "u", ExtractCaps(max_seconds=0.0)) == (None, "timeout")


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff" * 1000, b"<<<>>>", b"<html><body></body></html>",
                                     b"%PDF-1.4\n" + bytes(range(256)) * 40, b"<script>var a='<p>';</script>"])
def test_hostile_or_empty_input_is_a_named_reason_never_a_crash(garbage):
    for mode in ("webmix", "main_content", "full_page"):
        text, reason = extract_page(garbage, "u", ExtractCaps(mode=mode))
        assert (text is None) == (reason is not None)
        assert reason in (None, "empty", "parse_error", "decode_error")
    assert isinstance(extract_text(garbage, "u"), str)


def test_parser_failures_are_counted(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("lexbor said no")
    monkeypatch.setattr(extract_module.HTMLTree, "parse", explode)
    assert extract_page(ARTICLE.encode(), "u") == (None, "parse_error")


RUSSIAN = "Москва приняла новый бюджет города после долгого обсуждения в городской думе."
JAPANESE = "東京の港は三日間の嵐の後、月曜日に再開されました。漁船は夜明け前に戻ってきました。"


def legacy_page(text: str, encoding: str, meta: bool) -> bytes:
    head = f'<meta charset="{encoding}">' if meta else ""
    return f"<html><head>{head}</head><body><p>{text}</p><p>{text}</p></body></html>".encode(encoding)


@pytest.mark.parametrize("text,encoding", [(RUSSIAN, "windows-1251"), (RUSSIAN, "koi8-r"),
                                           (JAPANESE, "shift_jis"), (JAPANESE, "euc-jp")])
def test_legacy_encodings_are_detected_from_meta_or_bytes(text, encoding):
    assert text in decode_html(legacy_page(text, encoding, meta=True))
    assert text in extract_text(legacy_page(text, encoding, meta=True), "u")


def test_declared_charset_wins_when_the_bytes_decode_in_it():
    body = legacy_page(RUSSIAN, "koi8-r", meta=False)
    assert RUSSIAN in decode_html(body, "koi8-r")
    assert RUSSIAN in extract_page(body, "u", declared_charset="koi8-r")[0]


def test_a_wrong_or_unknown_declared_charset_falls_back_to_detection():
    body = legacy_page(RUSSIAN, "windows-1251", meta=True)
    assert RUSSIAN in decode_html(body, "utf-8")          # not valid UTF-8: detected instead
    assert RUSSIAN in decode_html(body, "utf8mb4")        # no such codec: detected instead


def test_utf8_page_declared_as_utf8():
    body = legacy_page(JAPANESE, "utf-8", meta=False)
    assert extract_page(body, "u", declared_charset="UTF-8")[0].count(JAPANESE) == 2


def test_modes_are_selectable_by_config():
    nav = "".join(f'<a href="/{i}">Section number {i}</a> ' for i in range(12))
    page = f"<html><body><div>{nav}</div><div><p>{PROSE}</p><p>{PROSE}</p></div></body></html>".encode()
    section = {"max_html_bytes": 5_000_000, "max_nesting_depth": 4000, "max_seconds": 10.0}
    texts = {mode: extract_page(page, "u", ExtractCaps.from_config(dict(section, mode=mode)))[0]
             for mode in ("webmix", "main_content", "full_page")}
    assert all(PROSE in text for text in texts.values())
    assert "Section number 3" in texts["full_page"]
    assert "Section number 3" not in texts["webmix"]
    with pytest.raises(ConfigError, match="extract.mode"):
        ExtractCaps.from_config(dict(section, mode="trafilatura"))


def test_default_config_selects_webmix():
    from pipeline.core.config import load_config
    assert ExtractCaps.from_config(load_config(None, [])["extract"]).mode == "webmix"


def _html_responses(path: str):
    """The HTML response bodies of a WARC file, in order. Only the reader's own error on a broken
    file (warcio's ArchiveLoadFailed) ends a robustness file early; anything else, and any error on
    another file, propagates and fails the test."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if "html" not in (record.http_headers.get_header("Content-Type") or ""):
                    continue
                yield record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read()
        except ArchiveLoadFailed:
            if "robustness" not in path:
                raise


def test_real_pages_resiliparse_extracts_never_come_out_empty(realdata):
    """The issue's check: on the WARCs' HTML responses, no page that resiliparse main-content
    extracts is empty here."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    checked = 0
    for path in sorted(glob.glob(str(realdata / "warc" / "*" / "*.warc.gz"))):
        for url, html in _html_responses(path):
            reference = extract_plain_text(bytes_to_str(html, detect_encoding(html)), main_content=True)
            if reference.strip():
                checked += 1
                assert extract_text(html, ""), url
    assert checked > 150


def test_real_japanese_pages_in_euc_jp_are_extracted(realdata):
    from warcio.archiveiterator import ArchiveIterator

    path = realdata / "warc" / "other_crawls" / "resiliparse_clueweb09-ja_quirk.warc.gz"
    texts = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                texts.append(extract_text(record.content_stream().read(), ""))
    assert len(texts) == 29
    hiragana = sum(1 for text in texts if any("\u3040" <= ch <= "\u309f" for ch in text))
    assert hiragana >= 25
