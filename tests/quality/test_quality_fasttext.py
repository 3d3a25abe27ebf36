"""The fastText kind of the quality classifier on a small real corpus (WebText vs raw CommonCrawl):
training is finite and reproducible even in a process whose heap holds old bytes (fastText 0.9.3
leaves nine tenths of its input matrix uninitialised with thread=1; see fasttext_model.py)."""
import gzip
import json

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.quality.fasttext_model import FastTextModel, train

SETTINGS = {"seed": 7, "text_chars": 3000,
            "fasttext": {"dim": 16, "epoch": 5, "lr": 0.1, "word_ngrams": 2, "min_count": 1,
                         "bucket": 100000, "cutoff": 5000}}


def _corpus(realdata):
    webtext = realdata / "text/webtext/innerfirexy_webtext.test.split.400.jsonl"
    positives = [json.loads(line)["text"] for line in webtext.read_text(encoding="utf-8").splitlines()][:200]
    with gzip.open(realdata / "text/cc_raw/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as fh:
        negatives = [t for t in (json.loads(line).get("text") for line in fh) if t][:200]
    return positives, negatives


def _dirty_heap():
    """Leave ~25 MB of freed NaN bytes at the top of the heap, where an in-process fastText
    allocates its input matrix: the first big block is mmapped and, freed, raises glibc's mmap
    threshold, so the second comes from the heap."""
    for _ in range(2):
        block = np.full(25 << 17, np.nan)
        del block


def test_fasttext_trains_finite_reproducible_and_separates_real_text(realdata, tmp_path):
    positives, negatives = _corpus(realdata)
    rows = [(f"p{i}", t, 1, 1) for i, t in enumerate(positives[:150])]
    rows += [(f"n{i}", t, 0, 1) for i, t in enumerate(negatives[:150])]
    rows.append(("empty", "", 0, 1))                 # an empty document is a line fastText skips
    paths = [tmp_path / "a.ftz", tmp_path / "b.ftz"]
    for path in paths:
        _dirty_heap()
        info = train(rows, SETTINGS, str(path))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert info["fasttext"]["thread"] == 1 and info["fasttext"]["training_lines"] == len(rows)

    held_texts = positives[150:] + negatives[150:]
    labels = np.array([1] * len(positives[150:]) + [0] * len(negatives[150:]))
    scores = FastTextModel.load(str(paths[0]), SETTINGS["text_chars"]).score_texts(held_texts)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    assert roc_auc_score(labels, scores) > 0.75
