"""langid: fastText lid.176 language and score of each document (pipeline.text.langid).

Sets `lang` and `lang_score`; drops `langid:language` (not one of `langid.languages`) and
`langid:low_score` (below `langid.min_score`). With `langid.languages: []` every document is
identified and none is dropped.
"""
from __future__ import annotations

from pipeline.steps.base import Step, register
from pipeline.text import langid


@register
class LanguageId(Step):
    name = "langid"

    def __init__(self, section: dict):
        self.section = section
        self.languages = frozenset(section["languages"])
        self.min_score = float(section["min_score"])

    @classmethod
    def from_config(cls, config: dict) -> "LanguageId":
        return cls(dict(config["langid"]))

    def filter(self, docs: list[dict]) -> list[str | None]:
        langs, scores = langid.predict([doc["text"] or "" for doc in docs], self.section)
        reasons = []
        for doc, lang, score in zip(docs, langs, scores.tolist()):
            doc["lang"], doc["lang_score"] = lang, score
            reason = langid.drop_reason(lang, score, self.languages, self.min_score) if self.languages else None
            reasons.append(reason.split(":", 1)[1] if reason else None)
        return reasons
