"""Readers for the formats evaluation sets ship in, named by a task file's `data.reader`.

Each yields (line, record): the 1-based line where the record starts (for error messages and default
item ids) and a dict of its fields. Format quirks live here, prompts live in the YAML:
  jsonl            one JSON object a line; `labels_file` joins a one-label-a-line file (PIQA's .lst)
  tsv              a header row, then tab-separated rows (StoryCloze, OpenBookQA); `lettered_choices`
                   splits a "(A) ... (B) ..." column into the list field `choices`
  hellaswag_text   6-line text records (context, label, four endings), plain or .bz2
  superglue_wsc    SuperGLUE WSC JSONL; adds `marked_text`, the pronoun (span2, a word index) in *stars*
  wikitext_articles  WikiText *.tokens: one record per article, detokenised (pipeline/curated/wikitext2)
"""
from __future__ import annotations

import bz2
import csv
import gzip
import json
import re
from pathlib import Path
from typing import Callable, Iterator

from pipeline.core.config import InputError
from pipeline.curated.wikitext2 import article_text, split_articles

Records = Iterator[tuple[int, dict]]
LETTERED = re.compile(r"\(([A-Z])\)\s*")


class EvalTaskError(InputError):
    """A missing or malformed task file or data file; one line naming the file, line and field."""


def open_text(path: Path):
    """A text handle on a plain, .gz or .bz2 file."""
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    try:
        return opener(path, "rt", encoding="utf-8", newline="")
    except FileNotFoundError:
        raise EvalTaskError(f"evaluation data not found: {path}") from None


def read_jsonl(path: Path, labels_file: Path | None = None, label_field: str = "label") -> Records:
    labels = _lines(labels_file) if labels_file is not None else None
    count = 0
    with open_text(path) as fh:
        for line, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                raise EvalTaskError(f"{path}: line {line}: not a JSON object") from None
            if not isinstance(record, dict):
                raise EvalTaskError(f"{path}: line {line}: not a JSON object")
            if labels is not None:
                if count >= len(labels):
                    raise EvalTaskError(f"{labels_file}: line {count + 1}: field {label_field!r} missing "
                                        f"(fewer labels than records in {path})")
                record[label_field] = labels[count]
            count += 1
            yield line, record


def _lines(path: Path) -> list[str]:
    with open_text(path) as fh:
        return [line.strip() for line in fh if line.strip()]


def read_tsv(path: Path, lettered_choices: str | None = None) -> Records:
    with open_text(path) as fh:
        # QUOTE_NONE: sentences carry their own quotation marks, which csv would otherwise eat
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for line, row in enumerate(rows, 2):
            if None in row or any(v is None for v in row.values()):
                raise EvalTaskError(f"{path}: line {line}: {len(rows.fieldnames)} tab-separated fields expected")
            if lettered_choices is not None:
                if lettered_choices not in row:
                    raise EvalTaskError(f"{path}: line {line}: field {lettered_choices!r} missing")
                parts = LETTERED.split(row[lettered_choices])[1:]
                row["choices"] = [text.strip() for text in parts[1::2]]
                row["choice_letters"] = parts[0::2]
            yield line, row


def read_hellaswag_text(path: Path) -> Records:
    """Records of six lines: "activity label: context", the gold index, four endings."""
    with open_text(path) as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % 6:
        raise EvalTaskError(f"{path}: line {len(lines) - len(lines) % 6 + 1}: incomplete 6-line record")
    for start in range(0, len(lines), 6):
        ctx, label, *endings = lines[start:start + 6]
        yield start + 1, {"ctx": ctx, "label": label.strip(), "endings": endings}


def read_superglue_wsc(path: Path, span_template: str = "*{span}*") -> Records:
    for line, record in read_jsonl(path):
        target, text = record.get("target"), record.get("text")
        if not isinstance(target, dict) or "span2_index" not in target or "span2_text" not in target:
            raise EvalTaskError(f"{path}: line {line}: field 'target' missing span2_index/span2_text")
        if not isinstance(text, str):
            raise EvalTaskError(f"{path}: line {line}: field 'text' missing")
        words = text.split(" ")
        start, width = int(target["span2_index"]), len(str(target["span2_text"]).split())
        span = " ".join(words[start:start + width])
        record["marked_text"] = " ".join(words[:start] + [span_template.format(span=span)] + words[start + width:])
        yield line, record


def read_wikitext_articles(path: Path) -> Records:
    with open_text(path) as fh:
        text = fh.read()
    for line, title, body in split_articles(text):
        yield line + 1, {"title": title, "text": article_text(title, body)}


READERS: dict[str, Callable[..., Records]] = {
    "jsonl": read_jsonl, "tsv": read_tsv, "hellaswag_text": read_hellaswag_text,
    "superglue_wsc": read_superglue_wsc, "wikitext_articles": read_wikitext_articles,
}
PATH_OPTIONS = ("labels_file",)      # reader options that are data files (resolved like `file`)
