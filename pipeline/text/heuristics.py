"""What the heuristics steps count: word lists, duplicate lines and paragraphs, word n-grams.

The rules themselves are document steps, one per family (pipeline/steps/c4_lines.py,
gopher_quality.py, gopher_repetition.py), switched by the `heuristics` config section. Written by
hand because they are a few dozen lines of counting that must run in the Spark Python worker
without extra dependencies; the rules and thresholds follow Gopher (Rae et al. 2021, Appendix
A.1.1 and Table A1) and C4 (Raffel et al. 2020, Section 2.2), as datatrove implements them.
"""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate

import numpy as np

# Gopher's stop words ("the, be, to, of, and, that, have, with").
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
BULLETS = ("•", "‣", "⁃", "◦", "-", "*", "·", "–", "—", "►", "▪")
ELLIPSES = ("...", "…")
# C4: a kept line ends in a terminal punctuation mark (period, !, ?, or a closing quotation mark).
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "'", "”", "’", "»", "。", "！", "？")
# C4 / datatrove policy boilerplate (lines containing any of these are removed).
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                     "use of cookies", "use cookies")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”‘’–—…·•")
PUNCTUATION_CHARS = "".join(sorted(_PUNCTUATION))
HAS_LETTER = re.compile(r"[^\W\d_]")
_HASH_MULTIPLIER = np.uint64(0x100000001B3)
PARAGRAPHS = re.compile(r"\n{2,}")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def fraction(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def duplicates(items: list[str]) -> tuple[int, int]:
    """Items that repeat an earlier item: (how many, their characters)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def prefix_sums(values: list[int]) -> list[int]:
    return list(accumulate(values, initial=0))


def word_ids(words: list[str]) -> np.ndarray:
    """One 64-bit id per word (equal words, equal ids) for vectorised n-gram counting."""
    return np.fromiter((hash(w) for w in words), dtype=np.int64, count=len(words)).view(np.uint64)


def ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """A 64-bit polynomial hash of every word n-gram (uint64 arithmetic wraps; a collision between
    two different n-grams of one document has probability ~2^-64)."""
    count = len(ids) - n + 1
    hashes = np.zeros(max(count, 0), dtype=np.uint64)
    for k in range(n):
        hashes = hashes * _HASH_MULTIPLIER + ids[k:k + count]
    return hashes


def top_ngram_chars(words: list[str], n: int, ids: np.ndarray | None = None) -> int:
    """Characters covered by the most frequent word n-gram (its length times its count)."""
    if len(words) < n:
        return 0
    hashes = ngram_hashes(word_ids(words) if ids is None else ids, n)
    _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] < 2:
        return 0
    start = int(first[top])
    return int(counts[top]) * sum(len(w) for w in words[start:start + n])


def duplicate_ngram_chars(words: list[str], n: int, prefix: list[int], ids: np.ndarray | None = None) -> int:
    """Characters of word n-grams that repeat an earlier n-gram, each word counted once
    (Gopher's duplicated n-gram fraction, as datatrove's `find_all_duplicate` counts it: scan left
    to right; a repeat counts its n words and the scan jumps past them). `prefix` holds the prefix
    sums of the word lengths."""
    if len(words) < n:
        return 0
    hashes = ngram_hashes(word_ids(words) if ids is None else ids, n)
    if len(np.unique(hashes)) == len(hashes):
        return 0          # no n-gram repeats: the common case, settled without a Python loop
    grams = hashes.tolist()
    seen: set[int] = set()
    chars = i = 0
    last = len(grams)
    while i < last:
        gram = grams[i]
        if gram in seen:
            chars += prefix[i + n] - prefix[i]
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def load_word_list(path: str) -> frozenset[str]:
    """A bad-words list (one word or phrase a line, lower-cased); a bare file name is looked up
    with SparkFiles (shipped with `--files`)."""
    import os

    if not os.path.isfile(path) and os.sep not in path:
        from pyspark import SparkFiles

        path = SparkFiles.get(path)
    with open(path, encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=8)
def bad_words(path: str) -> frozenset[str]:
    """A bad-words list, read once per Python worker."""
    return load_word_list(path)


def bad_word_fraction(text: str, n_words: int, words: frozenset[str]) -> float:
    """Listed words (and multi-word phrases) per word of the text."""
    tokens = _WORD.findall(text.lower())
    hits = sum(1 for t in tokens if t in words)
    padded = " " + " ".join(tokens) + " "
    hits += sum(padded.count(f" {p} ") for p in words if " " in p)
    return fraction(hits, max(n_words, 1))
