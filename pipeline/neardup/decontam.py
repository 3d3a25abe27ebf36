"""Benchmark decontamination as GPT-3 Appendix C does it, in pure Python (the Spark job maps it over
Arrow batches).

Words are lower-cased with punctuation removed (shingles.word_spans); an n-gram (default 13) is the
64-bit polynomial hash of its word hashes (minhash.combine_hashes). For a training document, every
n-gram it shares with an evaluation set is cut out together with `margin_chars` (200) characters on
each side, splitting the document into pieces; pieces shorter than `min_piece_chars` (200) are
dropped; a document split into more than `max_pieces` (10) pieces is removed whole. n-grams found in
more than `max_doc_frequency` (10) training documents are too common to mean contamination and are
ignored (the job counts documents per colliding n-gram first).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from pipeline.core.config import InputError
from pipeline.neardup.minhash import combine_hashes, word_hashes
from pipeline.neardup.shingles import normalized_words, word_spans


@dataclass(frozen=True)
class DecontamParams:
    ngram: int = 13
    margin_chars: int = 200
    min_piece_chars: int = 200
    max_pieces: int = 10
    max_doc_frequency: int = 10


def ngram_hashes(words: list[str], n: int) -> np.ndarray:
    """Hashes (uint64, in order, repeats kept) of every word n-gram; empty when fewer than n words."""
    if len(words) < n:
        return np.empty(0, dtype=np.uint64)
    return combine_hashes(word_hashes(words), n)


def read_eval_set(path: str, text_fields: list[str]) -> Iterator[str]:
    """Examples of an evaluation file: JSONL (`text_fields` joined by newlines; all string values
    when the list is empty) or text (one example per non-empty line); .gz allowed."""
    opener = gzip.open if path.endswith(".gz") else open
    stem = path[:-3] if path.endswith(".gz") else path
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                if not stem.endswith((".jsonl", ".json")):
                    yield line.strip()
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise InputError(f"evaluation set {path}: line {number} is not JSON") from None
                fields = text_fields or [k for k, v in record.items() if isinstance(v, str)]
                yield "\n".join(_as_text(record.get(f)) for f in fields if record.get(f) is not None)
    except FileNotFoundError:
        raise InputError(f"evaluation set not found: {path}") from None


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_as_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def eval_set_ngrams(path: str, params: DecontamParams, text_fields: list[str]) -> list[np.ndarray]:
    """The distinct n-gram hashes of each example (an empty array for one shorter than n words)."""
    return [np.unique(ngram_hashes(normalized_words(text), params.ngram))
            for text in read_eval_set(path, text_fields)]


def colliding_ngrams(text: str, eval_ngrams: np.ndarray, n: int) -> np.ndarray:
    """The distinct n-gram hashes of `text` that are in `eval_ngrams` (sorted uint64)."""
    grams = np.unique(ngram_hashes(normalized_words(text), n))
    return grams[np.isin(grams, eval_ngrams, assume_unique=True)] if len(eval_ngrams) else grams[:0]


def cut(text: str, eval_ngrams: np.ndarray, params: DecontamParams) -> tuple[list[str], int]:
    """(the non-blank pieces left around the cuts, colliding n-gram occurrences); the caller drops
    pieces shorter than min_piece_chars, and the whole document beyond max_pieces pieces."""
    words, spans = word_spans(text)
    grams = ngram_hashes(words, params.ngram)
    hits = np.flatnonzero(np.isin(grams, eval_ngrams)) if len(grams) and len(eval_ngrams) else []
    if not len(hits):
        return [text], 0
    cuts = []
    for i in hits:
        start, end = spans[i][0] - params.margin_chars, spans[i + params.ngram - 1][1] + params.margin_chars
        if cuts and start <= cuts[-1][1]:
            cuts[-1][1] = max(cuts[-1][1], end)
        else:
            cuts.append([start, end])
    pieces, position = [], 0
    for start, end in cuts:
        pieces.append(text[position:max(start, 0)])
        position = end
    pieces.append(text[position:])
    return [p.strip() for p in pieces if p.strip()], len(hits)
