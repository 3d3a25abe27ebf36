"""ExportedModel (no Spark) scores exactly like the saved Spark PipelineModel, for each feature form."""
import json

import numpy as np
import pytest

from pipeline.quality.classifier import (ExportedModel, FEATURE_FORMS, LABEL_COL, SCORE_COLUMN, add_scores,
                                         build_pipeline, export_weights)

GOOD = "the committee published a careful report on the history of the river and its bridges ."
BAD = "click here buy now cheap deals free shipping best price click here login cart"


def _docs(n=40):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        words = (GOOD if i % 2 else BAD).split()
        text = " ".join(rng.choice(words, size=int(rng.integers(5, 60))))
        rows.append((f"d{i}", text + ("\n\n  Ünïcode  " if i % 5 == 0 else ""), float(i % 2)))
    rows.append(("empty", None, 0.0))
    return rows


@pytest.mark.spark
@pytest.mark.parametrize("features", FEATURE_FORMS)
def test_exported_model_agrees_with_spark(spark, tmp_path, features):
    df = spark.createDataFrame(_docs(), f"id string, text string, {LABEL_COL} double")
    model = build_pipeline(features, 1 << 12, 200, 0.01, 0.0, 30).fit(df)
    export_weights(model, str(tmp_path), {"features": features, "num_features": 1 << 12, "text_chars": 200})
    scored = add_scores(df, model).orderBy("id").collect()
    assert [c for c in scored[0].asDict()] == ["id", "text", LABEL_COL, SCORE_COLUMN]
    exported = ExportedModel.load(str(tmp_path))
    python_scores = exported.score_texts([r["text"] for r in scored])
    spark_scores = np.array([r[SCORE_COLUMN] for r in scored])
    np.testing.assert_allclose(python_scores, spark_scores, atol=1e-9)
    labels = np.array([r[LABEL_COL] for r in scored])
    assert spark_scores[labels == 1].mean() > spark_scores[labels == 0].mean()
    assert json.loads((tmp_path / "model.json").read_text())["features"] == features


@pytest.mark.spark
def test_existing_quality_score_column_is_replaced_in_place(spark):
    df = spark.createDataFrame(_docs(10), f"id string, text string, {LABEL_COL} double")
    model = build_pipeline("l2", 1 << 10, 100, 0.01, 0.0, 10).fit(df)
    with_col = df.selectExpr("id", "CAST(NULL AS double) AS quality_score", "text", LABEL_COL)
    out = add_scores(with_col, model)
    assert out.columns == ["id", "quality_score", "text", LABEL_COL]
    assert out.where("quality_score IS NULL").count() == 0


@pytest.mark.spark
@pytest.mark.parametrize("features", FEATURE_FORMS)
def test_exported_model_agrees_with_spark_on_real_documents(spark, realdata, tmp_path, features):
    """The filter's batched scorer gives the Spark PipelineModel's probability on real pages: a model
    fitted on real WebText vs CommonCrawl, scored on the human-judged texts (cut at 3,000 characters)."""
    import gzip

    from pipeline.quality.shipped import HUMAN

    webtext = realdata / "text/webtext/innerfirexy_webtext.test.split.200.jsonl"
    positives = [json.loads(line)["text"] for line in webtext.read_text(encoding="utf-8").splitlines()[:80]]
    with gzip.open(realdata / "text/cc_raw/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as fh:
        negatives = [json.loads(line)["text"] for line in fh][:80]
    rows = [(f"p{i}", t, 1.0) for i, t in enumerate(positives)] + [(f"n{i}", t, 0.0) for i, t in enumerate(negatives)]
    model = build_pipeline(features, 1 << 18, 3000, 0.01, 0.0, 20).fit(
        spark.createDataFrame(rows, f"id string, text string, {LABEL_COL} double"))
    export_weights(model, str(tmp_path), {"features": features, "num_features": 1 << 18, "text_chars": 3000})
    human = [json.loads(line)["text"] for line in (realdata / HUMAN).read_text(encoding="utf-8").splitlines()]
    scored = add_scores(spark.createDataFrame(list(enumerate(human)), "i int, text string"), model).orderBy("i")
    spark_scores = np.array([r[SCORE_COLUMN] for r in scored.collect()])
    np.testing.assert_allclose(ExportedModel.load(str(tmp_path)).score_texts(human), spark_scores, atol=1e-9)
    assert spark_scores.std() > 0.01      # a model that separates something, not a constant
