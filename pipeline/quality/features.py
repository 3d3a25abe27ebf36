"""GPT-3's classifier features ("Spark's standard tokenizer and HashingTF") in plain Python,
bit-compatible with the Spark stages that `train_job.py` builds, so a document can be scored
without a JVM (the filter's score step, the driver solver, near-duplicate presets).

Tokenizer: the Spark stage is `RegexTokenizer(pattern="\\s+", gaps=True, toLowercase=True,
minTokenLength=1)`, not `Tokenizer`. `Tokenizer` is `text.toLowerCase.split("\\s")`, which emits an
empty token for every extra whitespace character ("a\\n\\nb" -> ["a", "", "b"]); those empty
tokens all hash to one feature that counts blank lines and indentation. The regex form yields the
same words without them. Java's `\\s` (no UNICODE_CHARACTER_CLASS flag) is ASCII whitespace only
(space, \\t, \\n, \\x0b, \\f, \\r), so a no-break space or U+2003 stays inside a token: exactly Arrow's
`ascii_split_whitespace`, which Python's `str.split()` would not be. Lower-casing is Python's
`str.lower` (tests/quality/test_quality_features.py checks it against Java's on tricky scripts).

HashingTF (Spark >= 3): index = nonNegativeMod(murmur3_x86_32(UTF-8 bytes of the term, seed 42),
numFeatures); the value is the term's count. `mmh3.hash` is that standard signed murmur3.

Speed: the work is per batch. Splitting and finding each batch's distinct terms run in Arrow's C
kernels; only distinct terms are hashed (a C call each); the counts become one SciPy CSR matrix,
so a linear model's margins are one sparse product.
"""
from __future__ import annotations

from itertools import repeat

import mmh3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HASHING_TF_SEED = 42
TOKEN_PATTERN = r"\s+"     # the Java regex the Spark RegexTokenizer splits on


def _lowered(text: str | None, text_chars: int | None) -> str:
    text = (text or "")[:text_chars].lower()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: Java's getBytes(UTF_8), which Spark's UTF8String uses, writes '?' for it.
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def token_lists(texts, text_chars: int | None = None) -> tuple[pa.Array, np.ndarray]:
    """Every token of every text back to back (Arrow strings) and offsets: the tokens of text i
    are tokens[offsets[i]:offsets[i + 1]]. `text_chars` cuts each text first (Spark's substring)."""
    lists = pc.ascii_split_whitespace(pa.array([_lowered(t, text_chars) for t in texts], type=pa.large_string()))
    tokens = lists.flatten()
    nonempty = pc.greater(pc.binary_length(tokens), 0)      # runs at either end leave "" behind
    kept_before = np.concatenate([[0], np.cumsum(nonempty.to_numpy(zero_copy_only=False), dtype=np.int64)])
    offsets = kept_before[lists.offsets.to_numpy() - lists.offsets[0].as_py()]
    return tokens.filter(nonempty), offsets


def tokenize(text: str | None) -> list[str]:
    """What the Spark RegexTokenizer stage produces: lower-cased, split on ASCII whitespace runs."""
    return token_lists([text])[0].to_pylist()


def hashed_term_indices(tokens, num_features: int) -> np.ndarray:
    """HashingTF's bucket of each token (one entry per token, repeats included), as int64; each
    distinct token is hashed once."""
    tokens = pa.array(tokens, type=pa.large_string()) if not isinstance(tokens, pa.Array) else tokens
    distinct = tokens.dictionary_encode()
    terms = distinct.dictionary.to_pylist()
    hashes = np.fromiter(map(mmh3.hash, terms, repeat(HASHING_TF_SEED)), dtype=np.int64, count=len(terms))
    # numpy's % of a negative int by a positive one is already Spark's nonNegativeMod.
    return (hashes % num_features)[distinct.indices.to_numpy(zero_copy_only=False)]


def hashed_matrix(texts, num_features: int, text_chars: int | None = None):
    """HashingTF counts of many texts as a SciPy CSR matrix (rows in input order, sorted indices):
    the same numbers as the Spark stages give."""
    from scipy.sparse import csr_matrix

    tokens, offsets = token_lists(texts, text_chars)
    counts = csr_matrix((np.ones(len(tokens)), hashed_term_indices(tokens, num_features), offsets),
                        shape=(len(offsets) - 1, num_features))
    counts.sum_duplicates()
    return counts
