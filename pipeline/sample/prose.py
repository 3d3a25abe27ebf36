"""Well-written English prose that exists on every machine with Python: the docstrings of the
standard library (read as source text, never imported, so nothing runs) and the language
reference topics behind `pydoc` (`pydoc_data.topics`).

Only paragraphs that read as prose are kept: no code, no doctest, no markup-heavy lines, at least
15 words, ending in terminal punctuation. The same Python version gives the same paragraphs in the
same order, so the sample data set is byte-identical for a seed on a given interpreter.
"""
from __future__ import annotations

import inspect
import re
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SKIPPED_DIRS = frozenset({"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3",
                          "turtledemo", "tkinter", "__pycache__", "ensurepip", "config-3"})
_TRIPLE_QUOTED = re.compile(r'"""(.*?)"""', re.S)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_MARKUP = re.compile(r"[={}\[\]<>*|\\`]|__|::|\.\.\s|https?:")
MIN_WORDS = 15
MAX_SEEN_SHINGLES = 0.2     # a paragraph whose word 5-grams mostly appeared before is a near-repeat


@dataclass(frozen=True)
class Paragraph:
    topic: str      # where it came from: a module path or a pydoc topic name
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def is_prose(block: str) -> bool:
    """A docstring paragraph that reads as English prose."""
    if any(line.startswith((" ", "\t", ">>>", "-", "+", "#")) for line in block.splitlines()[1:]):
        return False   # indented code, doctests, lists, tables
    text = " ".join(block.split())
    if len(text.split()) < MIN_WORDS or text[-1] not in ".!?" or _MARKUP.search(text):
        return False
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return letters / len(text) > 0.93 and text[0].isupper()


def _stdlib_files() -> list[tuple[str, Path]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if not SKIPPED_DIRS.intersection(rel.parts) and not rel.parts[0].startswith("config-"):
            files.append((rel.as_posix(), path))
    return files


def _topic_name(rel: str) -> str:
    stem = rel[:-3].replace("/__init__", "")
    return stem.replace("/", ".").strip("_.") or stem


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}


def _drop_near_repeats(paras: list[Paragraph]) -> tuple[Paragraph, ...]:
    """Docstrings repeat themselves across overloads and subclasses ("There are two arguments: the
    first is a 4-byte ..."); such repeats would make sample articles fail the repetition rules and
    turn up as accidental near-duplicates, so only the first of them stays."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for para in paras:
        shingles = _shingles(para.text)
        if len(shingles & seen) <= MAX_SEEN_SHINGLES * len(shingles):
            kept.append(para)
        seen |= shingles
    return tuple(kept)


@lru_cache(maxsize=1)
def paragraphs() -> tuple[Paragraph, ...]:
    """Every prose paragraph, in a fixed order, near-repeats removed."""
    found: dict[str, Paragraph] = {}
    for rel, path in _stdlib_files():
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        topic = _topic_name(rel)
        for match in _TRIPLE_QUOTED.finditer(source):
            for block in _PARAGRAPH_BREAK.split(inspect.cleandoc(match.group(1))):
                if is_prose(block):
                    text = " ".join(block.split())
                    found.setdefault(text, Paragraph(topic, text))
    try:
        from pydoc_data.topics import topics
    except ImportError:   # some distributions strip pydoc_data; the docstrings suffice
        topics = {}
    for name in sorted(topics):
        for block in _PARAGRAPH_BREAK.split(topics[name]):
            if not block.startswith((" ", "\t")) and is_prose(block):
                text = " ".join(block.split())
                found.setdefault(text, Paragraph(name.replace("-", " "), text))
    return _drop_near_repeats(list(found.values()))
