"""Streaming MediaWiki XML dumps (`pages-articles*.xml.bz2`, multistream or not) in byte ranges.

A multistream dump is a concatenation of independent bz2 streams of ~100 pages each (the first holds
the <siteinfo> header). A task owns the streams that *start* inside its byte range: it scans its
range for the first stream start (the byte-aligned magic `BZh[1-9]` + block magic `1AY&SY`), then
decompresses stream after stream, reading past its range end only to finish its last stream. So any
number of tasks share one dump without reading the `-index.txt.bz2` file (whose offsets are exactly
these stream starts; for enwiki it is a 250 MB file the driver would have to read). A plain
single-stream dump has one stream start, at byte 0: the first task reads the whole file and the
others find nothing (one task per file, documented).

Each `<page>…</page>` is cut out of the decompressed stream and parsed on its own with ElementTree,
so a page that does not parse is one bad page, not a lost task. Damage is reported, not raised:
`iter_pages` yields `PageError`s (truncated stream, corrupt stream, XML that does not parse).

A dump may be in any encoding XML allows (gensim's Bulgarian test dump is UTF-16 with a byte order
mark): the encoding is found from the dump's first bytes as XML 1.0 Appendix F says (a byte order
mark, else the byte pattern of `<?`, else the declaration's `encoding`, else UTF-8), and a dump that
is not UTF-8 is re-encoded to UTF-8 stream by stream before pages are cut out, so the cutting and
ElementTree see UTF-8 either way. Positions are then offsets into the UTF-8 form of each stream.
"""
from __future__ import annotations

import bz2
import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterator

import fsspec

STREAM_START = re.compile(rb"BZh[1-9]1AY&SY")
READ_BYTES = 1 << 20
PAGE_OPEN, PAGE_CLOSE = b"<page>", b"</page>"
# XML 1.0 Appendix F: a byte order mark names the encoding (UTF-32's before UTF-16's, which it starts
# with); without one, the bytes of `<` or `<?` tell the code unit width and order.
BYTE_ORDER_MARKS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                    (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
UNMARKED = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
            (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))
DECLARED = re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


@dataclass(frozen=True)
class Page:
    title: str
    ns: int
    page_id: str
    redirect: bool
    timestamp: str | None
    text: str


@dataclass(frozen=True)
class PageError:
    reason: str      # truncated | corrupt_bz2 | bad_xml
    position: str    # `<compressed offset of the stream>+<decompressed offset>`
    detail: str = ""


@dataclass(frozen=True)
class SiteInfo:
    dbname: str = "wiki"
    base_url: str | None = None                 # https://en.wikipedia.org/wiki/
    namespaces: tuple[tuple[int, str], ...] = ()
    encoding: str = "utf-8"                     # the dump's (a Python codec name)

    def names(self, key: int) -> set[str]:
        return {name.lower() for k, name in self.namespaces if k == key}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_encoding(head: bytes) -> str:
    """The Python codec of an XML document, from its first bytes (XML 1.0 Appendix F); ValueError for
    a declared encoding Python does not know."""
    for mark, codec in BYTE_ORDER_MARKS + UNMARKED:
        if head.startswith(mark):
            return codec
    declared = DECLARED.match(head)
    if not declared:
        return "utf-8"
    try:
        codec = codecs.lookup(declared.group(1).decode("ascii")).name
    except LookupError:
        raise ValueError(f"unknown XML encoding {declared.group(1).decode('ascii')!r}") from None
    # A declaration read in single bytes cannot mean a 2- or 4-byte encoding (the bytes say otherwise).
    return "utf-8" if codec.startswith(("utf-16", "utf-32")) else codec


def as_utf8(pieces: Iterator[tuple[int, bytes] | PageError], codec: str
            ) -> Iterator[tuple[int, bytes] | PageError]:
    """Decompressed (stream, bytes) pieces re-encoded from `codec` to UTF-8, a fresh decoder per stream
    (a stream holds whole pages, so whole characters). A byte that does not decode becomes U+FFFD."""
    if codec == "utf-8":
        yield from pieces
        return
    stream, decoder = None, None
    for piece in pieces:
        if isinstance(piece, PageError):
            yield piece
            continue
        at, data = piece
        if at != stream:
            stream, decoder = at, codecs.getincrementaldecoder(codec)(errors="replace")
        yield at, decoder.decode(data).encode("utf-8")


def _holds_siteinfo(head: bytes) -> bool:
    return len(head) >= 64 and "</siteinfo>".encode(xml_encoding(head)) in head


def read_siteinfo(path: str, limit: int = 1 << 20) -> SiteInfo:
    """The dump's <siteinfo> (database name, article base URL, namespace names) and its encoding, from
    its first decompressed bytes; raises ValueError when the file is not a MediaWiki XML dump."""
    head = b""
    with fsspec.open(path, "rb") as fh:
        # The first stream only, decompressed piece by piece: a damaged later stream is not reached.
        decompressor = bz2.BZ2Decompressor() if path.endswith(".bz2") else None
        while len(head) < limit and not _holds_siteinfo(head):
            piece = fh.read(1 << 16)
            if not piece:
                break
            if decompressor is not None:
                piece = decompressor.decompress(piece)
            head += piece
            if decompressor is not None and decompressor.eof:
                break
    codec = xml_encoding(head)
    head = head.decode(codec, errors="replace").encode("utf-8") if codec != "utf-8" else head
    end = head.find(b"</siteinfo>")
    start = head.find(b"<siteinfo>")
    if start < 0 or end < 0 or b"<mediawiki" not in head[:start]:
        raise ValueError("no <mediawiki><siteinfo> header")
    info = ET.fromstring(head[start:end + len(b"</siteinfo>")])
    base = info.findtext("base")
    namespaces = tuple((int(ns.get("key")), ns.text or "") for ns in info.iter("namespace"))
    return SiteInfo(dbname=info.findtext("dbname") or "wiki",
                    base_url=base.rsplit("/", 1)[0] + "/" if base else None, namespaces=namespaces,
                    encoding=codec)


def parse_page(xml: bytes) -> Page:
    """One `<page>…</page>` element -> Page (ElementTree.ParseError when it does not parse)."""
    page = ET.fromstring(xml)
    revision = page.find("revision")
    text = revision.findtext("text") if revision is not None else None
    return Page(title=page.findtext("title") or "", ns=int(page.findtext("ns") or 0),
                page_id=(page.findtext("id") or "").strip(), redirect=page.find("redirect") is not None,
                timestamp=revision.findtext("timestamp") if revision is not None else None,
                text=text or "")


def first_stream_start(fh, start: int, end: int) -> int | None:
    """Offset of the first bz2 stream starting in [start, end), or None."""
    overlap = 9
    pos = start
    while pos < end:
        fh.seek(pos)
        block = fh.read(min(READ_BYTES, end - pos) + overlap)
        match = STREAM_START.search(block)
        if match and pos + match.start() < end:
            return pos + match.start()
        if len(block) <= overlap:
            return None
        pos += len(block) - overlap
    return None


def decompressed_streams(fh, start: int, end: int) -> Iterator[tuple[int, bytes] | PageError]:
    """(stream offset, decompressed bytes) pieces of the streams starting in [start, end), in order;
    a PageError ends the iteration when the data is truncated or corrupt."""
    stream_at = first_stream_start(fh, start, end)
    if stream_at is None:
        return
    fh.seek(stream_at)
    pending, consumed = b"", stream_at   # `consumed`: file offset just past `pending`
    decompressor = bz2.BZ2Decompressor()
    while True:
        if not pending:
            pending = fh.read(READ_BYTES)
            consumed += len(pending)
            if not pending:
                yield PageError("truncated", f"{stream_at}+eof", "bz2 stream ends early")
                return
        try:
            out = decompressor.decompress(pending)
        except OSError as exc:
            yield PageError("corrupt_bz2", f"{stream_at}", str(exc))
            return
        pending = b""
        if out:
            yield stream_at, out
        if decompressor.eof:
            pending = decompressor.unused_data
            stream_at = consumed - len(pending)
            if stream_at >= end:
                return
            if not pending:
                pending = fh.read(READ_BYTES)
                consumed += len(pending)
                if not pending:
                    return                    # the dump ends cleanly after this stream
            decompressor = bz2.BZ2Decompressor()


def iter_pages(path: str, start: int = 0, end: int = 1 << 62, encoding: str = "utf-8"
               ) -> Iterator[tuple[str, Page] | PageError]:
    """(position, Page) for every page in the streams starting in [start, end) of a .xml.bz2 dump
    (or, for an uncompressed .xml, the whole file when start == 0), and PageErrors for damage.
    `encoding`: the dump's, as read_siteinfo finds it."""
    with fsspec.open(path, "rb") as fh:
        if path.endswith(".bz2"):
            pieces = as_utf8(decompressed_streams(fh, start, end), encoding)
        elif start == 0:
            pieces = as_utf8(((0, chunk) for chunk in iter(lambda: fh.read(READ_BYTES), b"")), encoding)
        else:
            return
        # Offsets into the decompressed data: `buffer_at` of buffer[0], `stream_base` where the
        # current stream's data began, so a position is (stream offset, offset in the stream),
        # the same whatever the task split.
        buffer, buffer_at, stream, stream_base = b"", 0, None, 0
        for piece in pieces:
            if isinstance(piece, PageError):
                yield piece
                return
            at, data = piece
            if at != stream:
                stream, stream_base = at, buffer_at + len(buffer)
            buffer += data
            cut = 0
            while True:
                open_at = buffer.find(PAGE_OPEN, cut)
                if open_at < 0:
                    cut = len(buffer)
                    break
                close_at = buffer.find(PAGE_CLOSE, open_at)
                if close_at < 0:
                    cut = open_at
                    break
                cut = close_at + len(PAGE_CLOSE)
                position = f"{stream}+{buffer_at + open_at - stream_base}"
                try:
                    yield position, parse_page(buffer[open_at:cut])
                except (ET.ParseError, ValueError) as exc:
                    yield PageError("bad_xml", position, str(exc))
            buffer_at += cut
            buffer = buffer[cut:]


def split_dump(xml: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(header up to the first <page>, the <page> elements, footer) of an uncompressed dump."""
    first = xml.find(b"  <page>") if b"  <page>" in xml else xml.find(PAGE_OPEN)
    pages, cut = [], first
    while (open_at := xml.find(PAGE_OPEN, cut)) >= 0:
        cut = xml.find(PAGE_CLOSE, open_at) + len(PAGE_CLOSE)
        pages.append(xml[open_at:cut])
    return xml[:first], pages, xml[cut:]


def write_multistream(path: str, header: bytes, pages: list[bytes], footer: bytes,
                      pages_per_stream: int = 100) -> list[int]:
    """Write a dump the way Wikimedia's multistream dumps are laid out (header stream, streams of
    `pages_per_stream` pages, footer stream); returns the stream offsets (what the index lists).
    Used to build test and benchmark dumps from a real excerpt."""
    offsets = []
    with open(path, "wb") as fh:
        groups = [header] + [b"\n".join(pages[i:i + pages_per_stream]) + b"\n"
                             for i in range(0, len(pages), pages_per_stream)] + [footer]
        for group in groups:
            offsets.append(fh.tell())
            fh.write(bz2.compress(group))
    return offsets
