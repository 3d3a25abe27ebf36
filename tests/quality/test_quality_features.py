"""features.py against Spark's own RegexTokenizer + HashingTF, and the pure-Python rules."""
import gzip
import json

import numpy as np
import pytest

from pipeline.quality.features import hashed_matrix, hashed_term_indices, token_lists, tokenize

TRICKY = [
    "Hello  World\n\nhello\tworld ",
    "  leading and trailing  ",
    "no\u00a0break space and em\u2003space stay inside tokens",
    "ÄÖÜ straße İstanbul ΣΟΦΟΣ ŉ ǅ",
    "日本語のテキスト 中文 emoji 😀 mixed",
    "a\x0bb\x0cc\rd\x1ce\x85f\u2028g",
    "",
]


def test_tokenize_rules():
    assert tokenize("Hello  World\n\nhello") == ["hello", "world", "hello"]
    assert tokenize("a\u00a0b c") == ["a\u00a0b", "c"]
    assert tokenize(None) == [] and tokenize("   ") == []
    assert tokenize("x\ud800y") == ["x?y"]     # a lone surrogate is '?', as Java's getBytes writes it


def test_token_lists_keep_document_boundaries_and_cut():
    tokens, offsets = token_lists([" a b ", None, "", "c  d e", "\n"], text_chars=4)
    assert tokens.to_pylist() == ["a", "b", "c", "d"] and offsets.tolist() == [0, 2, 2, 2, 4, 4]


def test_hashed_matrix_counts_per_document():
    counts = hashed_matrix(["b a b", None, "a"], 1 << 18)
    assert counts.shape == (3, 1 << 18) and counts.has_sorted_indices
    assert sorted(counts[0].data.tolist()) == [1.0, 2.0] and counts[1].nnz == 0
    assert counts[2].indices.tolist() == hashed_term_indices(["a"], 1 << 18).tolist()
    assert hashed_matrix([], 8).shape == (0, 8)


def _spark_features(spark, texts, num_features):
    from pyspark.ml.feature import HashingTF, RegexTokenizer

    from pipeline.quality.features import TOKEN_PATTERN

    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i int, text string")
    tok = RegexTokenizer(inputCol="text", outputCol="tokens", pattern=TOKEN_PATTERN, gaps=True,
                         toLowercase=True, minTokenLength=1)
    tf = HashingTF(inputCol="tokens", outputCol="tf", numFeatures=num_features)
    return tf.transform(tok.transform(df)).orderBy("i").collect()


@pytest.mark.spark
def test_python_features_equal_spark(spark):
    num_features = 1 << 18
    rows = _spark_features(spark, TRICKY, num_features)
    counts = hashed_matrix(TRICKY, num_features)
    for i, (row, text) in enumerate(zip(rows, TRICKY)):
        assert row["tokens"] == tokenize(text), text
        assert row["tf"].indices.tolist() == counts[i].indices.tolist(), text
        assert row["tf"].values.tolist() == counts[i].data.tolist(), text
    # A small width forces the negative-hash modulo path.
    small = _spark_features(spark, TRICKY, 7)
    for row in small:
        assert sorted(set(row["tf"].indices.tolist())) == sorted(set(hashed_term_indices(row["tokens"], 7).tolist()))


@pytest.mark.spark
def test_python_features_equal_spark_on_real_documents(spark, realdata):
    """Bit-identical HashingTF vectors on real crawl and WebText pages (long, messy, many scripts)."""
    with gzip.open(realdata / "text/cc_raw/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as fh:
        texts = [json.loads(line)["text"] for line in fh][:150]
    webtext = realdata / "text/webtext/innerfirexy_webtext.test.split.0.jsonl"
    texts += [json.loads(line)["text"] for line in webtext.read_text(encoding="utf-8").splitlines()[:50]]
    rows = _spark_features(spark, texts, 1 << 18)
    counts = hashed_matrix(texts, 1 << 18)
    for i, row in enumerate(rows):
        assert np.array_equal(row["tf"].indices, counts[i].indices), i
        assert np.array_equal(row["tf"].values, counts[i].data), i
