"""Wikitext -> clean prose, with mwparserfromhell's parse tree (its C tokenizer).

mwparserfromhell's own `strip_code()` keeps table cells, image captions with their `thumb|…` options
and category links, so the tree is walked here with GPT-style rules instead:

    removed   templates (infoboxes, navboxes, citations, {{lang}}…), <ref> and other invisible tags,
              tables, File:/Image:/Media: links, Category: links, interlanguage links, HTML comments,
              magic words (__TOC__), template arguments, bare external URLs, the sections named in
              `ingest.wikipedia_drop_sections` (See also, References, …) and headings left empty
    kept      text; the label of wiki links ([[A|b]] -> b, [[A]] -> A) and of titled external
              links; the contents of formatting and HTML tags (''i'', '''b''', <span>, <div>…);
              list items as lines without their bullets; headings as plain lines
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import ExternalLink, Heading, HTMLEntity, Tag, Text, Wikilink

# Tags whose contents are not prose (mwparserfromhell's invisible tags, plus the references and
# source-code extensions).
DROPPED_TAGS = frozenset({
    "ref", "references", "gallery", "math", "chem", "timeline", "imagemap", "score", "graph",
    "categorytree", "inputbox", "templatedata", "section", "syntaxhighlight", "source", "pre",
    "nowiki", "hiero", "mapframe", "maplink", "table", "noinclude", "includeonly", "onlyinclude",
    "charinsert", "indicator", "templatestyles", "style", "script",
})
LINE_BREAK_TAGS = frozenset({"br", "hr", "p"})
INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$|^simple$")
MAGIC_WORD = re.compile(r"__[A-Z]+__")
EMPTY_PARENS = re.compile(r"\(\s*[,;:.]*\s*\)|\[\s*\]")
# "(;; 14 March 1879" once the pronunciation templates are gone -> "(14 March 1879".
PAREN_LEAD = re.compile(r"\((?:\s*[,;:])+\s*")
SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?)])")
SPACES = re.compile(r"[ \t\u00a0]{2,}")
BLANK_LINES = re.compile(r"\n{3,}")
QUOTE_MARKUP = re.compile(r"'{2,}")
# A line still holding markup that did not parse (an unclosed template, a table row): not prose.
RESIDUE = re.compile(r"\{\{|\}\}|\[\[|\]\]|^\s*(\{\||\|\}|\|-|\||!)|\|\||<ref|</?[a-zA-Z][^>]*>")
HEADING_MARK = "\x00"
REFS_AND_COMMENTS = re.compile(r"<ref[^>]*?/>|<ref(?:\s[^>]*)?>.*?</ref\s*>|<!--.*?-->", re.S | re.I)


@dataclass(frozen=True)
class WikiNames:
    """Namespace names of one wiki (from the dump's <siteinfo>), lower case."""
    files: frozenset[str] = frozenset({"file", "image", "media"})
    categories: frozenset[str] = frozenset({"category"})
    drop_sections: frozenset[str] = field(default_factory=frozenset)


def _link_prefix(title: str) -> str:
    return title.split(":", 1)[0].strip().lower().replace("_", " ") if ":" in title else ""


class _Renderer:
    def __init__(self, names: WikiNames):
        self.names = names

    def render(self, code) -> str:
        return "".join(self.node(n) for n in code.nodes)

    def node(self, node) -> str:
        if isinstance(node, Text):
            return node.value
        if isinstance(node, Wikilink):
            return self.wikilink(node)
        if isinstance(node, Tag):
            return self.tag(node)
        if isinstance(node, HTMLEntity):
            return node.normalize()
        if isinstance(node, ExternalLink):
            return self.render(node.title) if node.title is not None else ""
        if isinstance(node, Heading):
            return f"\n{HEADING_MARK}{node.level}{self.render(node.title).strip()}\n"
        # Template, Argument, Comment: not prose.
        return ""

    def wikilink(self, node: Wikilink) -> str:
        title = str(node.title).strip()
        if title.startswith(":"):            # [[:Category:X]] is a visible link to that page
            title = title[1:]
        else:
            prefix = _link_prefix(title)
            if (prefix in self.names.files or prefix in self.names.categories
                    or INTERLANGUAGE.match(prefix)):
                return ""
        if node.text is not None:
            return self.render(node.text)
        title = html.unescape(title)
        return title.split("#", 1)[0] if not title.startswith("#") else title[1:]

    def tag(self, node: Tag) -> str:
        name = str(node.tag).strip().lower()
        if name in DROPPED_TAGS:
            return ""
        if name in LINE_BREAK_TAGS:
            return "\n" + (self.render(node.contents) if node.contents else "")
        if name in ("li", "dd", "dt") and node.wiki_markup:
            return ""                        # a bullet: the item's text follows as a Text node
        return self.render(node.contents) if node.contents is not None else ""


def _drop_sections(lines: list[str], drop: frozenset[str]) -> list[str]:
    """Remove whole sections whose heading names one of `drop`, up to the next heading of the same
    or a higher level. Done on the rendered lines, not the tree: mwparserfromhell nests a heading
    inside an unclosed tag or table, so headings are not all at the top of the tree."""
    kept, skipping_level = [], None
    for line in lines:
        if line.startswith(HEADING_MARK):
            level = int(line[1])
            if skipping_level is not None and level <= skipping_level:
                skipping_level = None
            if skipping_level is None and line[2:].strip().lower() in drop:
                skipping_level = level
        if skipping_level is None:
            kept.append(line)
    return kept


def _tidy(text: str, drop_sections: frozenset[str]) -> str:
    text = html.unescape(MAGIC_WORD.sub("", text))
    text = QUOTE_MARKUP.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = SPACES.sub(" ", PAREN_LEAD.sub("(", EMPTY_PARENS.sub("", line)))
        line = SPACE_BEFORE_PUNCT.sub(r"\1", line).strip()
        if line.startswith(HEADING_MARK):
            lines.append(line)
        elif RESIDUE.search(line) or (line and not any(ch.isalnum() for ch in line)):
            continue            # unparsed markup, or the punctuation left of a removed formula
        else:
            lines.append(line)
    lines = _drop_sections(lines, drop_sections)
    kept: list[str] = []
    # A heading survives only when prose follows it before the next heading of its level or above.
    for i, line in enumerate(lines):
        if line.startswith(HEADING_MARK):
            level = int(line[1])
            following = next((l for l in lines[i + 1:] if l), None)
            if following is None or (following.startswith(HEADING_MARK) and int(following[1]) <= level):
                continue
            kept.append(line[2:])
        else:
            kept.append(line)
    return BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()


def parse(wikitext: str):
    """The parse tree of a page, with references and comments cut out first: they are dropped
    anyway, and the citation templates inside <ref> are most of a page's tokens (parsing gets
    about three times faster)."""
    return mwparserfromhell.parse(REFS_AND_COMMENTS.sub("", wikitext))


def clean_wikitext(wikitext: str, names: WikiNames = WikiNames()) -> str:
    """Wikitext -> plain prose (see the module docstring for what is removed and kept)."""
    return clean_parsed(parse(wikitext), names)


def clean_parsed(code, names: WikiNames) -> str:
    """`clean_wikitext` for a page already parsed (the caller also reads its templates)."""
    return _tidy(_Renderer(names).render(code), names.drop_sections)


def top_templates(code) -> set[str]:
    """Names of the templates at the top level of a parsed page, lower case, spaces for '_'."""
    return {str(t.name).strip().lower().replace("_", " ") for t in code.filter_templates(recursive=False)}
