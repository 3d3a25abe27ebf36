"""The labelled sample crawl: which pages exist (`plan_pages`) and the WARC files that hold them
(`write_warcs`): a warcinfo record, then a request and a response record per capture, gzip per
record, dates and record ids derived from the seed so that a seed always gives the same bytes."""
from __future__ import annotations

import gzip
import io
import re
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.core.hashing import hash64
from pipeline.readers.warc_write import warc_date
from pipeline.sample import junk
from pipeline.sample.documents import Document, recombined, rng_for
from pipeline.sample.pages import article_page, error_page, plain_page

CRAWL_START = datetime(2017, 6, 1, tzinfo=timezone.utc)
ARTICLE_HOSTS = ["www.northfield-gazette.example", "blog.quietcoder.example", "www.learning-notes.example",
                 "docs-digest.example", "www.weekly-review.example", "longreads.example",
                 "www.fieldjournal.example", "techessays.example", "www.civic-times.example",
                 "notebook.example"]
JUNK_HOSTS = ["best-deals-online.example", "cheap-shop24.example", "top-links-directory.example",
              "coupon-heaven.example", "viral-news-now.example", "forum.gadgets-talk.example"]
FOREIGN_HOSTS = {"de": "www.stadtnachrichten.example", "fr": "www.journal-local.example",
                 "es": "www.noticias-locales.example", "it": "www.notizie-locali.example",
                 "nl": "www.lokaalnieuws.example", "pt": "www.noticias-da-terra.example"}
MIRROR_HOSTS = ["mirror.syndicated-news.example", "www.reposter.example"]
AUTHORS = ["Ada Whitfield", "Brendan Osei", "Carla Mendes", "Dmitri Volkov", "Elena Fischer",
           "Farid Haddad", "Grace Liu", "Hannah Berg", "Ivan Petrov", "Julia Santos"]
ARTICLE_TITLES = ["Notes on the {s}", "How the {s} works", "A closer look at the {s}",
                  "Understanding the {s}", "What to know about the {s}", "The {s}, explained",
                  "Inside the {s}", "A short guide to the {s}"]
MAX_ARTICLES = 150

# Pages per kind at scale 1 (articles: every crawl document, up to MAX_ARTICLES per scale).
KIND_COUNTS = {"seo_spam": 45, "clickbait": 15, "comments": 15, "link_farm": 20, "keyword_spam": 20,
               "boilerplate": 15, "cookie_wall": 15, "nav_list": 15, "foreign": 36,
               "exact_duplicate": 12, "recapture": 6, "near_duplicate": 15, "non_html": 8, "http_error": 10}
# Why a kind is expected to leave the quality filter (None: expected to be kept).
DROP_BY = {"article": None, "exact_duplicate": None, "recapture": None, "near_duplicate": None,
           "seo_spam": "classifier", "clickbait": "classifier", "comments": "heuristics",
           "link_farm": "heuristics", "keyword_spam": "heuristics", "boilerplate": "heuristics",
           "cookie_wall": "heuristics", "nav_list": "heuristics", "foreign": "langid",
           "non_html": "not_html", "http_error": "http_status"}
HTTP_ERRORS = [(404, "Not Found"), (404, "Not Found"), (500, "Internal Server Error"),
               (403, "Forbidden"), (301, "Moved Permanently"), (302, "Found"), (503, "Service Unavailable")]


@dataclass(eq=False)
class Page:
    url: str
    kind: str
    lang: str = "en"
    title: str = ""
    text: str = ""                  # the page's main text (what extraction should find)
    status: int = 200
    reason: str = "OK"
    mime: str = "text/html"
    charset: str | None = "utf-8"
    body: bytes = b""               # the HTTP payload as served (content-encoded when set)
    content_encoding: str | None = None
    location: str | None = None
    duplicate_of: str | None = None
    recapture: bool = False
    in_eval: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.url.split("/")[2]

    @property
    def drop_by(self) -> str | None:
        return DROP_BY[self.kind]

    @property
    def expected_keep(self) -> bool:
        return self.drop_by is None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "page"


def _unique(url: str, taken: set[str]) -> str:
    candidate, n = url, 2
    while candidate in taken:
        candidate = re.sub(r"/?$", f"-{n}/", url, count=1) if url.endswith("/") else f"{url}?p={n}"
        n += 1
    taken.add(candidate)
    return candidate


def _articles(docs: list[Document], seed: int, scale: int, taken: set[str]) -> list[Page]:
    rng = rng_for(seed, "articles")
    wanted = MAX_ARTICLES * scale
    docs = docs[:wanted] + (recombined(docs, wanted - len(docs), rng) if scale > 1 and len(docs) < wanted else [])
    pages = []
    for i, doc in enumerate(docs):
        host = ARTICLE_HOSTS[hash64(seed, "host", doc.paragraphs[0]) % len(ARTICLE_HOSTS)]
        title = rng.choice(ARTICLE_TITLES).format(s=doc.subject())
        title = title[0].upper() + title[1:]
        month = 1 + i % 6
        url = _unique(f"https://{host}/2017/{month:02d}/{_slug(title)}/", taken)
        pages.append(Page(url, "article", title=title, text=doc.text,
                          extra={"author": rng.choice(AUTHORS), "paragraphs": list(doc.paragraphs),
                                 "date": f"2017-{month:02d}-{1 + i % 28:02d}"}))
    return pages


def _render_article(page: Page, related: list[Page], paragraphs: list[str] | None = None,
                    site: str | None = None, note: str = "") -> bytes:
    html = article_page(site or page.host, page.title, page.extra["author"], page.extra["date"],
                        paragraphs or page.extra["paragraphs"], [(r.url, r.title) for r in related],
                        footer_note=note)
    return html.encode("utf-8")


def _text_of(blocks: list) -> str:
    parts = []
    for kind, value in blocks:
        if kind in ("p", "h2"):
            parts.append(value)
        elif kind == "ul":
            parts.extend(value)
        elif kind == "links":
            parts.extend(label for _, label in value)
    return "\n".join(parts)


def _junk_page(kind: str, rng, taken: set[str], i: int) -> Page:
    host = rng.choice(JUNK_HOSTS)
    makers = {"seo_spam": lambda: junk.seo_spam(rng), "clickbait": lambda: junk.clickbait(rng),
              "comments": lambda: junk.comments(rng), "link_farm": lambda: junk.link_farm(rng, JUNK_HOSTS),
              "keyword_spam": lambda: junk.keyword_spam(rng), "boilerplate": lambda: junk.boilerplate(rng, host),
              "cookie_wall": lambda: junk.cookie_wall(rng), "nav_list": lambda: junk.nav_list(rng)}
    title, blocks = makers[kind]()
    url = _unique(f"https://{host}/{_slug(title)}-{i}.html", taken)
    return Page(url, kind, title=title, text=_text_of(blocks),
                body=plain_page(host, title, blocks).encode("utf-8"))


def _foreign_page(lang: str, rng, taken: set[str], i: int) -> Page:
    host = FOREIGN_HOSTS[lang]
    title, blocks = junk.foreign(rng, lang)
    # Half of the Latin-script pages are served as ISO-8859-1, declared in the HTTP header.
    charset = "iso-8859-1" if lang != "nl" and i % 2 else "utf-8"
    url = _unique(f"https://{host}/artikel/{i}.html", taken)
    body = plain_page(host, title, blocks, lang=lang, charset=charset).encode(charset)
    return Page(url, "foreign", lang=lang, title=title, text=_text_of(blocks), charset=charset, body=body)


def _png() -> bytes:
    """A valid 1x1 PNG, built by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


NON_HTML = [("/static/logo.png", "image/png", None, _png()),
            ("/files/annual-report.pdf", "application/pdf", None,
             b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
            ("/api/articles.json", "application/json", "utf-8", b'{"articles": [], "page": 1}\n'),
            ("/robots.txt", "text/plain", "utf-8", b"User-agent: *\nDisallow: /admin/\n"),
            ("/static/site.css", "text/css", "utf-8", b"body { font-family: serif; margin: 0 auto; }\n"),
            ("/static/app.js", "application/javascript", "utf-8", b"window.dataLayer = [];\n"),
            ("/feed.xml", "application/rss+xml", "utf-8", b"<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>\n"),
            ("/media/podcast.mp3", "audio/mpeg", None, b"ID3\x03\x00\x00\x00\x00\x00\x00")]


def _edited(paragraphs: list[str], rng) -> list[str]:
    """A near-duplicate's text: two words swapped for synonyms of a sort, a closing line added."""
    edited = list(paragraphs)
    for _ in range(2):
        i = rng.randrange(len(edited))
        words = edited[i].split()
        j = rng.randrange(len(words))
        words[j] = {"the": "this", "a": "one", "is": "remains", "and": "as well as"}.get(words[j], words[j] + "s")
        edited[i] = " ".join(words)
    return edited


def plan_pages(crawl_docs: list[Document], seed: int, scale: int = 1) -> list[Page]:
    """Every page of the sample crawl, rendered, in a fixed order."""
    taken: set[str] = set()
    articles = _articles(crawl_docs, seed, scale, taken)
    by_host: dict[str, list[Page]] = {}
    for page in articles:
        by_host.setdefault(page.host, []).append(page)
    for page in articles:
        others = [p for p in by_host[page.host] if p is not page]
        page.body = _render_article(page, others[:3])
    pages = list(articles)
    rng = rng_for(seed, "junk")
    for kind in ("seo_spam", "clickbait", "comments", "link_farm", "keyword_spam", "boilerplate",
                 "cookie_wall", "nav_list"):
        pages += [_junk_page(kind, rng, taken, i) for i in range(KIND_COUNTS[kind] * scale)]
    langs = sorted(junk.FOREIGN)
    pages += [_foreign_page(langs[i % len(langs)], rng, taken, i) for i in range(KIND_COUNTS["foreign"] * scale)]

    dup_rng = rng_for(seed, "duplicates")
    sources = dup_rng.sample(articles, min(len(articles), (KIND_COUNTS["exact_duplicate"] + KIND_COUNTS["near_duplicate"]
                                                           + KIND_COUNTS["recapture"]) * scale))
    n_exact, n_re = KIND_COUNTS["exact_duplicate"] * scale, KIND_COUNTS["recapture"] * scale
    for k, src in enumerate(sources):
        if k < n_exact:     # the same page under another URL: tracking parameters or an AMP path
            url = _unique(src.url + ("?utm_source=feed&utm_medium=rss" if k % 2 else "amp/"), taken)
            pages.append(Page(url, "exact_duplicate", title=src.title, text=src.text, body=src.body,
                              duplicate_of=src.url, extra=src.extra))
        elif k < n_exact + n_re:   # the same URL captured again a month later
            pages.append(Page(src.url, "recapture", title=src.title, text=src.text, body=src.body,
                              duplicate_of=src.url, recapture=True, extra=src.extra))
        else:               # syndicated copy: another site's template, small edits, a credit line
            mirror = MIRROR_HOSTS[k % len(MIRROR_HOSTS)]
            paragraphs = _edited(src.extra["paragraphs"], dup_rng)
            url = _unique(f"https://{mirror}/syndicated/{_slug(src.title)}/", taken)
            note = f"This article first appeared on {src.host}."
            page = Page(url, "near_duplicate", title=src.title, text="\n\n".join(paragraphs + [note]),
                        duplicate_of=src.url, extra=src.extra)
            page.body = _render_article(page, [], paragraphs, site=mirror, note=note)
            pages.append(page)

    for i in range(KIND_COUNTS["non_html"] * scale):
        path, mime, charset, body = NON_HTML[i % len(NON_HTML)]
        host = ARTICLE_HOSTS[i % len(ARTICLE_HOSTS)]
        pages.append(Page(_unique(f"https://{host}{path}", taken), "non_html", lang="", mime=mime,
                          charset=charset, body=body))
    for i in range(KIND_COUNTS["http_error"] * scale):
        status, reason = HTTP_ERRORS[i % len(HTTP_ERRORS)]
        host = ARTICLE_HOSTS[(i * 3) % len(ARTICLE_HOSTS)]
        url = _unique(f"https://{host}/2017/missing-page-{i}/", taken)
        page = Page(url, "http_error", lang="", status=status, reason=reason,
                    body=b"" if status in (301, 302) else error_page(status, reason).encode())
        if status in (301, 302):
            page.location = f"https://{host}/"
        pages.append(page)
    # Every tenth article is served gzip-compressed (HTTP Content-Encoding), as many servers do.
    for i, page in enumerate(articles):
        if i % 10 == 5:
            page.body = gzip.compress(page.body, mtime=0)
            page.content_encoding = "gzip"
    return pages


# --- WARC writing -------------------------------------------------------------------------------

def _record_id(seed: int, *parts: object) -> str:
    value = (hash64(seed, "record-hi", *parts) << 64) | hash64(seed, "record-lo", *parts)
    return f"<urn:uuid:{uuid.UUID(int=value)}>"


def capture_order(pages: list[Page], seed: int) -> list[Page]:
    """The crawl order: shuffled by the seed, second captures last."""
    rng = rng_for(seed, "order")
    first = [p for p in pages if not p.recapture]
    rng.shuffle(first)
    return first + [p for p in pages if p.recapture]


def write_warcs(crawl_dir, pages: list[Page], seed: int, n_files: int) -> tuple[list[str], list[dict]]:
    """Write the pages into `n_files` WARC files; returns their names and one label row per
    response record."""
    ordered = capture_order(pages, seed)
    names = [f"CC-MAIN-SAMPLE-2017-{seed:04d}-{i:05d}.warc.gz" for i in range(n_files)]
    labels = []
    per_file = -(-len(ordered) // n_files)
    for index, name in enumerate(names):
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
        info_id = _record_id(seed, "warcinfo", name)
        info = (f"software: webmix-sample\nformat: WARC File Format 1.1\nisPartOf: CC-MAIN-SAMPLE-2017\n"
                f"description: webmix embedded sample crawl (seed {seed})\noperator: webmix\n").encode()
        writer.write_record(writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(info), warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": info_id, "WARC-Filename": name,
                               "WARC-Date": warc_date(CRAWL_START)}))
        for position in range(index * per_file, min(len(ordered), (index + 1) * per_file)):
            page = ordered[position]
            when = CRAWL_START + timedelta(seconds=97 * position) + (timedelta(days=30) if page.recapture else timedelta())
            labels.append(_write_capture(writer, page, seed, when, info_id, name))
        (crawl_dir / name).write_bytes(buffer.getvalue())
    return names, labels


def _write_capture(writer: WARCWriter, page: Page, seed: int, when: datetime, info_id: str, name: str) -> dict:
    path = "/" + page.url.split("/", 3)[3] if page.url.count("/") >= 3 else "/"
    request_id = _record_id(seed, "request", page.url, page.recapture)
    response_id = _record_id(seed, "response", page.url, page.recapture)
    ip = f"203.0.113.{hash64(seed, 'ip', page.host) % 254 + 1}"
    request = StatusAndHeaders(f"GET {path} HTTP/1.1", [
        ("Host", page.host), ("User-Agent", "webmix-sample/1.0 (+https://example.org/webmix)"),
        ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"), ("Accept-Encoding", "gzip")],
        is_http_request=True)
    common = {"WARC-Date": warc_date(when), "WARC-Warcinfo-ID": info_id, "WARC-IP-Address": ip}
    writer.write_record(writer.create_warc_record(
        page.url, "request", payload=io.BytesIO(b""), http_headers=request,
        warc_headers_dict={**common, "WARC-Record-ID": request_id}))
    content_type = page.mime + (f"; charset={page.charset}" if page.charset else "")
    headers = [("Date", format_datetime(when, usegmt=True)), ("Server", "nginx"),
               ("Content-Type", content_type), ("Content-Length", str(len(page.body)))]
    if page.content_encoding:
        headers.append(("Content-Encoding", page.content_encoding))
    if page.location:
        headers.append(("Location", page.location))
    response = StatusAndHeaders(f"{page.status} {page.reason}", headers, protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        page.url, "response", payload=io.BytesIO(page.body), http_headers=response,
        warc_headers_dict={**common, "WARC-Record-ID": response_id, "WARC-Concurrent-To": request_id}))
    return {"warc_file": name, "record_id": response_id, "url": page.url, "date": warc_date(when),
            "kind": page.kind, "lang": page.lang, "status": page.status, "mime": page.mime,
            "expected_keep": page.expected_keep, "drop_by": page.drop_by,
            "duplicate_of": page.duplicate_of, "in_eval": page.in_eval, "title": page.title}
