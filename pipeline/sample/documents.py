"""The prose paragraphs cut into documents and dealt out, by a draw from (seed, first paragraph),
to the sample's parts: crawl articles, Wikipedia-like articles, books and evaluation-only text.
The parts never share a paragraph, so curated positives and crawl pages are distinct texts."""
from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.core.hashing import hash64, uniform
from pipeline.sample.prose import Paragraph, paragraphs

# Cumulative shares of the documents per part.
SHARES = (("crawl", 0.45), ("wikipedia", 0.75), ("books", 0.95), ("eval", 1.0))
MIN_WORDS, MAX_WORDS = 100, 280
MIN_PARAGRAPHS = 3          # C4's line rule drops documents of fewer lines


@dataclass(frozen=True)
class Document:
    topic: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)

    def subject(self) -> str:
        """A readable subject from the topic: 'email.parser' -> 'email parser'."""
        return self.topic.replace(".", " ").replace("_", " ").strip()


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator owned by one part of the sample: adding a part never shifts another's draws."""
    return random.Random(hash64(seed, "sample", *parts))


def cut_documents(paras: tuple[Paragraph, ...], seed: int) -> list[Document]:
    """Consecutive paragraphs grouped into documents of at least MIN_PARAGRAPHS paragraphs and
    about MIN_WORDS..MAX_WORDS words."""
    rng = rng_for(seed, "cut")
    docs, current, words, target = [], [], 0, rng.randint(MIN_WORDS, MAX_WORDS)
    for para in paras:
        if para.words > MAX_WORDS:
            continue
        current.append(para)
        words += para.words
        if words >= target and len(current) >= MIN_PARAGRAPHS:
            docs.append(Document(current[0].topic, tuple(p.text for p in current)))
            current, words, target = [], 0, rng.randint(MIN_WORDS, MAX_WORDS)
    return docs


def deal(seed: int) -> dict[str, list[Document]]:
    """The documents of each part, in prose order."""
    parts: dict[str, list[Document]] = {name: [] for name, _ in SHARES}
    for doc in cut_documents(paragraphs(), seed):
        draw = uniform(seed, doc.paragraphs[0], "sample-part")
        name = next(name for name, upto in SHARES if draw < upto)
        parts[name].append(doc)
    return parts


def recombined(docs: list[Document], count: int, rng: random.Random) -> list[Document]:
    """`count` further documents from new mixes of the part's paragraphs (for scale > 1)."""
    pool = [(d.topic, p) for d in docs for p in d.paragraphs]
    extra = []
    for _ in range(count):
        picks = rng.sample(pool, min(len(pool), rng.randint(3, 5)))
        extra.append(Document(picks[0][0], tuple(p for _, p in picks)))
    return extra
