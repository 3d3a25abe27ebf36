"""WikiText-2/-103 (`*.tokens` files): articles split at their ` = Title = ` headings, detokenised.

WikiText is word-tokenised: numbers split as `2 @,@ 000`, `0 @.@ 7`, hyphens as ` @-@ `, every
punctuation mark and quote spaced out, `'s` and `n't` detached, and rare words replaced by `<unk>`.
Left as is, a classifier trained on it as positives learns those artefacts, so each article is
detokenised (after Megatron-LM's `wikitext_detokenizer`) and `<unk>` is dropped. Sub-headings
(` = = History = = `) become plain lines. Ids are `<file>@<line of the title>`.
"""
from __future__ import annotations

import re
from typing import Iterator

from pipeline.readers.corpus import BadRecordLog, FileTask, document, dropped, list_tasks, read_text_file
from pipeline.readers.read_plan import ReadPlan, row_plan

STEP = "wikitext2"
TITLE = re.compile(r"^ = ([^=].*?) = $")
SUBHEADING = re.compile(r"^ (?:= )+(.*?)(?: =)+ $")
# A compound or number with an unknown part (`<unk> @,@ 000`, `<unk> @-@ square`) goes whole.
UNK = re.compile(r" ?(?:\S+ @[-.,]@ )*<unk>(?: @[-.,]@ \S+)*")
JOINER = re.compile(r" ?@([-.,])@ ?")
SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}]|'s\b|'re\b|'ve\b|'m\b|'ll\b|'d\b|n't\b|')")
SPACE_AFTER = re.compile(r"([(\[{$£#]) ")
EMPTY_PAIRS = re.compile(r"\( (?:[,;:] )*\)|\[ \]|\" \"")
QUOTED = re.compile(r'" ([^"]*?) "')
SPACES = re.compile(r" {2,}")
NUMBER_RANGE = re.compile(r"(\d) – (\d)")


def detokenize(line: str) -> str:
    """One WikiText line (a paragraph) -> ordinary text."""
    text = UNK.sub("", line)
    text = JOINER.sub(r"\1", text)
    text = SPACES.sub(" ", EMPTY_PAIRS.sub("", text))    # pairs that enclosed only <unk>
    text = QUOTED.sub(r'"\1"', text)
    text = SPACE_BEFORE.sub(r"\1", text)
    text = SPACE_AFTER.sub(r"\1", text)
    text = NUMBER_RANGE.sub(r"\1–\2", text)
    text = SPACE_BEFORE.sub(r"\1", SPACES.sub(" ", text))
    return text.strip()


def split_articles(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number of the title, title, body lines) of each article."""
    title, start, body = None, 0, []
    for number, line in enumerate(text.split("\n")):
        match = TITLE.match(line)
        if match:
            if title is not None:
                yield start, title, body
            title, start, body = match.group(1), number, []
        elif title is not None:
            body.append(line)
    if title is not None:
        yield start, title, body


def article_text(title: str, lines: list[str]) -> str:
    paragraphs = [detokenize(title)]
    for line in lines:
        if not line.strip():
            continue
        heading = SUBHEADING.match(line)
        paragraphs.append(detokenize(heading.group(1)) if heading else detokenize(line))
    return "\n\n".join(p for p in paragraphs if p)


def article_rows(task: FileTask, source: str, section: dict) -> Iterator[dict]:
    text, failure = read_text_file(task, source, section)
    if failure is not None:
        yield failure
        return
    bad = BadRecordLog(task.rel)
    for line, title, body in split_articles(text):
        doc_id = f"{task.rel}@{line}"
        clean_title = detokenize(title)
        meta = {"title": clean_title, "file": task.rel, "line": str(line)}
        article = article_text(title, body)
        if len(article) < section["wikitext2_min_chars"]:
            bad("too_short", f"line {line}")
            yield dropped(doc_id, f"{STEP}:too_short", source, meta)
        else:
            yield document(doc_id, article, source, meta=meta)
    bad.close()


def plan_wikitext2(specs: list[str], source: str, config: dict) -> ReadPlan:
    section = config["ingest"]
    tasks = list_tasks(specs, section["split_bytes"], kinds=("txt",))
    return row_plan(tasks, lambda t: article_rows(t, source, section), section["batch_rows"])
