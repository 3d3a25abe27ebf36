"""c4_lines: C4's line rules (Raffel et al. 2020, Section 2.2), first of the heuristics.

Removes the lines that do not end in terminal punctuation, have fewer than
`heuristics.c4_min_words_per_line` words, mention javascript or are policy boilerplate, so the
Gopher steps judge the text that would be kept; blank lines stay, one each, so paragraphs stay
paragraphs. Drops `heuristics:lorem_ipsum` and `heuristics:c4_too_few_lines` (fewer than
`c4_min_lines_after` lines left). Off with `heuristics.enabled: false`.
"""
from __future__ import annotations

from pipeline.steps.base import SectionStep, register
from pipeline.text.heuristics import POLICY_SUBSTRINGS, TERMINAL_PUNCTUATION


@register
class C4Lines(SectionStep):
    name = "c4_lines"
    reason_prefix = "heuristics"
    section = "heuristics"

    def reasons(self):
        return ("lorem_ipsum", "c4_too_few_lines")

    def clean(self, text: str) -> tuple[str | None, str | None]:
        """(text with C4's unwanted lines removed, None) or (None, reason)."""
        s = self.s
        if s.get("c4_drop_lorem_ipsum") and "lorem ipsum" in text.lower():
            return None, "lorem_ipsum"
        min_words = s.get("c4_min_words_per_line")
        kept: list[str] = []
        count = 0
        for line in text.split("\n"):
            line = line.strip()
            if not line:
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

    def filter(self, docs: list[dict]) -> list[str | None]:
        reasons = []
        for doc in docs:
            text, reason = self.clean(doc["text"])
            if reason is None:
                doc["text"] = text
            reasons.append(reason)
        return reasons
