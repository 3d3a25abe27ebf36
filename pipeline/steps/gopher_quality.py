"""gopher_quality: Gopher's quality rules (Rae et al. 2021, Appendix A.1.1, Table A1).

Drops `heuristics:<rule>`: min_words / max_words (words that are not only punctuation),
mean_word_length, symbol_word_ratio (# and ellipses per word), bullet_lines, ellipsis_lines,
alpha_words (words with a letter), stop_words (Gopher's English stop words; English and
unidentified documents only) and bad_words (`heuristics.bad_words_file`). A rule whose key in the
`heuristics` section is null is off; the whole step is off with `heuristics.enabled: false`.
"""
from __future__ import annotations

from pipeline.steps.base import SectionStep, register
from pipeline.text.heuristics import (BULLETS, ELLIPSES, HAS_LETTER, PUNCTUATION_CHARS, STOP_WORDS, bad_word_fraction,
                                      bad_words, fraction)


@register
class GopherQuality(SectionStep):
    name = "gopher_quality"
    reason_prefix = "heuristics"
    section = "heuristics"

    def reasons(self):
        return ("min_words", "max_words", "mean_word_length", "symbol_word_ratio", "bullet_lines",
                "ellipsis_lines", "alpha_words", "stop_words", "bad_words")

    def judge(self, text: str, lang: str | None) -> str | None:
        s = self.s
        words = text.split()
        real = [w for w in words if w.strip(PUNCTUATION_CHARS)]   # punctuation alone is no word
        n = len(real)
        if s.get("min_words") is not None and n < s["min_words"]:
            return "min_words"
        if s.get("max_words") is not None and n > s["max_words"]:
            return "max_words"
        mean = fraction(sum(len(w) for w in real), n)
        if s.get("min_mean_word_length") is not None and mean < s["min_mean_word_length"]:
            return "mean_word_length"
        if s.get("max_mean_word_length") is not None and mean > s["max_mean_word_length"]:
            return "mean_word_length"
        if s.get("max_symbol_word_ratio") is not None:
            symbols = text.count("#") + text.count("...") + text.count("…")
            if fraction(symbols, n) > s["max_symbol_word_ratio"]:
                return "symbol_word_ratio"
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if s.get("max_bullet_line_fraction") is not None:
            if fraction(sum(1 for line in lines if line.startswith(BULLETS)), len(lines)) > s["max_bullet_line_fraction"]:
                return "bullet_lines"
        if s.get("max_ellipsis_line_fraction") is not None:
            if fraction(sum(1 for line in lines if line.endswith(ELLIPSES)), len(lines)) > s["max_ellipsis_line_fraction"]:
                return "ellipsis_lines"
        if s.get("min_alpha_word_fraction") is not None:
            if fraction(sum(1 for w in words if HAS_LETTER.search(w)), len(words)) < s["min_alpha_word_fraction"]:
                return "alpha_words"
        if s.get("min_stop_words") is not None and lang in (None, "en"):
            stops = sum(1 for w in text.lower().split() if w.strip(PUNCTUATION_CHARS) in STOP_WORDS)
            if stops < s["min_stop_words"]:
                return "stop_words"
        listed = s.get("bad_words_file")
        if listed and s.get("max_bad_word_fraction") is not None:
            if bad_word_fraction(text, n, bad_words(listed)) > s["max_bad_word_fraction"]:
                return "bad_words"
        return None

    def filter(self, docs: list[dict]) -> list[str | None]:
        return [self.judge(doc["text"], doc.get("lang")) for doc in docs]
