"""Scoring and GPT-3's keep rule in the Python worker, one batch of staged rows at a time.

The filter scores with the weights `train_classifier.py` exports beside the Spark model
(`classifier.ExportedModel`: the same tokenizer, HashingTF and logistic regression, equal to the
PipelineModel's probability to ~1e-12; tests/quality checks it). So a page is read, extracted,
language-identified, filtered, scored and sampled in one pass by the worker that read it: no
second Arrow round trip for a pandas UDF, no JVM feature vectors, and the model is loaded once
per worker process.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.schema import DROP_REASON
from pipeline.quality.classifier import SCORE_COLUMN, ExportedModel
from pipeline.quality.sampling import keep_draws, pareto_keep

SAMPLE_DROP = "sample:pareto"
_models: dict[str, ExportedModel] = {}   # per worker process: loaded once, reused by every task


def _model(model_dir: str) -> ExportedModel:
    if model_dir not in _models:
        _models[model_dir] = ExportedModel.load(model_dir)
    return _models[model_dir]


class QualityKeep:
    """Score the documents still kept; unless `sample` is off, drop with `sample:pareto` those whose
    Lomax(alpha) draw from (seed, id) does not exceed 1 - score. Picklable: it travels to the
    workers as settings and loads the model there."""

    def __init__(self, model_dir: str, alpha: float, seed: int, sample: bool, snippet_chars: int):
        self.model_dir, self.alpha, self.seed = model_dir, float(alpha), int(seed)
        self.sample, self.snippet_chars = bool(sample), int(snippet_chars)

    @classmethod
    def from_config(cls, model_dir: str, config: dict, snippet_chars: int) -> "QualityKeep":
        qf = config["quality_filter"]
        return cls(model_dir, qf["alpha"], qf["seed"], qf["sample"], snippet_chars)

    def decide(self, ids: list[str], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and keep decisions of live documents."""
        scores = _model(self.model_dir).score_texts(texts)
        if not self.sample:
            return scores, np.ones(len(ids), dtype=bool)
        return scores, pareto_keep(keep_draws(self.seed, ids), scores, self.alpha)

    def rows(self, rows: list[dict]) -> list[dict]:
        """Staged rows (dicts) in place: the reader's per-batch step."""
        live = [row for row in rows if row[DROP_REASON] is None]
        if live:
            scores, keep = self.decide([r["id"] for r in live], [r["text"] for r in live])
            for row, score, kept in zip(live, scores.tolist(), keep.tolist()):
                row[SCORE_COLUMN] = score
                if not kept:
                    row[DROP_REASON] = SAMPLE_DROP
                    row["text"] = (row["text"] or "")[: self.snippet_chars]
        return rows

    def batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The same step as a mapInArrow function over staged batches (already extracted documents)."""
        for batch in batches:
            live = pc.is_null(batch.column(DROP_REASON)).to_numpy(zero_copy_only=False)
            index = np.flatnonzero(live)
            if not len(index):
                yield batch
                continue
            ids, texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
            scores, keep = self.decide([ids[i] for i in index], [texts[i] for i in index])
            score = batch.column(SCORE_COLUMN).to_pylist()
            reason = batch.column(DROP_REASON).to_pylist()
            for i, s, k in zip(index.tolist(), scores.tolist(), keep.tolist()):
                score[i] = s
                if not k:
                    reason[i], texts[i] = SAMPLE_DROP, (texts[i] or "")[: self.snippet_chars]
            columns = {SCORE_COLUMN: pa.array(score, pa.float64()), DROP_REASON: pa.array(reason, pa.string()),
                       "text": pa.array(texts, pa.string())}
            yield pa.RecordBatch.from_arrays(
                [columns.get(name, batch.column(name)) for name in batch.schema.names], schema=batch.schema)
