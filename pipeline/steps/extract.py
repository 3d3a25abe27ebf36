"""extract: the main text of an HTML page (pipeline.text.extract), as each record is read.

Drops `extract:<reason>` (too_large, too_deep, timeout, ... from extract_page) and `extract:empty`
(fewer than `extract.min_text_chars` characters; WET text records are checked too). A streaming
step: it runs on each record as soon as it is read, so a worker holds one raw page at a time; text
inputs (document folders, plain texts) skip it.
"""
from __future__ import annotations

from pipeline.steps.base import Step, register
from pipeline.text.extract import ExtractCaps, extract_page


@register
class Extract(Step):
    name = "extract"
    streams = True

    def __init__(self, caps: ExtractCaps, min_text_chars: int):
        self.caps, self.min_text_chars = caps, min_text_chars

    @classmethod
    def from_config(cls, config: dict) -> "Extract":
        section = config["extract"]
        return cls(ExtractCaps.from_config(section), int(section.get("min_text_chars", 1)))

    def filter(self, docs: list[dict]) -> list[str | None]:
        reasons = []
        for doc in docs:
            payload, charset = doc.pop("payload", None), doc.pop("charset", None)
            reason = None
            if payload is not None:
                doc["text"], reason = extract_page(payload, doc.get("url") or "", self.caps, charset)
            if reason is None and len((doc["text"] or "").strip()) < self.min_text_chars:
                doc["text"], reason = None, "empty"
            reasons.append(reason)
        return reasons
