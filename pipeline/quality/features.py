"""GPT-3's classifier features ("Spark's standard tokenizer and HashingTF") in plain Python,
bit-compatible with the Spark stages that `train_job.py` builds, so a document can be scored
without a JVM (the benchmark baseline, near-duplicate presets, quick tools).

Tokenizer: the Spark stage is `RegexTokenizer(pattern="\\s+", gaps=True, toLowercase=True,
minTokenLength=1)`, not `Tokenizer`. `Tokenizer` is `text.toLowerCase.split("\\s")`, which emits an
empty token for every extra whitespace character ("a\\n\\nb" -> ["a", "", "b"]); those empty
tokens all hash to one feature that counts blank lines and indentation. The regex form yields the
same words without them. Java's `\\s` (no UNICODE_CHARACTER_CLASS flag) is ASCII whitespace only,
so a no-break space or U+2003 stays inside a token; `_JAVA_WHITESPACE` mirrors that exactly, which
Python's `str.split()` would not.

HashingTF (Spark >= 3): index = nonNegativeMod(murmur3_x86_32(UTF-8 bytes of the term, seed 42),
numFeatures); the value is the term's count. scikit-learn's `murmurhash3_32` is the same standard
murmur3 (tests/quality/test_quality_features.py checks it against Spark).
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from sklearn.utils import murmurhash3_32

HASHING_TF_SEED = 42
TOKEN_PATTERN = r"\s+"     # the Java regex the Spark RegexTokenizer splits on
_JAVA_WHITESPACE = re.compile(r"[ \t\n\x0b\f\r]+")


def tokenize(text: str | None) -> list[str]:
    """What the Spark RegexTokenizer stage produces: lower-cased, split on ASCII whitespace runs."""
    if not text:
        return []
    return [tok for tok in _JAVA_WHITESPACE.split(text.lower()) if tok]


@lru_cache(maxsize=1 << 20)
def _term_index(term: str, num_features: int) -> int:
    # Python's % of a negative int by a positive one is already Spark's nonNegativeMod.
    return murmurhash3_32(term.encode("utf-8", "surrogatepass"), seed=HASHING_TF_SEED) % num_features


def hashed_term_indices(tokens: list[str], num_features: int) -> np.ndarray:
    """HashingTF's bucket of each token (one entry per token, repeats included), as int64."""
    return np.fromiter((_term_index(t, num_features) for t in tokens), dtype=np.int64, count=len(tokens))


def term_counts(text: str | None, num_features: int) -> tuple[np.ndarray, np.ndarray]:
    """HashingTF's sparse vector of a text: sorted bucket indices and their counts (float64)."""
    indices, counts = np.unique(hashed_term_indices(tokenize(text), num_features), return_counts=True)
    return indices, counts.astype(np.float64)


def hashed_matrix(texts, num_features: int):
    """HashingTF counts of many texts as a SciPy CSR matrix (rows in input order): the driver-side
    solver's input, the same numbers as the Spark stages give."""
    from scipy.sparse import csr_matrix

    indptr, indices, values = [0], [], []
    for text in texts:
        idx, counts = term_counts(text, num_features)
        indices.append(idx)
        values.append(counts)
        indptr.append(indptr[-1] + len(idx))
    return csr_matrix((np.concatenate(values) if values else np.zeros(0),
                       np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), indptr),
                      shape=(len(indptr) - 1, num_features))
