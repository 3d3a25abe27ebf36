"""Scoring with the GPT-3 quality classifier: in Spark with the saved PipelineModel, or in plain
Python with the weights exported beside it (same features, same numbers to ~1e-12).

A model folder, as `train_classifier.py` writes it:
    spark_model/   the Spark PipelineModel (cut text -> tokenizer -> HashingTF [-> Normalizer | IDF]
                   -> LogisticRegression)
    weights.npz    coefficients, intercept and (idf form) the IDF vector, for `ExportedModel`
    model.json     feature form, HashingTF width, characters seen per document, training summary
    report.json    held-out metrics (see docs/classifier.md)
"""
from __future__ import annotations

import io
import json

import fsspec
import numpy as np

from pipeline.core.config import InputError
from pipeline.quality.features import TOKEN_PATTERN, term_counts
from pipeline.core.output import fs_url

FEATURE_FORMS = ("raw", "l2", "idf")
SCORE_COLUMN = "quality_score"
SPARK_MODEL_DIR = "spark_model"
WEIGHTS_FILE = "weights.npz"
MODEL_FILE = "model.json"
REPORT_FILE = "report.json"

# Columns the pipeline adds; prefixed so they never collide with a document column.
TEXT_COL, TOKENS_COL, TF_COL, FEATURES_COL = "_clf_text", "_clf_tokens", "_clf_tf", "_clf_features"
RAW_COL, PROB_COL, PRED_COL = "_clf_raw", "_clf_probability", "_clf_prediction"
LABEL_COL = "label"


def build_pipeline(features: str, num_features: int, text_chars: int, reg_param: float,
                   elastic_net_param: float, max_iter: int):
    """The unfitted Spark ML Pipeline for one feature form (see features.py for the tokenizer)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import IDF, HashingTF, Normalizer, RegexTokenizer, SQLTransformer

    if features not in FEATURE_FORMS:
        raise ValueError(f"unknown feature form {features!r}; one of {FEATURE_FORMS}")
    # The text cut lives inside the model, so whoever scores sees exactly what training saw.
    cut = SQLTransformer(statement=(
        f"SELECT *, coalesce(substring(text, 1, {int(text_chars)}), '') AS {TEXT_COL} FROM __THIS__"))
    tokenizer = RegexTokenizer(inputCol=TEXT_COL, outputCol=TOKENS_COL, pattern=TOKEN_PATTERN,
                               gaps=True, toLowercase=True, minTokenLength=1)
    hashing = HashingTF(inputCol=TOKENS_COL, outputCol=TF_COL if features != "raw" else FEATURES_COL,
                        numFeatures=num_features, binary=False)
    stages = [cut, tokenizer, hashing]
    if features == "l2":
        stages.append(Normalizer(inputCol=TF_COL, outputCol=FEATURES_COL, p=2.0))
    elif features == "idf":
        stages.append(IDF(inputCol=TF_COL, outputCol=FEATURES_COL))
    stages.append(LogisticRegression(
        featuresCol=FEATURES_COL, labelCol=LABEL_COL, rawPredictionCol=RAW_COL,
        probabilityCol=PROB_COL, predictionCol=PRED_COL, family="binomial",
        regParam=reg_param, elasticNetParam=elastic_net_param, maxIter=max_iter))
    return Pipeline(stages=stages)


def add_scores(df, pipeline_model):
    """`df` with `quality_score` = P(label 1) from a fitted pipeline; every other column kept."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    scored = pipeline_model.transform(df)
    score = vector_to_array(F.col(PROB_COL)).getItem(1).cast("double").alias(SCORE_COLUMN)
    columns = [score if c == SCORE_COLUMN else F.col(c) for c in df.columns]
    if SCORE_COLUMN not in df.columns:
        columns.append(score)
    return scored.select(*columns)


def model_file(model_dir: str, name: str) -> str:
    """A file of the model folder as fsspec opens it (Hadoop's s3a:// is fsspec's s3://)."""
    return fs_url(f"{model_dir.rstrip('/')}/{name}")


def check_model_dir(model_dir: str) -> None:
    """One-line InputError when a model folder lacks a file scoring needs (call before Spark)."""
    for name in (SPARK_MODEL_DIR, WEIGHTS_FILE, MODEL_FILE):
        fs, path = fsspec.core.url_to_fs(model_file(model_dir, name))
        if not fs.exists(path):
            raise InputError(f"classifier model folder {model_dir} lacks {name}; "
                             "train one with spark-submit pipeline/train_classifier.py")


def write_json(path: str, data: dict) -> None:
    with fsspec.open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)


def export_weights(pipeline_model, model_dir: str, info: dict) -> None:
    """Write weights.npz and model.json (feature form, width, text cut) from a fitted pipeline."""
    from pyspark.ml.feature import IDFModel

    lr = pipeline_model.stages[-1]
    idf = [s for s in pipeline_model.stages if isinstance(s, IDFModel)]
    arrays = {"coefficients": lr.coefficients.toArray().astype(np.float64),
              "intercept": np.array([lr.intercept], dtype=np.float64)}
    if idf:
        arrays["idf"] = idf[0].idf.toArray().astype(np.float64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with fsspec.open(model_file(model_dir, WEIGHTS_FILE), "wb") as fh:
        fh.write(buffer.getvalue())
    write_json(model_file(model_dir, MODEL_FILE), info)


class ExportedModel:
    """The classifier without Spark: features.py's hashing plus the exported weights."""

    def __init__(self, coefficients: np.ndarray, intercept: float, features: str,
                 num_features: int, text_chars: int, idf: np.ndarray | None = None):
        if features not in FEATURE_FORMS:
            raise ValueError(f"unknown feature form {features!r}")
        if features == "idf" and idf is None:
            raise ValueError("the idf feature form needs the idf vector")
        self.coefficients, self.intercept = coefficients, float(intercept)
        self.features, self.num_features, self.text_chars = features, int(num_features), int(text_chars)
        self.idf = idf

    @classmethod
    def load(cls, model_dir: str) -> "ExportedModel":
        with fsspec.open(model_file(model_dir, MODEL_FILE), "r", encoding="utf-8") as fh:
            info = json.load(fh)
        with fsspec.open(model_file(model_dir, WEIGHTS_FILE), "rb") as fh:
            data = io.BytesIO(fh.read())
        with np.load(data) as w:
            return cls(w["coefficients"], float(w["intercept"][0]), info["features"],
                       info["num_features"], info["text_chars"], w["idf"] if "idf" in w else None)

    def margin(self, text: str | None) -> float:
        indices, values = term_counts((text or "")[: self.text_chars], self.num_features)
        if self.features == "l2":
            norm = np.sqrt(np.dot(values, values))
            if norm > 0:
                values = values / norm
        elif self.features == "idf":
            values = values * self.idf[indices]
        return float(np.dot(self.coefficients[indices], values)) + self.intercept

    def score_texts(self, texts) -> np.ndarray:
        """P(high quality) of each text, as Spark's model gives it."""
        margins = np.fromiter((self.margin(t) for t in texts), dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-margins))
