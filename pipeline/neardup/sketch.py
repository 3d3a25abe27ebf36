"""One pass over the documents, per Arrow batch in the Python workers: the small per-document keys
that every later dedup step works on, so the text itself never travels through a shuffle.

Output row per document: rank (source priority), id, url_key, content_key, n_words, sig (MinHash
signature, num_perm little-endian uint32 values) and, for exact verification, terms (the sorted
distinct HashingTF indices, uint32). A null text gives null keys (the document is passed through
untouched and counted); a text without words gets no signature (exact dedup only).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

from pipeline.core.hashing import text_digest
from pipeline.neardup import minhash
from pipeline.neardup.exact import normalize_url
from pipeline.neardup.lsh import LshParams
from pipeline.neardup.shingles import normalized_words, word_ngrams

KEYS_SCHEMA = pa.schema([
    pa.field("rank", pa.int32()),
    pa.field("id", pa.string()),
    pa.field("url_key", pa.string()),
    pa.field("content_key", pa.string()),
    pa.field("n_words", pa.int32()),
    pa.field("sig", pa.binary()),
    pa.field("terms", pa.binary()),
])
KEYS_DDL = ("rank int, id string, url_key string, content_key string, n_words int, "
            "sig binary, terms binary")


def feature_hashes(texts: list[str | None], params: LshParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(32-bit hashes of every document's features back to back, features per document, words per
    document) for the non-null texts given."""
    if params.features == "terms":
        # GPT-3 Appendix A: the classifier's features (Spark tokenizer + HashingTF buckets); the
        # bucket index itself is the hash value (datasketch's affine32 pre-mixes it).
        from pipeline.quality.features import hashed_term_indices, tokenize

        tokens = [tokenize(t) for t in texts]
        terms = [np.unique(hashed_term_indices(tok, params.num_features)).astype(np.uint32) for tok in tokens]
        return (np.concatenate(terms) if terms else np.empty(0, np.uint32),
                np.array([len(t) for t in terms], dtype=np.int64), np.array([len(t) for t in tokens]))
    words = [normalized_words(t) for t in texts]
    n_words = np.array([len(w) for w in words])
    if params.hash == "words":
        hashes, counts = minhash.word_ngram_hashes(words, params.ngram)
        return hashes, counts, n_words
    grams = [word_ngrams(w, params.ngram) for w in words]
    return (minhash.sha1_hash32([g for doc in grams for g in doc]),
            np.array([len(g) for g in grams], dtype=np.int64), n_words)


def _binary_rows(matrix: np.ndarray, present: np.ndarray) -> pa.Array:
    """Each row of a (n, k) uint32 matrix as one binary value; null where not `present`."""
    width = matrix.shape[1] * 4
    values = [matrix[i].astype("<u4").tobytes() if ok else None for i, ok in enumerate(present)]
    return pa.array(values, type=pa.binary()) if width else pa.nulls(len(present), pa.binary())


def sketch_batch(batch: pa.RecordBatch, params: LshParams) -> pa.RecordBatch:
    texts = batch.column("text").to_pylist()
    present = np.array([t is not None for t in texts], dtype=bool)
    hashes, feature_counts, words = feature_hashes([t for t in texts if t is not None], params)
    counts = np.zeros(len(texts), dtype=np.int64)
    counts[present] = feature_counts
    n_words = np.zeros(len(texts), dtype=np.int64)
    n_words[present] = words
    sigs = minhash.signatures(hashes, counts, params.num_perm, params.seed)
    terms = [None] * len(texts)
    if params.verify == "exact":
        ends = np.cumsum(counts)
        terms = [np.sort(hashes[e - c:e]).astype("<u4").tobytes() if c else None for e, c in zip(ends, counts)]
    return pa.RecordBatch.from_arrays([
        batch.column("rank").cast(pa.int32()),
        batch.column("id"),
        pa.array([normalize_url(u) for u in batch.column("url").to_pylist()], type=pa.string()),
        pa.array([text_digest(t) if t is not None else None for t in texts], type=pa.string()),
        pa.array(n_words, type=pa.int32(), mask=~present),
        _binary_rows(sigs, counts > 0),
        pa.array(terms, type=pa.binary()),
    ], schema=KEYS_SCHEMA)


def sketch_batches(params: LshParams):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield sketch_batch(batch, params)
    return run
