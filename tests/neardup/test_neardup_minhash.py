"""MinHash signatures: bit-compatible with datasketch.MinHash (its own hash values), vectorised."""
import numpy as np
import pytest
from datasketch import MinHash

from pipeline.neardup import minhash
from pipeline.neardup.shingles import normalized_words, word_ngrams
from pipeline.neardup.synthetic import generate

TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "",                                   # no words: datasketch's initial values
    "Too short",                          # one shingle of all its words
    "exactly five words here now",
    "Ünïcödé  text — with “quotes”, dashes and   spaces; a b c d e f g h",
] + next(generate(20, seed=3, mean_words=60))[1]


def _datasketch(shingles, num_perm, seed, hashfunc=None):
    m = MinHash(num_perm=num_perm, seed=seed, **({"hashfunc": hashfunc} if hashfunc else {}))
    m.update_batch([s.encode("utf-8") for s in shingles])
    return m.hashvalues


@pytest.mark.parametrize("num_perm,seed", [(112, 1), (10, 42), (128, 7)])
def test_permutations_are_datasketchs(num_perm, seed):
    a, b = minhash.permutations(num_perm, seed)
    theirs = MinHash(num_perm=num_perm, seed=seed).permutations
    assert np.array_equal(a, theirs[0]) and np.array_equal(b, theirs[1])


@pytest.mark.parametrize("num_perm,seed", [(112, 1), (10, 42)])
def test_sha1_signatures_equal_datasketch_default(num_perm, seed):
    grams = [word_ngrams(normalized_words(t), 5) for t in TEXTS]
    hashes = minhash.sha1_hash32([g for doc in grams for g in doc])
    sigs = minhash.signatures(hashes, [len(g) for g in grams], num_perm, seed)
    for i, doc in enumerate(grams):
        assert np.array_equal(sigs[i], _datasketch(doc, num_perm, seed)), TEXTS[i][:40]


def test_word_hash_signatures_equal_datasketch_with_same_hashfunc():
    words = [normalized_words(t) for t in TEXTS]
    hashes, counts = minhash.word_ngram_hashes(words, 5)
    assert counts.tolist()[:4] == [23, 0, 1, 1]
    sigs = minhash.signatures(hashes, counts, 112, 1)
    for i, doc in enumerate(words):
        expected = _datasketch(word_ngrams(doc, 5), 112, 1, hashfunc=minhash.shingle_hash32)
        assert np.array_equal(sigs[i], expected), TEXTS[i][:40]


def test_chunking_does_not_change_signatures(monkeypatch):
    words = [normalized_words(t) for t in TEXTS]
    hashes, counts = minhash.word_ngram_hashes(words, 5)
    whole = minhash.signatures(hashes, counts, 64, 1)
    monkeypatch.setattr(minhash, "_CHUNK_ELEMENTS", 64 * 7)       # a few shingles per chunk
    assert np.array_equal(minhash.signatures(hashes, counts, 64, 1), whole)


def test_estimated_jaccard_tracks_true_jaccard():
    base = normalized_words(TEXTS[6])
    edited = list(base)
    edited[10:14] = ["zz1", "zz2", "zz3", "zz4"]
    a, b = set(word_ngrams(base, 5)), set(word_ngrams(edited, 5))
    true = len(a & b) / len(a | b)
    hashes, counts = minhash.word_ngram_hashes([base, edited], 5)
    sigs = minhash.signatures(hashes, counts, 256, 1)
    assert abs(minhash.estimated_jaccard(sigs[:1], sigs[1:])[0] - true) < 0.1
