"""Heuristic document filters: C4's line rules, then Gopher's quality and repetition rules.

Each rule is switched by its key in the `heuristics` config section (null disables it) and drops a
document under its own reason, `heuristics:<rule>`. Written by hand because they are a few dozen
lines of counting that must run in the Spark Python worker without extra dependencies; the rules
and thresholds follow Gopher (Rae et al. 2021, Appendix A.1.1 and Table A1) and C4 (Raffel et al.
2020, Section 2.2), as datatrove implements them.

Order: C4 first removes lines (no terminal punctuation, "javascript", policy boilerplate, too few
words), so the Gopher rules judge the text that would be kept. `apply(text, lang)` returns the
cleaned text, or the first rule that drops it. The stop-word rule (Gopher's English stop words) is
only applied to English documents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Iterable

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
_PUNCTUATION_CHARS = "".join(sorted(_PUNCTUATION))
_HAS_LETTER = re.compile(r"[^\W\d_]")
_HASH_MULTIPLIER = np.uint64(0x100000001B3)
_PARAGRAPHS = re.compile(r"\n{2,}")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _fraction(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _duplicates(items: list[str]) -> tuple[int, int]:
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


def _prefix_sums(values: list[int]) -> list[int]:
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


@dataclass(frozen=True)
class HeuristicRules:
    """The `heuristics` config section, compiled. A None threshold disables its rule."""
    section: dict
    bad_words: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, section: dict) -> "HeuristicRules":
        path = section.get("bad_words_file")
        return cls(section=dict(section), bad_words=load_word_list(path) if path else frozenset())

    def _get(self, key: str):
        return self.section.get(key)

    # --- C4 ---------------------------------------------------------------------------------------
    def c4_lines(self, text: str) -> tuple[str | None, str | None]:
        """The text with C4's unwanted lines removed, or (None, reason) for a dropped document."""
        s = self.section
        lowered = text.lower()
        if s.get("c4_drop_lorem_ipsum") and "lorem ipsum" in lowered:
            return None, "lorem_ipsum"
        min_words = s.get("c4_min_words_per_line")
        kept: list[str] = []
        count = 0
        for line in text.split("\n"):
            line = line.strip()
            if not line:  # blank lines stay (one each), so paragraphs stay paragraphs
                if kept and kept[-1]:
                    kept.append("")
                continue
            low = line.lower()
            if s.get("c4_terminal_punctuation") and not line.endswith(TERMINAL_PUNCTUATION):
                continue
            if min_words and len(line.split()) < min_words:
                continue
            if s.get("c4_drop_javascript_lines") and "javascript" in low:
                continue
            if s.get("c4_drop_policy_lines") and any(p in low for p in POLICY_SUBSTRINGS):
                continue
            kept.append(line)
            count += 1
        min_lines = s.get("c4_min_lines_after")
        if min_lines and count < min_lines:
            return None, "c4_too_few_lines"
        return "\n".join(kept).strip(), None

    def bad_word_fraction(self, text: str, n_words: int) -> float:
        lowered = text.lower()
        tokens = _WORD.findall(lowered)
        hits = sum(1 for t in tokens if t in self.bad_words)
        padded = " " + " ".join(tokens) + " "
        hits += sum(padded.count(f" {p} ") for p in self.bad_words if " " in p)
        return _fraction(hits, max(n_words, 1))

    # --- Gopher quality -----------------------------------------------------------------------------
    def gopher_quality(self, text: str, words: list[str], lang: str | None) -> str | None:
        s = self.section
        # Words made only of punctuation do not count as words (Gopher / datatrove).
        real = [w for w in words if w.strip(_PUNCTUATION_CHARS)]
        n = len(real)
        if s.get("min_words") is not None and n < s["min_words"]:
            return "min_words"
        if s.get("max_words") is not None and n > s["max_words"]:
            return "max_words"
        mean = _fraction(sum(len(w) for w in real), n)
        if s.get("min_mean_word_length") is not None and mean < s["min_mean_word_length"]:
            return "mean_word_length"
        if s.get("max_mean_word_length") is not None and mean > s["max_mean_word_length"]:
            return "mean_word_length"
        if s.get("max_symbol_word_ratio") is not None:
            symbols = text.count("#") + text.count("...") + text.count("…")
            if _fraction(symbols, n) > s["max_symbol_word_ratio"]:
                return "symbol_word_ratio"
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if s.get("max_bullet_line_fraction") is not None:
            bullets = sum(1 for line in lines if line.startswith(BULLETS))
            if _fraction(bullets, len(lines)) > s["max_bullet_line_fraction"]:
                return "bullet_lines"
        if s.get("max_ellipsis_line_fraction") is not None:
            ellipsis = sum(1 for line in lines if line.endswith(ELLIPSES))
            if _fraction(ellipsis, len(lines)) > s["max_ellipsis_line_fraction"]:
                return "ellipsis_lines"
        if s.get("min_alpha_word_fraction") is not None:
            alpha = sum(1 for w in words if _HAS_LETTER.search(w))
            if _fraction(alpha, len(words)) < s["min_alpha_word_fraction"]:
                return "alpha_words"
        if s.get("min_stop_words") is not None and lang in (None, "en"):
            stops = sum(1 for w in text.lower().split() if w.strip(_PUNCTUATION_CHARS) in STOP_WORDS)
            if stops < s["min_stop_words"]:
                return "stop_words"
        if self.bad_words and s.get("max_bad_word_fraction") is not None:
            if self.bad_word_fraction(text, n) > s["max_bad_word_fraction"]:
                return "bad_words"
        return None

    # --- Gopher repetition --------------------------------------------------------------------------
    def gopher_repetition(self, text: str, words: list[str]) -> str | None:
        s = self.section
        total = len(text)
        paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
        dup, dup_chars = _duplicates(paragraphs)
        if s.get("max_duplicate_paragraph_fraction") is not None and \
                _fraction(dup, len(paragraphs)) > s["max_duplicate_paragraph_fraction"]:
            return "duplicate_paragraphs"
        if s.get("max_duplicate_paragraph_char_fraction") is not None and \
                _fraction(dup_chars, total) > s["max_duplicate_paragraph_char_fraction"]:
            return "duplicate_paragraph_chars"
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        dup, dup_chars = _duplicates(lines)
        if s.get("max_duplicate_line_fraction") is not None and \
                _fraction(dup, len(lines)) > s["max_duplicate_line_fraction"]:
            return "duplicate_lines"
        if s.get("max_duplicate_line_char_fraction") is not None and \
                _fraction(dup_chars, total) > s["max_duplicate_line_char_fraction"]:
            return "duplicate_line_chars"
        top_limits = sorted((s.get("top_ngram_char_fractions") or {}).items())
        dup_limits = sorted((s.get("duplicate_ngram_char_fractions") or {}).items())
        if not (top_limits or dup_limits):
            return None
        ids = word_ids(words)
        for n, limit in top_limits:
            if limit is not None and _fraction(top_ngram_chars(words, int(n), ids), total) > limit:
                return f"top_{n}gram"
        if dup_limits:
            prefix = _prefix_sums([len(w) for w in words])
            for n, limit in dup_limits:
                if limit is not None and _fraction(duplicate_ngram_chars(words, int(n), prefix, ids), total) > limit:
                    return f"duplicate_{n}gram"
        return None

    # --- all of them ----------------------------------------------------------------------------------
    def apply(self, text: str, lang: str | None = None) -> tuple[str | None, str | None]:
        """(kept text, None) or (None, "heuristics:<rule>")."""
        if not self.section.get("enabled", True):
            return text, None
        text, reason = self.c4_lines(text)
        if reason:
            return None, f"heuristics:{reason}"
        words = text.split()
        reason = self.gopher_quality(text, words, lang) or self.gopher_repetition(text, words)
        if reason:
            return None, f"heuristics:{reason}"
        return text, None

    def apply_all(self, texts: Iterable[str], langs: Iterable[str | None]) -> list[tuple[str | None, str | None]]:
        return [self.apply(t, lang) for t, lang in zip(texts, langs)]


_cache: dict[str, HeuristicRules] = {}


def rules_for(section: dict) -> HeuristicRules:
    """Compiled rules, once per Python worker per configuration (the bad-words file is read once)."""
    from pipeline.core.config import config_hash

    key = config_hash(section)
    rules = _cache.get(key)
    if rules is None:
        rules = _cache[key] = HeuristicRules.from_config(section)
    return rules
