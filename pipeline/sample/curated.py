"""The curated positives of the sample: Wikipedia-like articles (plain text, and the same articles
as a small MediaWiki XML export with wikitext markup) and books in Project Gutenberg's plain-text
form (header, START and END markers, licence footer)."""
from __future__ import annotations

import bz2
import hashlib
import re
from html import escape

from pipeline.sample.documents import Document, rng_for

WIKI_CATEGORIES = ["Computing", "Software", "Programming languages", "Data formats", "Standards"]
BOOK_AUTHORS = ["Margaret Ellery", "Thomas Aldine", "Harriet Quill", "Samuel Brandt", "Louisa Farrow",
                "Edmund Hale", "Clara Winslow", "Arthur Penrose"]
CHAPTERS_PER_BOOK = 10


def _title_case(subject: str) -> str:
    return subject[:1].upper() + subject[1:]


def wiki_titles(docs: list[Document]) -> list[str]:
    """One distinct title per article: its subject, numbered when a subject repeats."""
    seen: dict[str, int] = {}
    titles = []
    for doc in docs:
        base = _title_case(doc.subject())
        seen[base] = seen.get(base, 0) + 1
        titles.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return titles


def _file_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") + ".txt"


def _wikitext(title: str, doc: Document, others: list[str], rng) -> str:
    """The article as an editor would write it: an infobox, bold title, links, refs, a section
    heading, a category or two (the plain-text copy holds the same prose without markup)."""
    paragraphs = list(doc.paragraphs)
    first_words = paragraphs[0].split(" ", 1)
    lead = f"'''{first_words[0]}''' {first_words[1]}" if len(first_words) == 2 else paragraphs[0]
    body = [f"{{{{Infobox software\n| name = {title}\n| genre = Library module\n}}}}", lead + "<ref>Sample reference.</ref>"]
    for i, para in enumerate(paragraphs[1:], 1):
        if i == 2:
            body.append("== Details ==")
        if others and i == 1:
            para = f"{para} See also [[{rng.choice(others)}]]."
        body.append(para)
    body.append("== References ==\n{{Reflist}}")
    body.extend(f"[[Category:{c}]]" for c in rng.sample(WIKI_CATEGORIES, 2))
    return "\n\n".join(body)


def write_wikipedia(wiki_dir, docs: list[Document], seed: int) -> dict:
    """`text/<Title>.txt` per article, and `dump/enwiki-sample-pages-articles.xml.bz2`."""
    rng = rng_for(seed, "wikipedia")
    titles = wiki_titles(docs)
    text_dir, dump_dir = wiki_dir / "text", wiki_dir / "dump"
    text_dir.mkdir(parents=True, exist_ok=True)
    dump_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for i, (title, doc) in enumerate(zip(titles, docs)):
        (text_dir / _file_name(title)).write_text(f"{title}\n\n{doc.text}\n", encoding="utf-8")
        pages.append((title, 0, _wikitext(title, doc, [t for t in titles if t != title][:40], rng)))
    # What real dumps also hold: redirects and a talk page (namespace 1), which readers must skip.
    pages.append((f"{titles[0]} module", 0, f"#REDIRECT [[{titles[0]}]]"))
    pages.append((f"Talk:{titles[0]}", 1, "== Merge proposal ==\nShould this be merged? ~~~~"))
    xml = _mediawiki_xml(pages)
    (dump_dir / "enwiki-sample-pages-articles.xml.bz2").write_bytes(bz2.compress(xml.encode("utf-8"), 9))
    return {"articles": len(docs), "dump_pages": len(pages)}


def _mediawiki_xml(pages: list[tuple[str, int, str]]) -> str:
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">',
           "  <siteinfo>", "    <sitename>Wikipedia</sitename>", "    <dbname>enwiki</dbname>",
           "    <base>https://en.wikipedia.org/wiki/Main_Page</base>",
           "    <generator>MediaWiki 1.30.0-wmf.4</generator>", "    <case>first-letter</case>",
           "    <namespaces>", '      <namespace key="0" case="first-letter" />',
           '      <namespace key="1" case="first-letter">Talk</namespace>',
           '      <namespace key="6" case="first-letter">File</namespace>',
           '      <namespace key="10" case="first-letter">Template</namespace>',
           '      <namespace key="14" case="first-letter">Category</namespace>',
           "    </namespaces>", "  </siteinfo>"]
    for page_id, (title, ns, text) in enumerate(pages, start=10):
        sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()
        redirect = re.match(r"#REDIRECT \[\[(.+?)\]\]", text)
        out += ["  <page>", f"    <title>{escape(title)}</title>", f"    <ns>{ns}</ns>", f"    <id>{page_id}</id>"]
        if redirect:
            out.append(f'    <redirect title="{escape(redirect.group(1))}" />')
        out += ["    <revision>", f"      <id>{700000 + page_id}</id>",
                "      <timestamp>2017-06-01T00:00:00Z</timestamp>",
                "      <contributor>", "        <username>SampleEditor</username>", "        <id>42</id>",
                "      </contributor>", "      <model>wikitext</model>", "      <format>text/x-wiki</format>",
                f'      <text xml:space="preserve" bytes="{len(text.encode())}">{escape(text, quote=False)}</text>',
                f"      <sha1>{sha1}</sha1>", "    </revision>", "  </page>"]
    out.append("</mediawiki>\n")
    return "\n".join(out)


def _roman(n: int) -> str:
    table = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in table:
        while n >= value:
            out, n = out + numeral, n - value
    return out


def write_books(books_dir, docs: list[Document], seed: int) -> dict:
    """Books of about CHAPTERS_PER_BOOK documents each, wrapped at 72 columns like Gutenberg
    e-texts (the remainder is spread over the books, so none is a stub)."""
    rng = rng_for(seed, "books")
    books_dir.mkdir(parents=True, exist_ok=True)
    names = []
    n_books = max(1, len(docs) // CHAPTERS_PER_BOOK)
    bounds = [len(docs) * i // n_books for i in range(n_books + 1)]
    for number in range(1, n_books + 1):
        chapters = docs[bounds[number - 1]:bounds[number]]
        title = f"Essays on the {chapters[0].subject()}"
        author = rng.choice(BOOK_AUTHORS)
        ebook = 90000 + number
        body = []
        for c, chapter in enumerate(chapters, start=1):
            body.append(f"CHAPTER {_roman(c)}.\n\n{_title_case(chapter.subject())}")
            body.extend(_wrap(p) for p in chapter.paragraphs)
        text = (_gutenberg_header(title, author, ebook) + "\n\n\n" + "\n\n".join(body) + "\n\n\n"
                + _gutenberg_footer(title))
        name = f"pg{ebook}.txt"
        (books_dir / name).write_text(text, encoding="utf-8")
        names.append(name)
    return {"books": len(names), "chapters": len(docs)}


def _wrap(paragraph: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def _gutenberg_header(title: str, author: str, ebook: int) -> str:
    return (f"The Project Gutenberg eBook of {title}, by {author}\n\n"
            "This eBook is for the use of anyone anywhere at no cost and with almost no restrictions\n"
            "whatsoever. You may copy it, give it away or re-use it under the terms of the Project\n"
            "Gutenberg License included with this eBook or online at www.gutenberg.org.\n\n"
            f"Title: {title}\n\nAuthor: {author}\n\nRelease Date: June, 2017 [EBook #{ebook}]\n\n"
            "Language: English\n\nCharacter set encoding: UTF-8\n\n"
            f"*** START OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n\n\n\n"
            f"{title.upper()}\n\nBy {author}")


def _gutenberg_footer(title: str) -> str:
    return (f"End of the Project Gutenberg EBook of {title}\n\n"
            f"*** END OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
            "***** This file should be named as its EBook number with the .txt extension. *****\n\n"
            "Updated editions will replace the previous one--the old editions will be renamed.\n\n"
            "START: FULL LICENSE\n\nTHE FULL PROJECT GUTENBERG LICENSE\n"
            "PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK\n\n"
            "This sample book imitates the layout of a Project Gutenberg e-text so that header and\n"
            "footer removal can be tested; it is not a Project Gutenberg publication.\n")
