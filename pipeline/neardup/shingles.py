"""Words and word n-grams of normalised text: what near-duplicate detection and decontamination compare.

Normalisation is that of `pipeline.core.hashing.normalize_text` (NFKC, lower case, one space) with
punctuation deleted as datatrove's `simplify_text` does ("don't" -> "dont"), so two captures that
differ only in quotes, dashes or spacing have the same shingles.

Short documents: a text with at least one word but fewer words than the shingle size is ONE shingle
made of all its words (so "Click here to continue" still matches its copies); a text with no word at
all has no shingle and takes part in exact deduplication only.
"""
from __future__ import annotations

import re
import unicodedata


# Every character whose Unicode category is punctuation (P*) or symbol (S*).
_PUNCT_CHARS = "".join(
    chr(c) for c in range(0x110000)
    if unicodedata.category(chr(c))[0] in "PS" and not 0xD800 <= c <= 0xDFFF)
_PUNCT_TABLE = str.maketrans("", "", _PUNCT_CHARS)


def strip_punctuation(text: str) -> str:
    return text.translate(_PUNCT_TABLE)


def normalized_words(text: str | None) -> list[str]:
    """Lower-cased words without punctuation (empty for None or a text of punctuation only)."""
    if not text:
        return []
    # = strip_punctuation(normalize_text(text)).split(): split() already folds white space.
    return strip_punctuation(unicodedata.normalize("NFKC", text).lower()).split()


def word_ngrams(words: list[str], n: int) -> list[str]:
    """The distinct-or-not word n-grams, space-joined; one shingle of all words when 0 < len < n."""
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def shingles(text: str | None, n: int) -> list[str]:
    return word_ngrams(normalized_words(text), n)


def word_spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Normalised words of `text` with the character span of each in the ORIGINAL text
    (decontamination cuts the original around a colliding n-gram)."""
    words, spans = [], []
    for match in re.finditer(r"\S+", text):
        for part in strip_punctuation(unicodedata.normalize("NFKC", match.group()).lower()).split():
            words.append(part)
            spans.append(match.span())
    return words, spans
