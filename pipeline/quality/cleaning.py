"""Language ID and the heuristics on the classifier's training texts, so that both classes look
like what the filter scores (the filter scores only documents that passed langid + heuristics; the
raw negatives are about a third non-English, and without this step the model learns language ID).

`clean_texts` is plain Python on a batch of texts, through the same document steps and config the
filter runs (pipeline.steps.run_steps); `clean_batches` is its mapInArrow form for Spark.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa

REASON_COL = "_clf_drop"
TEXT_STEPS = ("langid", "c4_lines", "gopher_quality", "gopher_repetition")   # the filter's steps after extract


def clean_texts(texts: list[str | None], config: dict) -> list[tuple[str | None, str | None]]:
    """(cleaned text, None) or (None, "step:reason") per text, through the configured document
    steps (langid, C4 lines, Gopher rules) in this process."""
    from pipeline.steps import run_steps

    result = run_steps(texts, config, TEXT_STEPS)
    return list(zip(result.texts, result.reasons))


def clean_batches(config: dict):
    """mapInArrow function: `text` replaced by its cleaned form and REASON_COL (null = kept)
    appended as the last column."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            results = clean_texts(batch.column("text").to_pylist(), config)
            names = batch.schema.names
            arrays = [pa.array([t for t, _ in results], pa.string()) if name == "text" else batch.column(name)
                      for name in names]
            yield pa.RecordBatch.from_arrays([*arrays, pa.array([r for _, r in results], pa.string())],
                                             names=[*names, REASON_COL])
    return run
