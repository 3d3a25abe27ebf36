"""features.py against Spark's own RegexTokenizer + HashingTF, and the pure-Python rules."""
import pytest

from pipeline.quality.features import hashed_term_indices, term_counts, tokenize

TRICKY = [
    "Hello  World\n\nhello\tworld ",
    "  leading and trailing  ",
    "no\u00a0break space and em\u2003space stay inside tokens",
    "ÄÖÜ straße İstanbul ΣΟΦΟΣ ŉ ǅ",
    "日本語のテキスト 中文 emoji 😀 mixed",
    "a\x0bb\x0cc\rd",
    "",
]


def test_tokenize_rules():
    assert tokenize("Hello  World\n\nhello") == ["hello", "world", "hello"]
    assert tokenize("a\u00a0b c") == ["a\u00a0b", "c"]
    assert tokenize(None) == [] and tokenize("   ") == []


def test_term_counts_are_sorted_and_counted():
    idx, cnt = term_counts("b a b", 1 << 18)
    assert list(idx) == sorted(idx) and sorted(cnt.tolist()) == [1.0, 2.0]


@pytest.mark.spark
def test_python_features_equal_spark(spark):
    from pyspark.ml.feature import HashingTF, RegexTokenizer

    from pipeline.quality.features import TOKEN_PATTERN

    num_features = 1 << 18
    df = spark.createDataFrame([(i, t) for i, t in enumerate(TRICKY)], "i int, text string")
    tok = RegexTokenizer(inputCol="text", outputCol="tokens", pattern=TOKEN_PATTERN, gaps=True,
                         toLowercase=True, minTokenLength=1)
    tf = HashingTF(inputCol="tokens", outputCol="tf", numFeatures=num_features)
    rows = tf.transform(tok.transform(df)).orderBy("i").collect()
    for row, text in zip(rows, TRICKY):
        assert row["tokens"] == tokenize(text), text
        idx, cnt = term_counts(text, num_features)
        assert row["tf"].indices.tolist() == idx.tolist(), text
        assert row["tf"].values.tolist() == cnt.tolist(), text
    # A small width forces the negative-hash modulo path.
    small = HashingTF(inputCol="tokens", outputCol="tf", numFeatures=7).transform(tok.transform(df))
    for row in small.orderBy("i").collect():
        assert sorted(set(row["tf"].indices.tolist())) == sorted(set(hashed_term_indices(row["tokens"], 7).tolist()))
