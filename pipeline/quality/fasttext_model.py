"""The fastText kind of the quality classifier (DCLM's recipe: fastText supervised with word
bigrams), trained on the driver and scored in the filter's Python workers, batched.

Reproducibility: fastText's Hogwild SGD is only deterministic with one thread, so `thread=1` and
a fixed seed; the training file is written in a deterministic order (a draw from (seed, id)), one
document a line with newlines folded. `quantize(qnorm=True, cutoff=..., retrain=True)` keeps the
shipped file small (well under 10 MB).

Why training runs in a child process: fastText 0.9.3 initialises the input matrix in ten blocks,
one per thread (`DenseMatrix::uniform`), so with `thread=1` only the first tenth is drawn and the
rest is whatever `posix_memalign` returned (0.9.2's std::vector zeroed it). In a process whose heap
has been used (a Spark driver) that memory holds old bytes: training then differs from run to run
and often stops with "Encountered NaN." A fresh interpreter with glibc's mmap threshold pinned
(`MALLOC_MMAP_THRESHOLD_`, no dynamic raise) gets that matrix from mmap, i.e. zeroed, which is
0.9.2's behaviour: deterministic and finite.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from pipeline.core.hashing import uniform

FASTTEXT_FILE = "model.ftz"
POSITIVE, NEGATIVE = "__label__hq", "__label__cc"
ORDER_SALT = "classifier-fasttext-order"


def prepare(text: str | None, text_chars: int) -> str:
    """One line per document: the cut text, lower-cased, whitespace runs folded into one space."""
    return " ".join((text or "")[:text_chars].lower().split())


def training_lines(rows: list[tuple[str, str, int, int]], seed: int, text_chars: int) -> list[str]:
    """`__label__X text` lines from (id, text, label, repeats) rows, in the order of a (seed, id)
    draw (each repeat of a row gets its own draw, so copies are spread over the epoch)."""
    keyed = []
    for doc_id, text, label, repeats in rows:
        line = f"{POSITIVE if label else NEGATIVE} {prepare(text, text_chars)}"
        for copy in range(repeats):
            keyed.append((uniform(seed, f"{doc_id}#{copy}", ORDER_SALT), doc_id, copy, line))
    keyed.sort()
    return [line for *_, line in keyed]


# Run by a fresh interpreter (see the module docstring): train, quantize, save.
_TRAIN_SCRIPT = """
import json, sys
import fasttext
job = json.loads(sys.argv[1])
model = fasttext.train_supervised(input=job["input"], **job["train"])
model.quantize(input=job["input"], **job["quantize"])
model.save_model(job["output"])
"""
_MMAP_THRESHOLD_BYTES = "131072"     # glibc's initial value, pinned so large blocks always come from mmap


def train(rows: list[tuple[str, str, int, int]], settings: dict, path: str) -> dict:
    """Train, quantize and save to `path`; returns what model.json records about it."""
    ft = settings["fasttext"]
    lines = training_lines(rows, settings["seed"], settings["text_chars"])
    params = dict(lr=float(ft["lr"]), dim=int(ft["dim"]), epoch=int(ft["epoch"]),
                  wordNgrams=int(ft["word_ngrams"]), minCount=int(ft["min_count"]),
                  bucket=int(ft["bucket"]), loss="softmax", thread=1, seed=int(settings["seed"]),
                  verbose=0)
    quantize = dict(qnorm=True, cutoff=int(ft["cutoff"]), retrain=True, thread=1, epoch=int(ft["epoch"]),
                    lr=float(ft["lr"]), verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
        env["MALLOC_MMAP_THRESHOLD_"] = _MMAP_THRESHOLD_BYTES
        job = json.dumps({"input": train_file, "output": path, "train": params, "quantize": quantize})
        done = subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, job], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"fastText training failed: {done.stderr.strip().splitlines()[-1:]}")
    return {"fasttext": {**params, "cutoff": int(ft["cutoff"]), "quantized": True,
                         "training_lines": len(lines)}}


class FastTextModel:
    """Scores like ExportedModel: P(high quality) per text, for a list of texts at once."""

    def __init__(self, model, text_chars: int):
        self.model, self.text_chars = model, int(text_chars)

    @classmethod
    def load(cls, path: str, text_chars: int) -> "FastTextModel":
        import fasttext

        return cls(fasttext.load_model(path), text_chars)

    def score_texts(self, texts) -> np.ndarray:
        # List input: fastText 0.9.3 under numpy 2 fails on a single string (see pipeline/text/langid.py).
        lines = [prepare(t, self.text_chars) for t in texts]
        if not lines:
            return np.zeros(0, dtype=np.float64)
        labels, probs = self.model.predict(lines, k=2, threshold=0.0)
        scores = np.empty(len(lines), dtype=np.float64)
        for i, (names, p) in enumerate(zip(labels, probs)):
            by_label = dict(zip(names, np.minimum(np.asarray(p, dtype=np.float64), 1.0)))
            scores[i] = by_label.get(POSITIVE, 1.0 - by_label.get(NEGATIVE, 1.0))
        return scores
