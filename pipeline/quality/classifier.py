"""Scoring with the GPT-3 quality classifier: in Spark with the saved PipelineModel, or in plain
Python with the weights exported beside it (same features, same numbers to ~1e-12).

A model folder, as `train_classifier.py` writes it:
    spark_model/   the Spark PipelineModel (cut text -> tokenizer -> HashingTF [-> Normalizer | IDF]
                   -> LogisticRegression)
    weights.npz    coefficients, intercept and (idf form) the IDF vector, for `ExportedModel`
    model.json     kind, feature form, HashingTF width, characters seen per document, training summary
    report.json    held-out and human-label metrics (see docs/classifier.md)
A fastText model folder (`classifier.model=fasttext`) holds model.ftz instead of spark_model/ and
weights.npz. `ExportedModel.load` reads either kind; the folder name `default` is the model that
ships with the package (pipeline/quality/default_model, see its RECIPE.md).
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import fsspec
import numpy as np

from pipeline.core.config import InputError
from pipeline.quality.features import TOKEN_PATTERN, hashed_matrix
from pipeline.core.output import fs_url

FEATURE_FORMS = ("raw", "l2", "idf")
MODEL_KINDS = ("logreg", "fasttext")
BALANCE_MODES = ("weight", "downsample")
SOLVERS = ("driver", "spark")     # logreg: scikit-learn LBFGS on the driver | Spark ML (GPT-3 as written)
DEFAULT_MODEL = "default"
DEFAULT_MODEL_DIR = str(Path(__file__).resolve().parent / "default_model")
SCORE_COLUMN = "quality_score"
SPARK_MODEL_DIR = "spark_model"
WEIGHTS_FILE = "weights.npz"
MODEL_FILE = "model.json"
REPORT_FILE = "report.json"

# Columns the pipeline adds; prefixed so they never collide with a document column.
TEXT_COL, TOKENS_COL, TF_COL, FEATURES_COL = "_clf_text", "_clf_tokens", "_clf_tf", "_clf_features"
RAW_COL, PROB_COL, PRED_COL = "_clf_raw", "_clf_probability", "_clf_prediction"
LABEL_COL, WEIGHT_COL = "label", "weight"


def build_pipeline(features: str, num_features: int, text_chars: int, reg_param: float,
                   elastic_net_param: float, max_iter: int, weighted: bool = False,
                   standardization: bool = True):
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
        regParam=reg_param, elasticNetParam=elastic_net_param, maxIter=max_iter, standardization=standardization,
        **({"weightCol": WEIGHT_COL} if weighted else {})))
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


def resolve_model_dir(model_dir: str) -> str:
    """`default` is the shipped model's folder inside the package; anything else is a path."""
    return DEFAULT_MODEL_DIR if model_dir == DEFAULT_MODEL else model_dir


def model_file(model_dir: str, name: str) -> str:
    """A file of the model folder as fsspec opens it (Hadoop's s3a:// is fsspec's s3://)."""
    return fs_url(f"{resolve_model_dir(model_dir).rstrip('/')}/{name}")


def read_info(model_dir: str) -> dict:
    with fsspec.open(model_file(model_dir, MODEL_FILE), "r", encoding="utf-8") as fh:
        return json.load(fh)


def scoring_files(kind: str) -> tuple[str, ...]:
    """The files the pure-Python scorer of a model kind reads."""
    from pipeline.quality.fasttext_model import FASTTEXT_FILE

    return (MODEL_FILE, FASTTEXT_FILE) if kind == "fasttext" else (MODEL_FILE, WEIGHTS_FILE)


def check_model_dir(model_dir: str) -> None:
    """One-line InputError when a model folder lacks a file scoring needs (call before Spark)."""
    fs, path = fsspec.core.url_to_fs(model_file(model_dir, MODEL_FILE))
    kind = read_info(model_dir).get("kind", "logreg") if fs.exists(path) else "logreg"
    for name in scoring_files(kind):
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
    write_weights(model_dir, lr.coefficients.toArray(), lr.intercept, idf[0].idf.toArray() if idf else None, info)


def write_weights(model_dir: str, coefficients, intercept: float, idf, info: dict) -> None:
    """weights.npz (coefficients, intercept, idf vector for the idf form) and model.json."""
    arrays = {"coefficients": np.asarray(coefficients, dtype=np.float64),
              "intercept": np.array([intercept], dtype=np.float64)}
    if idf is not None:
        arrays["idf"] = np.asarray(idf, dtype=np.float64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with fsspec.open(model_file(model_dir, WEIGHTS_FILE), "wb") as fh:
        fh.write(buffer.getvalue())
    write_json(model_file(model_dir, MODEL_FILE), info)


def feature_rows(counts, features: str, idf: np.ndarray | None = None):
    """A CSR matrix of HashingTF counts in a feature form, as the Spark stages transform it."""
    if features == "l2":
        # Spark's Normalizer (p=2; an all-zero row stays zero) by hand, not sklearn's normalize:
        # importing scikit-learn costs every Spark worker ~0.6 s for one line of arithmetic.
        counts = counts.tocsr().astype(np.float64)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return counts.multiply(1.0 / norms.reshape(-1, 1)).tocsr()
    if features == "idf":
        return counts.multiply(idf.reshape(1, -1)).tocsr()
    return counts


def spark_idf(counts) -> np.ndarray:
    """Spark's IDF vector: log((m + 1) / (df + 1)) over the m training documents."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((counts.shape[0] + 1.0) / (df + 1.0))


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
    def load(cls, model_dir: str):
        """The scorer of a model folder (or `default`): an ExportedModel, or for a fastText folder a
        FastTextModel with the same `score_texts`."""
        info = read_info(model_dir)
        if info.get("kind", "logreg") == "fasttext":
            return _load_fasttext(model_dir, info)
        with fsspec.open(model_file(model_dir, WEIGHTS_FILE), "rb") as fh:
            data = io.BytesIO(fh.read())
        with np.load(data) as w:
            return cls(w["coefficients"], float(w["intercept"][0]), info["features"],
                       info["num_features"], info["text_chars"], w["idf"] if "idf" in w else None)

    def margins(self, texts) -> np.ndarray:
        """Spark's rawPrediction[1] of each text: one sparse product over the batch's features."""
        counts = hashed_matrix(texts, self.num_features, self.text_chars)
        return feature_rows(counts, self.features, self.idf) @ self.coefficients + self.intercept

    def score_texts(self, texts) -> np.ndarray:
        """P(high quality) of each text, as Spark's model gives it."""
        from scipy.special import expit     # 1 / (1 + exp(-m)) without overflow warnings

        return expit(self.margins(texts))


def _load_fasttext(model_dir: str, info: dict):
    from fsspec.implementations.local import LocalFileSystem

    from pipeline.quality.fasttext_model import FASTTEXT_FILE, FastTextModel

    fs, path = fsspec.core.url_to_fs(model_file(model_dir, FASTTEXT_FILE))
    if isinstance(fs, LocalFileSystem):
        return FastTextModel.load(path, info["text_chars"])
    with tempfile.TemporaryDirectory() as tmp:   # fastText reads local files only
        local = f"{tmp}/{FASTTEXT_FILE}"
        fs.get(path, local)
        return FastTextModel.load(local, info["text_chars"])
