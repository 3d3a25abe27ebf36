"""The quality filter's last two document steps (pipeline/steps), in the worker that extracts:
`score` gives each document the classifier's P(high quality) and `sample` applies GPT-3's keep rule.

The filter scores through the classifier's pure-Python scoring interface
(`classifier.ExportedModel.load(model_dir).score_texts(texts)`: the exported weights of the Spark
model, equal to its probability to ~1e-12, or a fastText model), so a page is read, extracted,
language-identified, filtered, scored and sampled in one pass by the worker that read it; the model
is loaded once per worker process. quality_filter appends these steps when it is given `--model`.
"""
from __future__ import annotations

import numpy as np

from pipeline.quality.classifier import SCORE_COLUMN, ExportedModel
from pipeline.quality.sampling import keep_draws, pareto_keep
from pipeline.steps.base import Step, StepList

SAMPLE_DROP = "sample:pareto"
_models: dict = {}   # per worker process: loaded once, reused by every task


def _model(model_dir: str):
    if model_dir not in _models:
        _models[model_dir] = ExportedModel.load(model_dir)
    return _models[model_dir]


class Score(Step):
    """Sets `quality_score`; drops nothing. Picklable: travels as the folder name, loads there."""
    name = "score"

    def __init__(self, model_dir: str):
        self.model_dir = model_dir

    def filter(self, docs: list[dict]) -> list[str | None]:
        scores = _model(self.model_dir).score_texts([doc["text"] for doc in docs])
        for doc, score in zip(docs, scores.tolist()):
            doc[SCORE_COLUMN] = score
        return [None] * len(docs)


class Sample(Step):
    """Keeps a document iff a Lomax(alpha) draw from (seed, id) exceeds 1 - score (GPT-3,
    Appendix A); drops `sample:pareto`. A missing score is never kept."""
    name = "sample"

    def __init__(self, alpha: float, seed: int):
        self.alpha, self.seed = float(alpha), int(seed)

    def reasons(self):
        return ("pareto",)

    def filter(self, docs: list[dict]) -> list[str | None]:
        scores = np.array([np.nan if d[SCORE_COLUMN] is None else d[SCORE_COLUMN] for d in docs], dtype=np.float64)
        keep = pareto_keep(keep_draws(self.seed, [d["id"] for d in docs]), scores, self.alpha)
        return [None if k else SAMPLE_DROP.split(":", 1)[1] for k in keep.tolist()]


def keep_steps(model_dir: str, config: dict) -> StepList:
    """score, then sample unless `quality_filter.sample` is false (score everything, keep all)."""
    qf = config["quality_filter"]
    return StepList([Score(model_dir), *([Sample(qf["alpha"], qf["seed"])] if qf["sample"] else [])])

