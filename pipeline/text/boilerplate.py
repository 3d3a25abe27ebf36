"""Block-level boilerplate removal over resiliparse's minimal-HTML output (the `webmix` mode).

resiliparse walks the DOM in C and, with `preserve_formatting="minimal_html", links=True`, writes
the page as a flat sequence of blocks: paragraphs, headings, list items, preformatted text and bare
text runs, with the links inside them kept as `<a>` tags. Walking the DOM in Python costs about
10 µs a node (a page has thousands), so every decision here is made on that flat output instead:
one regex pass splits it into blocks, and each block gets a few numbers (its size, the share of
its characters inside links, its kind). Then, as jusText and boilerpipe do, but with the page's
structure rather than stop words (so that it works the same in every language):

1. label each block: `bad` when most of its text is link text (menus, related-article lists, tag
   clouds, share bars; a heading or a block of sentences must be mostly links) or when it is a
   short copyright line or cookie notice; `good` (prose) when it is long, has sentence
   punctuation and little link text; `head` for headings; `short` for the rest;
2. cut the page into runs of prose wherever enough boilerplate lies between two prose blocks, and
   keep the run with the most prose, grown to neighbouring runs that hold at least
   `keep_fraction` of that and are written like it (in elements, or in bare lines);
3. extend the region forward until the next bad block (lists, sub-headings and short closing
   paragraphs of the article stay) and backward only over link-rich paragraphs of sentences (the
   title, bylines and datelines before the first prose block go); cut it before a heading that
   follows the last prose block (a widget's title);
4. when the region's prose lives in `<p>` elements, anything before the first paragraph of
   sentences and stray runs of bare-text lines (captions, teasers, widget labels) are page chrome.

A page without a single prose block keeps everything resiliparse kept, minus link-dense blocks.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

# The tags resiliparse's minimal HTML contains, and its line breaks.
_TOKEN = re.compile(r"<(/?)(p|h[1-6]|ul|ol|li|pre|br|a)\b[^>]*>|\n")
_ANCHOR = '<a href="">'
_KIND = {"p": "p", "li": "li", "pre": "pre", "ul": "text", "ol": "text",
         "h1": "h", "h2": "h", "h3": "h", "h4": "h", "h5": "h", "h6": "h"}
# Han, kana and hangul carry about a word per character: weigh them like a short word, so that
# block sizes mean roughly the same in Chinese, Japanese, Korean and alphabetic languages.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Notices every site carries, in the languages of the crawl: copyright lines and cookie banners.
# They are checked only on short blocks, so an article that discusses either keeps its paragraphs.
# (Searched in the lower-cased text: an IGNORECASE regex alternation over non-ASCII words costs
# about fifty times as much.)
_COPYRIGHT = ("©", "(c) 19", "(c) 20", "copyright 19", "copyright 20", "all rights reserved",
              "alle rechte vorbehalten", "tous droits réservés", "todos los derechos reservados",
              "todos os direitos reservados", "tutti i diritti riservati", "все права защищены",
              "版权所有", "著作権", "저작권")
_COOKIE = ("cookie", "куки", "쿠키", "クッキー")
_CONSENT = ("use", "accept", "agree", "consent", "policy", "privacy", "settings", "browser", "website",
            "verwend", "utilis", "utiliz", "usamos", "gebruik", "использ", "사용", "使用")
# One alternation per list, searched in the lower-cased text (a case-sensitive regex stays fast
# on non-ASCII words; a generator of substring tests costs more than the search itself).
_COPYRIGHT_MARK, _COOKIE_WORD, _CONSENT_WORD = (re.compile("|".join(map(re.escape, words)))
                                                for words in (_COPYRIGHT, _COOKIE, _CONSENT))
_NOTICE_SIZE = 400
_SENTENCE_MARK = re.compile(r"[.!?;:\u3002\uff01\uff1f\uff1b\uff1a\u2026\u0964\u061f]")


@dataclass(frozen=True)
class BoilerplateParams:
    """Thresholds of the block decision, set by hand from jusText's and boilerpipe's usual values;
    a cross-validated search over them does no better on held-out pages (docs/extraction.md).
    Sizes are characters, CJK characters counting three."""
    good_size: int = 80           # a prose block is at least this long ...
    good_link_density: float = 0.33   # ... with at most this share of link text
    bad_link_density: float = 0.5     # more link text than this: navigation-like ...
    prose_link_density: float = 0.8   # ... or, in a heading or a block of sentences, than this
    gap: float = 5.0              # boilerplate weight between two prose blocks that splits runs
    head_weight: float = 0.5      # weight of a heading in a gap (a link-dense block or an empty
                                  # section's heading weighs 1)
    short_weight: float = 0.25    # weight of a short block in a gap
    keep_fraction: float = 0.15   # other runs kept when their prose is this share of the best's
    paragraph_share: float = 0.5  # prose share in <p> above which stray bare text is chrome
    table_lines: int = 4          # ... unless it runs this many lines (a table, a listing)
    lead_blocks: int = 8          # headings and short lines kept before the first prose block


class Block:
    __slots__ = ("kind", "text", "link_chars", "size", "label", "sentences")

    def __init__(self, kind: str, text: str, link_chars: int):
        self.kind, self.text, self.link_chars = kind, text, link_chars
        self.size = len(text) + (2 * len(_CJK.findall(text)) if not text.isascii() else 0)
        self.label = ""
        self.sentences = False

    def __repr__(self) -> str:
        return f"Block({self.kind}, {self.label}, {self.size}, {self.text[:40]!r})"


def split_blocks(minimal_html: str) -> list[Block]:
    """Blocks of resiliparse's minimal HTML, each with its text and the characters inside links.
    Bare text (what sat in divs, table cells, <br>-separated lines) ends each of those with a
    newline: every such line is a block of its own."""
    blocks: list[Block] = []
    parts: list[str] = []
    kind, link_chars, in_link, pos = "text", 0, False, 0

    def flush(next_kind: str) -> None:
        nonlocal parts, kind, link_chars
        if parts:   # most line breaks and tags follow another with nothing between
            raw = "".join(parts)
            if "&" in raw:
                raw = html.unescape(raw)
            if kind == "pre":
                text = "\n".join(line.rstrip() for line in raw.split("\n")).strip("\n")
            elif "\n" in raw:            # <br> line breaks inside a paragraph or list item
                text = "\n".join(filter(None, (" ".join(line.split()) for line in raw.split("\n"))))
            else:
                text = " ".join(raw.split())
            if text.strip():
                blocks.append(Block(kind, text, link_chars))
            parts = []
        kind, link_chars = next_kind, 0

    for match in _TOKEN.finditer(minimal_html):
        chunk = minimal_html[pos:match.start()]
        pos = match.end()
        # (white space before a block's first word is layout; inside <pre> it is indentation)
        if chunk and (parts or kind == "pre" or not chunk.isspace()):
            parts.append(chunk)
            if in_link:
                link_chars += len(chunk.strip())
        closing, name = match.groups()
        if name == "a":
            # resiliparse writes a named anchor (<a name=...>, no href) as <a href="">: not a link
            in_link = not closing and match.group(0) != _ANCHOR
        elif name is None or name == "br":       # a line break
            if kind == "text":
                in_link = False   # a link left open by broken markup ends with its line
                if parts:
                    flush("text")
            elif kind == "pre" and name is None:
                parts.append("\n")
            else:   # resiliparse writes "<br>\n": the tag breaks the line, its newline is layout
                parts.append("\n" if name else " ")
        else:
            # resiliparse leaves an <a> open when the link holds no text: never carry it over
            in_link = False
            flush("text" if closing else _KIND[name])
    parts.append(minimal_html[pos:])
    flush("text")
    return blocks


def label_blocks(blocks: list[Block], params: BoilerplateParams) -> None:
    for block in blocks:
        density = block.link_chars / len(block.text)
        block.sentences = sentences = (block.size >= params.good_size
                                       and _SENTENCE_MARK.search(block.text) is not None)
        # Prose with many inline links (encyclopaedias, link-rich news) is still prose, and a
        # heading with an "edit" or anchor link still a heading: they need more link text than a
        # menu line to count as navigation.
        tolerant = sentences or block.kind == "h"
        if (density > (params.prose_link_density if tolerant else params.bad_link_density)
                or (block.size < _NOTICE_SIZE and _is_notice(block.text))):
            block.label = "bad"
        elif block.kind == "h":
            block.label = "head"
        elif sentences and density <= params.good_link_density:
            block.label = "good"
        else:
            block.label = "short"


def _is_notice(text: str) -> bool:
    low = text.lower()
    if _COPYRIGHT_MARK.search(low):
        return True
    return _COOKIE_WORD.search(low) is not None and _CONSENT_WORD.search(low) is not None


def select_main(blocks: list[Block], params: BoilerplateParams) -> list[Block]:
    """The blocks of the main content (labels must be set)."""
    if not any(block.label == "good" for block in blocks):
        # No prose at all (a listing, a gallery, a form): nothing to anchor a decision on.
        return [block for block in blocks if block.label != "bad"] or blocks
    first, last = _article_span(blocks, _prose_runs(blocks, params), params)
    # Backward only over paragraphs of sentences too link-rich to count as prose themselves;
    # forward up to the next link-dense block or notice.
    while first > 0 and blocks[first - 1].kind == "p" and blocks[first - 1].label == "short" \
            and blocks[first - 1].sentences:
        first -= 1
    first = _article_head(blocks, first, params.lead_blocks)
    while last + 1 < len(blocks) and blocks[last + 1].label != "bad":
        last += 1
    return _trim(blocks[first:last + 1], params)


def _article_head(blocks: list[Block], first: int, limit: int) -> int:
    """The article's start moved back over its head: up to `limit` headings and short lines (the
    title, a standfirst, the byline and dateline), as far as the nearest heading and never past a
    link-dense block. The gold sets other than AEB keep the headline and byline as body text."""
    lead = first
    while first - lead < limit and lead > 0 and blocks[lead - 1].label in ("head", "short") \
            and not blocks[lead - 1].link_chars:
        lead -= 1
        if blocks[lead].label == "head":
            return lead
    return lead


def _prose_runs(blocks: list[Block], params: BoilerplateParams) -> list[tuple[int, int]]:
    """(first, last) block index of each run of prose blocks not split by enough boilerplate."""
    by_label = {"bad": 1.0, "head": params.head_weight, "short": params.short_weight, "good": 0.0}
    weight = [by_label[block.label] for block in blocks]
    for i in range(len(blocks) - 1):
        # A heading with nothing under it before the next heading or link block titles a widget.
        if blocks[i].label == "head" and blocks[i + 1].label in ("head", "bad"):
            weight[i] = 1.0
    prose = [i for i, block in enumerate(blocks) if block.label == "good"]
    runs, start, previous = [], prose[0], prose[0]
    for i in prose[1:]:
        if sum(weight[previous + 1:i]) >= params.gap:
            runs.append((start, previous))
            start = i
        previous = i
    runs.append((start, previous))
    return runs


def _article_span(blocks: list[Block], runs: list[tuple[int, int]],
                  params: BoilerplateParams) -> tuple[int, int]:
    """The run with the most prose, grown to its neighbours while they hold enough prose and are
    written like it (in paragraph and list elements, or in bare lines): an article cut in two by an
    inline box stays whole, a feed or teaser lines in a sidebar stay out."""
    scores, bare = [], []
    for a, b in runs:
        good = [block for block in blocks[a:b + 1] if block.label == "good"]
        scores.append(sum(block.size for block in good))
        bare.append(2 * sum(block.size for block in good if block.kind == "text") > scores[-1])
    low = high = max(range(len(runs)), key=scores.__getitem__)
    floor, style = params.keep_fraction * scores[low], bare[low]
    while low > 0 and scores[low - 1] >= floor and bare[low - 1] == style:
        low -= 1
    while high + 1 < len(runs) and scores[high + 1] >= floor and bare[high + 1] == style:
        high += 1
    return runs[low][0], runs[high][1]


def _trim(region: list[Block], params: BoilerplateParams) -> list[Block]:
    good = [block for block in region if block.label == "good"]
    in_paragraphs = sum(block.size for block in good if block.kind == "p")
    if in_paragraphs > params.paragraph_share * sum(block.size for block in good):
        # Written in <p>: what comes before the first paragraph, and stray bare lines, is chrome.
        # Stray bare lines are chrome; the region's head (title, byline) was chosen in select_main.
        region = _drop_stray_lines(region, params.table_lines)
    kept = [block for block in region if block.label != "bad"]
    # After the last prose block, a heading opens a section without prose: a widget (polls,
    # "related", "follow us") or the title of what was cut. The text ends before it.
    last_prose = max((i for i, block in enumerate(kept) if block.label == "good"), default=len(kept))
    for i in range(last_prose + 1, len(kept)):
        if kept[i].label == "head":
            return kept[:i]
    return kept


def _drop_stray_lines(region: list[Block], table_lines: int) -> list[Block]:
    """Drop runs of fewer than `table_lines` bare-text lines (captions, bylines, teasers, widget
    labels); longer runs are tables or listings and stay."""
    kept: list[Block] = []
    run: list[Block] = []
    for block in region + [None]:
        if block is not None and block.kind == "text" and block.label != "good":
            run.append(block)
            continue
        if len(run) >= table_lines:
            kept.extend(run)
        run = []
        if block is not None:
            kept.append(block)
    return kept


def render(blocks: list[Block]) -> str:
    """Plain text: a blank line between blocks, consecutive list items on their own lines."""
    pieces: list[str] = []
    previous = None
    for block in blocks:
        if previous is not None:
            pieces.append("\n" if previous.kind == block.kind == "li" else "\n\n")
        pieces.append("• " + block.text if block.kind == "li" else block.text)
        previous = block
    return "".join(pieces)


def main_text(minimal_html: str, params: BoilerplateParams = BoilerplateParams()) -> str:
    return main_text_and_prose(minimal_html, params)[0]


def main_text_and_prose(minimal_html: str, params: BoilerplateParams = BoilerplateParams()) -> tuple[str, int]:
    """The main text, and the size of the page's prose blocks (without any, the text is everything
    that is not link-dense, and another view of the page may do better)."""
    blocks = split_blocks(minimal_html)
    label_blocks(blocks, params)
    return render(select_main(blocks, params)), sum(block.size for block in blocks if block.label == "good")

