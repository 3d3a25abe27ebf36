import pyarrow as pa

from pipeline.core.hashing import hash64, uniform, uniforms
from pipeline.core.schema import STAGED_SPARK_DDL, docs_to_arrow, empty_doc
from pipeline.core.stats import funnel, reason_counts


def test_uniform_is_a_pure_function_of_seed_and_key():
    assert uniform(1, "doc") == uniform(1, "doc")
    assert uniform(1, "doc") != uniform(2, "doc")
    assert 0.0 <= uniform(7, "x", "salt") < 1.0
    assert list(uniforms(1, ["a", "b"])) == [uniform(1, "a"), uniform(1, "b")]
    assert hash64("ab", "c") != hash64("a", "bc")


def test_staged_rows_cross_arrow_into_spark_and_count_from_the_data(spark):
    rows = [empty_doc(id="a", text="x", meta={"k": "v"}),
            empty_doc(id="b", text="y", drop_reason="extract:empty"),
            empty_doc(id="c", text="z", drop_reason="langid:lang")]
    batch = docs_to_arrow(rows)

    def produce(batches):
        for _ in batches:
            yield batch

    df = spark.range(1).mapInArrow(produce, STAGED_SPARK_DDL)
    counts = reason_counts(df)
    assert counts == {"kept": 1, "extract:empty": 1, "langid:lang": 1}
    table = funnel(counts, ["extract", "langid"])
    assert table[0] == {"step": "extract", "in": 3, "out": 2, "dropped": {"empty": 1}}
    assert table[1]["out"] == 1
    assert df.where("id = 'a'").first()["meta"] == {"k": "v"}
    assert isinstance(batch, pa.RecordBatch)
