"""MinHash signatures for many documents at once, bit-compatible with `datasketch.MinHash`.

datasketch (>= 2.0, default scheme "affine32") hashes each shingle with the first 4 bytes of its
SHA-1 (little-endian), pre-mixes that value with the MurmurHash3 32-bit finaliser, then applies
`num_perm` affine permutations h -> a*h + b mod 2^32 (odd a, both drawn from
`np.random.RandomState(seed)`) and keeps each permutation's minimum. We do exactly that, but for a
whole Arrow batch in a few numpy operations: all shingles of the batch in one array, the
permutations as one broadcast product, and per-document minima with `np.minimum.reduceat`, instead
of one Python object per document. A document without shingles keeps datasketch's initial value
(2^32 - 1 everywhere).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

MAX_HASH = np.uint32(0xFFFFFFFF)
# Rows of the (shingles x permutations) product computed at once: ~32 MB with 128 permutations.
_CHUNK_ELEMENTS = 8_000_000


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd), each shaped (num_perm,) uint32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (multiplications wrap mod 2^32, as intended)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def sha1_hash32(items: list[str]) -> np.ndarray:
    """datasketch's default hashfunc (`sha1_hash32`) of each item's UTF-8 bytes, as uint32."""
    if not items:
        return np.empty(0, dtype=np.uint32)
    digests = b"".join(hashlib.sha1(s.encode("utf-8", "surrogatepass")).digest() for s in items)
    return np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)


def signatures(hashes: np.ndarray, counts: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures of documents, shaped (len(counts), num_perm) uint32.

    `hashes` holds the 32-bit hash of every shingle of every document back to back (what datasketch's
    hashfunc returns), `counts` how many belong to each document, in order. Repeated shingles are
    harmless (a minimum is a minimum)."""
    a, b = permutations(num_perm, seed)
    counts = np.asarray(counts, dtype=np.int64)
    out = np.full((len(counts), num_perm), MAX_HASH, dtype=np.uint32)
    mixed = fmix32(np.asarray(hashes, dtype=np.uint32))
    ends = np.cumsum(counts)
    starts = ends - counts
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // num_perm)
    doc = 0
    while doc < len(counts):
        # Whole documents per chunk (one huge document is a chunk of its own).
        last = max(doc + 1, int(np.searchsorted(ends, starts[doc] + rows_per_chunk, side="right")))
        lo, hi = starts[doc], ends[last - 1]
        if hi > lo:
            # (num_perm, shingles), permutation-major: each minimum reads one contiguous run.
            permuted = np.multiply.outer(a, mixed[lo:hi])
            permuted += b[:, None]                         # wraps mod 2^32, as datasketch's
            nonempty = np.flatnonzero(counts[doc:last]) + doc
            out[nonempty] = np.minimum.reduceat(permuted, starts[nonempty] - lo, axis=1).T
        doc = last
    return out


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Row-wise fraction of equal signature values (datasketch's `MinHash.jaccard`)."""
    return (sig_a == sig_b).mean(axis=1)


# --- the fast shingle hash ---------------------------------------------------------------------
# SHA-1 of every shingle string costs ~1.5 us in Python, most of the sketching time. The "words"
# hash instead hashes each distinct WORD once (BLAKE2b, cached per worker: words are Zipf-distributed)
# and combines the n word hashes of a shingle polynomially, for a whole batch in a few numpy
# operations. `shingle_hash32` is the same function on one shingle string, so
# datasketch.MinHash(hashfunc=shingle_hash32) gives the same signatures.
_MULT = np.uint64(0x9E3779B97F4A7C15)
_word_cache: dict[str, int] = {}


def word_hashes(words: list[str]) -> np.ndarray:
    values = list(map(_word_cache.get, words))
    if None in values:
        if len(_word_cache) > 2_000_000:
            _word_cache.clear()
        for word in set(words).difference(_word_cache):
            _word_cache[word] = int.from_bytes(
                hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
        values = list(map(_word_cache.__getitem__, words))
    return np.array(values, dtype=np.uint64)


def _fmix64_low32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    h = h ^ (h >> np.uint64(33))
    return (h & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def combine_hashes(values: np.ndarray, n: int) -> np.ndarray:
    """Polynomial hash of every run of n consecutive word hashes (wraps mod 2^64)."""
    count = len(values) - n + 1
    h = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        h = h * _MULT + values[k:k + count]
    return h


def word_ngram_hashes(docs_words: list[list[str]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(32-bit hashes of every word n-gram of every document, n-grams per document) for the "words"
    hash; a document with 0 < words < n has one shingle of all its words (shingles.word_ngrams)."""
    lengths = np.array([len(w) for w in docs_words], dtype=np.int64)
    flat = word_hashes([w for words in docs_words for w in words])
    counts = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
    if not len(flat):
        return np.empty(0, dtype=np.uint32), counts
    ends = np.cumsum(lengths)
    starts = ends - lengths
    if len(flat) >= n:
        rolled = combine_hashes(flat, n)                         # n-grams over the whole batch...
        first = np.arange(len(rolled))
        doc_of = np.searchsorted(ends, first, side="right")
        inside = first + n <= ends[np.minimum(doc_of, len(ends) - 1)]   # ...minus those crossing documents
        hashes = rolled[inside]
    else:
        hashes = np.empty(0, dtype=np.uint64)
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        # Splice each short document's single shingle in at its place in document order.
        short_hashes = np.array([combine_hashes(flat[starts[d]:ends[d]], int(lengths[d]))[0] for d in short],
                                dtype=np.uint64)
        long_before = np.cumsum(np.where(lengths >= n, lengths - n + 1, 0)) - np.where(lengths >= n, lengths - n + 1, 0)
        hashes = np.insert(hashes, long_before[short], short_hashes)
    return _fmix64_low32(hashes), counts


def shingle_hash32(shingle: bytes) -> int:
    """The "words" hash of one shingle (its UTF-8 bytes, words separated by single spaces), in plain
    Python integers: the same value as `word_ngram_hashes`, for datasketch's `hashfunc`."""
    mask = (1 << 64) - 1
    h = 0
    for word in shingle.decode("utf-8", "surrogatepass").split(" "):
        value = _word_cache.get(word)
        h = (h * int(_MULT) + (value if value is not None else int(word_hashes([word])[0]))) & mask
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    h ^= h >> 33
    return h & 0xFFFFFFFF
