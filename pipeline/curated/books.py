"""Plain-text books: Project Gutenberg's licence header and footer removed, optionally chunked.

The markers are written by hand because no maintained PyPI package does this on its own (the
`gutenberg` package that had such lists is unmaintained and pulls a database backend); the list
follows its TEXT_START/END markers and covers the editions in the real data: the modern
"*** START OF THIS PROJECT GUTENBERG EBOOK …" / "*** END OF …", the 2000s "*** START OF THE PROJECT
GUTENBERG EBOOK, …", and the 1990s "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*…*END*" header
closed by "End of The Project Gutenberg Etext of …". Credit lines right after the header ("Produced
by …", "This etext was prepared by …") go too. A file without markers is kept whole.

A book is one document (`ingest.books_chunk_words: 0`), or documents of about N words cut at
paragraph boundaries, ids `<book id>#<chunk>` with the book id in `meta`, so dedup can tell the
chunks of one book from copies of another.
"""
from __future__ import annotations

import re
from typing import Iterator

from pipeline.readers.corpus import BadRecordLog, FileTask, document, dropped, list_tasks, read_text_file
from pipeline.readers.read_plan import ReadPlan, row_plan

STEP = "books"
START_MARKERS = re.compile(
    r"^[ \t]*(\*{3}\s*START OF (THIS|THE) PROJECT GUTENBERG"
    r"|\*{3}\s*START OF THE COPYRIGHTED PROJECT GUTENBERG"
    r"|\*END\*?\s*THE SMALL PRINT)", re.I | re.M)
END_MARKERS = re.compile(
    r"^[ \t]*(\*{3}\s*END OF (THIS|THE) PROJECT GUTENBERG"
    r"|End of (the |this )?Project Gutenberg"
    r"|\*{3}\s*START: FULL LICENSE"
    r"|\*{3}START\*{2}THE SMALL PRINT)", re.I | re.M)
CREDIT_LINE = re.compile(
    r"^\s*(Produced by|This e-?text was prepared by|E-?text prepared by|Transcribed (from|by)"
    r"|\(Additional editing by|Prepared by)", re.I)
HEADER_FIELD = re.compile(r"^(Title|Author):\s*(.+)$", re.M)
EBOOK_NUMBER = re.compile(r"\[E-?Book #(\d+)\]", re.I)
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def strip_gutenberg(text: str) -> tuple[str, dict[str, str]]:
    """(body, header facts) of a book; the text unchanged when it has no Gutenberg markers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    facts: dict[str, str] = {}
    start = 0
    head = text[: max(len(text) // 3, 20000)]
    starts = list(START_MARKERS.finditer(head))
    if starts:
        header = text[: starts[-1].start()]
        facts.update((m.group(1).lower(), m.group(2).strip()) for m in HEADER_FIELD.finditer(header))
        if number := EBOOK_NUMBER.search(header):
            facts["gutenberg_id"] = number.group(1)
        line_end = text.find("\n", starts[-1].end())
        start = line_end + 1 if line_end >= 0 else len(text)
    end_match = END_MARKERS.search(text, start)
    end = end_match.start() if end_match else len(text)
    if starts or end_match:
        facts["gutenberg"] = "stripped"
    return _drop_credits(text[start:end]).strip(), facts


def _drop_credits(body: str) -> str:
    """Drop the credit paragraphs among the first few of the body."""
    paragraphs = PARAGRAPH_BREAK.split(body.lstrip("\n"), maxsplit=4)
    kept_from = 0
    for i, paragraph in enumerate(paragraphs[:4]):
        if CREDIT_LINE.match(paragraph):
            kept_from = i + 1
    return "\n\n".join(paragraphs[kept_from:])


def chunk_words(text: str, words: int) -> list[str]:
    """Consecutive paragraphs joined until each chunk has at least `words` words (the last may be
    shorter; a single paragraph longer than that is one chunk). 0: the whole text."""
    if words <= 0:
        return [text]
    chunks, current, count = [], [], 0
    for paragraph in PARAGRAPH_BREAK.split(text):
        if not paragraph.strip():
            continue
        current.append(paragraph.strip("\n"))
        count += len(paragraph.split())
        if count >= words:
            chunks.append("\n\n".join(current))
            current, count = [], 0
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def book_id(rel: str) -> str:
    """The file's stable name without its text suffixes."""
    return re.sub(r"(\.txt)?(\.(gz|bz2|xz|zst))?$", "", rel, flags=re.I)


def book_rows(task: FileTask, source: str, section: dict) -> Iterator[dict]:
    text, failure = read_text_file(task, source, section)
    if failure is not None:
        yield failure
        return
    body, facts = strip_gutenberg(text)
    bid = book_id(task.rel)
    chunk_size = section["books_chunk_words"]
    chunks = chunk_words(body, chunk_size)
    bad = BadRecordLog(task.rel)
    for index, chunk in enumerate(chunks):
        doc_id = f"{bid}#{index}" if chunk_size > 0 else bid
        meta = {"book_id": bid, "file": task.rel, **facts}
        if chunk_size > 0:
            meta.update(chunk=str(index), chunks=str(len(chunks)))
        if len(chunk) < section["books_min_chars"]:
            bad("too_short", f"chunk {index}", f"{len(chunk)} chars")
            yield dropped(doc_id, f"{STEP}:too_short", source, meta)
        else:
            yield document(doc_id, chunk, source, meta=meta)
    bad.close()


def plan_books(specs: list[str], source: str, config: dict) -> ReadPlan:
    """Folders (or files, globs) of plain-text books -> a ReadPlan of staged document rows, one task per book."""
    section = config["ingest"]
    tasks = list_tasks(specs, section["split_bytes"], kinds=("txt",))
    return row_plan(tasks, lambda t: book_rows(t, source, section), section["batch_rows"])
