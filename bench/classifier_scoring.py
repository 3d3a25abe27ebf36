"""Scoring cost of the quality classifier in the filter's score step (ms per document), against the
per-document path it replaced, measured in the same run on the same documents.

Documents: real, distinct texts of the kind the filter scores (C4's cleaned English CommonCrawl,
the Dolma CC page file, WebText's test split), in batches of the filter's batch size
(`langid.batch_size`). Both paths first score a warm-up set of other documents (WebText's train
file), so the model is loaded and the old path's term cache is as warm as in a worker that has
run for a while. The baseline is the path the filter used before (one document at a time:
regex split, a cached scikit-learn murmur3 call per token, np.unique, a dense dot product); it lives
only here. Scores of both paths must agree to 1e-12.

    .venv/bin/python bench/classifier_scoring.py [--model default] [--realdata ../shared/realdata] [--repeats 3]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core.config import load_config  # noqa: E402
from pipeline.quality.classifier import ExportedModel  # noqa: E402

DOCUMENTS = ["text/c4/wimbd_c4-sample.00000-of-00001.json.gz",
             "text/cc_raw/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
             "text/webtext/innerfirexy_webtext.test.split.*.jsonl"]
WARM_UP = "text/webtext/LLM4EDA_webtext.train.ids0-1407.clean.jsonl"


def read_texts(realdata: Path, pattern: str) -> list[str]:
    texts = []
    for path in sorted(realdata.glob(pattern)):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


# --- the baseline: the per-document scorer the filter used before (kept only in this bench) ------
_JAVA_WHITESPACE = re.compile(r"[ \t\n\x0b\f\r]+")


@lru_cache(maxsize=1 << 20)
def _old_term_index(term: str, num_features: int) -> int:
    from sklearn.utils import murmurhash3_32

    return murmurhash3_32(term.encode("utf-8", "surrogatepass"), seed=42) % num_features


def old_score_texts(model: ExportedModel, texts) -> np.ndarray:
    margins = np.empty(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        tokens = [t for t in _JAVA_WHITESPACE.split((text or "")[: model.text_chars].lower()) if t]
        buckets = np.fromiter((_old_term_index(t, model.num_features) for t in tokens), dtype=np.int64,
                              count=len(tokens))
        indices, counts = np.unique(buckets, return_counts=True)
        values = counts.astype(np.float64)
        if model.features == "l2":
            norm = np.sqrt(np.dot(values, values))
            if norm > 0:
                values = values / norm
        elif model.features == "idf":
            values = values * model.idf[indices]
        margins[i] = float(np.dot(model.coefficients[indices], values)) + model.intercept
    return 1.0 / (1.0 + np.exp(-margins))


def timed(score, batches) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    scores = np.concatenate([score(batch) for batch in batches])
    return time.perf_counter() - start, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="classifier folder (default: the shipped model)")
    parser.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"))
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per path (the best is reported)")
    args = parser.parse_args()
    realdata = Path(args.realdata)
    texts = [t for pattern in DOCUMENTS for t in read_texts(realdata, pattern)]
    warm_up = read_texts(realdata, WARM_UP)
    if not texts or not warm_up:
        print(f"real data not found at {realdata}")
        return 2
    size = int(load_config()["langid"]["batch_size"])
    batches = [texts[i:i + size] for i in range(0, len(texts), size)]
    model = ExportedModel.load(args.model)
    if not isinstance(model, ExportedModel):
        print("this bench compares the logistic-regression scorers; the model is another kind")
        return 2
    paths = {"old (per document)": lambda batch: old_score_texts(model, batch), "new (per batch)": model.score_texts}
    best, scores = {}, {}
    for name, score in paths.items():
        score(warm_up)
        best[name] = min(timed(score, batches)[0] for _ in range(args.repeats))
        scores[name] = timed(score, batches)[1]
    old, new = paths
    difference = float(np.max(np.abs(scores[old] - scores[new])))
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} documents ({words / len(texts):.0f} words, {sum(map(len, texts)) / len(texts):.0f} "
          f"characters each), batches of {size}, model {args.model} ({model.features}), best of {args.repeats}")
    for name in paths:
        print(f"  {name:20s} {best[name] / len(texts) * 1000:.3f} ms/doc")
    print(f"  speed-up {best[old] / best[new]:.1f}x; max |score difference| {difference:.2e}")
    return 0 if difference <= 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
