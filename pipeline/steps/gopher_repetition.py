"""gopher_repetition: Gopher's repetition rules (Rae et al. 2021, Appendix A.1.1, Table A1).

Drops `heuristics:<rule>`: duplicate_paragraphs / duplicate_paragraph_chars, duplicate_lines /
duplicate_line_chars (fraction of repeated items, and of characters in them), top_<n>gram (the
most frequent word n-gram covers too many characters; `heuristics.top_ngram_char_fractions`) and
duplicate_<n>gram (characters in repeated n-grams; `duplicate_ngram_char_fractions`). A null
threshold is off; the whole step is off with `heuristics.enabled: false`.
"""
from __future__ import annotations

from pipeline.steps.base import SectionStep, register
from pipeline.text.heuristics import (PARAGRAPHS, duplicate_ngram_chars, duplicates, fraction, prefix_sums,
                                      top_ngram_chars, word_ids)

ITEM_RULES = (("duplicate_paragraph", "max_duplicate_paragraph_fraction", "max_duplicate_paragraph_char_fraction"),
              ("duplicate_line", "max_duplicate_line_fraction", "max_duplicate_line_char_fraction"))


@register
class GopherRepetition(SectionStep):
    name = "gopher_repetition"
    reason_prefix = "heuristics"
    section = "heuristics"

    def __init__(self, section: dict):
        super().__init__(section)
        self.top = sorted((int(n), v) for n, v in (section.get("top_ngram_char_fractions") or {}).items() if v is not None)
        self.dup = sorted((int(n), v) for n, v in (section.get("duplicate_ngram_char_fractions") or {}).items()
                          if v is not None)

    def reasons(self):
        return ("duplicate_paragraphs", "duplicate_paragraph_chars", "duplicate_lines", "duplicate_line_chars",
                *(f"top_{n}gram" for n, _ in self.top), *(f"duplicate_{n}gram" for n, _ in self.dup))

    def judge(self, text: str) -> str | None:
        total = len(text)
        for (rule, count_key, chars_key), items in zip(ITEM_RULES, (PARAGRAPHS.split(text), text.split("\n"))):
            items = [item.strip() for item in items if item.strip()]
            dup, dup_chars = duplicates(items)
            if self.s.get(count_key) is not None and fraction(dup, len(items)) > self.s[count_key]:
                return f"{rule}s"
            if self.s.get(chars_key) is not None and fraction(dup_chars, total) > self.s[chars_key]:
                return f"{rule}_chars"
        if not (self.top or self.dup):
            return None
        words = text.split()
        ids = word_ids(words)
        for n, limit in self.top:
            if fraction(top_ngram_chars(words, n, ids), total) > limit:
                return f"top_{n}gram"
        if self.dup:
            prefix = prefix_sums([len(w) for w in words])
            for n, limit in self.dup:
                if fraction(duplicate_ngram_chars(words, n, prefix, ids), total) > limit:
                    return f"duplicate_{n}gram"
        return None

    def filter(self, docs: list[dict]) -> list[str | None]:
        return [self.judge(doc["text"]) for doc in docs]
