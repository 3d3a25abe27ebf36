"""Books (Gutenberg boilerplate, chunking) and WikiText-2 (detokenising), without Spark."""
from __future__ import annotations

import re
import unicodedata

import pytest

from pipeline.core.config import load_config
from pipeline.curated.books import book_rows, chunk_words, strip_gutenberg
from pipeline.curated.wikitext2 import article_rows, detokenize, split_articles
from pipeline.readers.corpus import list_tasks

MODERN = """\ufeffThe Project Gutenberg EBook of Tiny Tale, by A. Writer

Title: Tiny Tale

Author: A. Writer

Release Date: May 1, 2010 [EBook #4242]

*** START OF THIS PROJECT GUTENBERG EBOOK TINY TALE ***




Produced by Volunteers




TINY TALE

Once upon a time there was a tale.

End of the Project Gutenberg EBook of Tiny Tale, by A. Writer

*** END OF THIS PROJECT GUTENBERG EBOOK TINY TALE ***

***** This file should be named 4242.txt *****
*** START: FULL LICENSE ***
"""

OLD = """**The Project Gutenberg Etext of Tiny Tale**
***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN ETEXTS**START***
Why is this "Small Print!" statement here?  You know: lawyers.
*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*

This etext was prepared by Someone.

TINY TALE

Once upon a time there was a tale.

End of The Project Gutenberg Etext of Tiny Tale
"""


@pytest.fixture(scope="module")
def section():
    return load_config()["ingest"]


@pytest.mark.parametrize("book", [MODERN, OLD.replace("\n", "\r\n")])
def test_gutenberg_header_and_footer_removed(book):
    body, facts = strip_gutenberg(book)
    assert body == "TINY TALE\n\nOnce upon a time there was a tale."
    assert facts["gutenberg"] == "stripped"


def test_header_facts_and_books_without_markers():
    _, facts = strip_gutenberg(MODERN)
    assert facts == {"title": "Tiny Tale", "author": "A. Writer", "gutenberg_id": "4242",
                     "gutenberg": "stripped"}
    assert strip_gutenberg("Just a play.\n\nACT I.\n") == ("Just a play.\n\nACT I.", {})


def test_chunks_cut_at_paragraphs():
    text = "\n\n".join(f"para {i} " + "word " * 4 for i in range(10))   # 6 words each
    chunks = chunk_words(text, 13)
    assert [len(c.split()) for c in chunks] == [18, 18, 18, 6]
    assert "\n\n".join(chunks) == text
    assert chunk_words(text, 0) == [text]


def test_real_books_clean_and_chunk_ids(realdata, section):
    tasks = list_tasks([str(realdata / "text/books"), str(realdata / "text/near_duplicates")],
                       kinds=("txt",))
    rows = [r for t in tasks for r in book_rows(t, "books", {**section, "books_chunk_words": 5000})]
    kept = [r for r in rows if r["drop_reason"] is None]
    assert {(r["id"], r["drop_reason"]) for r in rows if r["drop_reason"]} == {
        ("near_duplicates/gutenberg1661_1661-8.txt", "read:not_utf8"),       # ISO-8859-1 editions
        ("near_duplicates/gutenberg1661_old_advsh12.txt", "read:not_utf8")}
    for row in kept:
        for marker in ("*** START OF", "*** END OF", "End of the Project Gutenberg", "SMALL PRINT",
                       "FULL LICENSE", "This file should be named", "Produced by",
                       "This etext was prepared"):
            assert marker not in row["text"], (row["id"], marker)
    by_book = {}
    for row in kept:
        by_book.setdefault(row["meta"]["book_id"], []).append(row)
    alice = by_book["books/gutenberg_11-0"]
    assert [r["id"] for r in alice] == [f"books/gutenberg_11-0#{i}" for i in range(len(alice))]
    assert all(r["meta"]["chunks"] == str(len(alice)) for r in alice)
    text = {b: re.sub(r"\s+", " ", " ".join(r["text"] for r in rs)) for b, rs in by_book.items()}
    assert "Alice was beginning to get very tired of sitting by her sister on the bank" in text[
        "books/gutenberg_11-0"]
    assert text["books/gutenberg_1342-0"].startswith(
        "PRIDE AND PREJUDICE By Jane Austen Chapter 1 It is a truth universally acknowledged, that a "
        "single man in possession of a good fortune, must be in want of a wife.")
    assert text["books/gutenberg_2701-0"].endswith("only found another orphan.")
    assert "To Sherlock Holmes she is always THE woman." in text["near_duplicates/gutenberg1661_old_advsh10"]
    assert text["books/tinyshakespeare"].startswith("First Citizen: Before we proceed any further")


def test_legacy_edition_decodes_to_the_same_text(realdata, section):
    """The 8-bit edition, read with ingest.legacy_encoding, is the ASCII edition with its accents."""
    files = [str(realdata / "text/books/gutenberg_1661.txt"),
             str(realdata / "text/near_duplicates/gutenberg1661_1661-8.txt")]
    opts = {**section, "legacy_encoding": "latin-1"}
    rows = [r for t in list_tasks(files, kinds=("txt",)) for r in book_rows(t, "books", opts)]
    assert [r["drop_reason"] for r in rows] == [None, None]
    ascii_text, latin_text = rows[0]["text"], rows[1]["text"]
    assert "IRENE NORTON, née ADLER." in latin_text and "nee ADLER" in ascii_text
    unaccented = unicodedata.normalize("NFKD", latin_text).encode("ascii", "ignore").decode()
    assert unaccented == ascii_text and rows[0]["id"] != rows[1]["id"]


def test_detokenize():
    line = (' The <unk> @,@ 000 @-@ seat arena , built in 1 @,@ 905 , cost $ 2 @.@ 5 million ( '
            '<unk> ) and is " the best " ; it \'s 5 – 6 km long , isn \'t it ? ')
    assert detokenize(line) == ('The arena, built in 1,905, cost $2.5 million and is "the best"; '
                                "it's 5–6 km long, isn't it?")


def test_split_articles_and_headings():
    text = " \n = First = \n \n Body one . \n \n = = Part = = \n \n More . \n = Second = \n Two . \n"
    arts = list(split_articles(text))
    assert [(line, title) for line, title, _ in arts] == [(1, "First"), (8, "Second")]


def test_real_wikitext2(realdata, section):
    [task] = list_tasks([str(realdata / "text/wikipedia/wikitext-2_valid.tokens.txt")], kinds=("txt",))
    rows = [r for r in article_rows(task, "wikitext2", section)]
    kept = [r for r in rows if r["drop_reason"] is None]
    assert len(rows) == 60 and len(kept) >= 55
    for row in kept:
        for artefact in ("<unk>", "@-@", "@,@", "@.@", " , ", " . ", " 's", "( ", " )"):
            assert artefact not in row["text"], (row["id"], artefact)
    lobster = kept[0]
    assert lobster["meta"]["title"] == "Homarus gammarus" and lobster["id"].endswith("@1")
    assert ("Homarus gammarus, known as the European lobster or common lobster, is a species of "
            "lobster from the eastern Atlantic Ocean") in lobster["text"]
    assert "weigh 0.7–2.2 kg (1.5–4.9 lb)" in lobster["text"]
