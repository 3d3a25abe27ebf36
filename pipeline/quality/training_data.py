"""The classifier's labelled rows: both classes read (generic corpus reader, or the raw-page readers
of raw_pages.py), marked held-out, run through langid + heuristics (cleaning.py) and balanced.

Held-out rows: a positive is held out iff it lies in the shared WebText hold-out slice
(pipeline.quality.heldout, a hash of its text as read); a negative iff a draw from (seed, id) falls
below `classifier.holdout_fraction`. The held-out flag is fixed before cleaning and before the text
cut, so every reader of a WebText file agrees on the slice.
"""
from __future__ import annotations

import glob
import os
from typing import Iterator

import pyarrow as pa

from pipeline.core.hashing import uniform
from pipeline.quality.classifier import LABEL_COL, WEIGHT_COL
from pipeline.quality.cleaning import clean_texts
from pipeline.quality.heldout import is_heldout
from pipeline.quality.raw_pages import is_raw_page_file, read_raw_pages

BALANCE_SALT, HOLDOUT_SALT = "classifier-balance", "classifier-holdout"
REASON = "reason"
CLEAN_MODES = ("positives", "both", "none")
ROW_DDL = f"id string, text string, {LABEL_COL} double, held_out boolean, {REASON} string"


def split_specs(specs: list[str]) -> tuple[list[str], list[str]]:
    """(raw-page files for raw_pages.py, specs for the generic corpus reader). Local globs and
    folders are expanded so that one folder may hold both kinds."""
    raw, generic = [], []
    for spec in specs:
        if "://" in spec:
            generic.append(spec)
            continue
        matches = sorted(glob.glob(spec)) or [spec]
        files = [f for m in matches for f in
                 (sorted(os.path.join(d, n) for d, _, ns in os.walk(m) for n in ns) if os.path.isdir(m) else [m])]
        found = [f for f in files if is_raw_page_file(f)]
        raw += found
        generic += [spec] if not found else [f for f in files if f not in found]
    return raw, generic


def read_class(spark, specs: list[str], source: str, config: dict):
    """(DataFrame of id, text; counts of raw-page records skipped by reason)."""
    from pipeline.readers.corpus import kept, read_corpus

    raw, generic = split_specs(specs)
    ingest = config.get("ingest", {})
    frames = []
    if generic:
        frames.append(kept(read_corpus(spark, generic, source, config, text_field=ingest.get("text_field", "text"),
                                       id_field=ingest.get("id_field"), txt_mode=ingest.get("txt_mode", "file")))
                      .select("id", "text"))
    skipped: dict = {}
    if raw:
        rows, skipped = read_raw_pages(raw)
        frames.append(spark.createDataFrame([(r["id"], r["text"]) for r in rows], "id string, text string"))
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other)
    return df, skipped


def prepare_batches(config: dict):
    """mapInArrow over (id, text, label) batches -> ROW_DDL rows: held-out flag from the text as
    read, then langid + heuristics (`classifier.clean`: both classes, positives only, none), then
    the text cut."""
    settings = config["classifier"]
    seed, fraction, cut = settings["seed"], settings["holdout_fraction"], settings["text_chars"]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            ids, texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
            labels = batch.column(LABEL_COL).to_pylist()
            held = [is_heldout(t) if y == 1.0 else uniform(seed, i, HOLDOUT_SALT) < fraction
                    for i, t, y in zip(ids, texts, labels)]
            cleaned = [(t, None) if t and t.strip() else (None, "clean:empty") for t in texts]
            through = [i for i, y in enumerate(labels) if settings["clean"] == "both"
                       or (settings["clean"] == "positives" and y == 1.0)]
            for i, result in zip(through, clean_texts([texts[i] for i in through], config) if through else []):
                cleaned[i] = result
            yield pa.RecordBatch.from_arrays(
                [pa.array(ids, pa.string()), pa.array([t[:cut] if t else None for t, _ in cleaned], pa.string()),
                 pa.array(labels, pa.float64()), pa.array(held, pa.bool_()),
                 pa.array([r for _, r in cleaned], pa.string())],
                names=["id", "text", LABEL_COL, "held_out", REASON])
    return run


def labelled_rows(spark, positives: list[str], negatives: list[str], config: dict):
    """(ROW_DDL DataFrame, counts of raw-page records skipped per class)."""
    from pyspark.sql import functions as F

    pos, pos_skipped = read_class(spark, positives, "curated", config)
    neg, neg_skipped = read_class(spark, negatives, "commoncrawl", config)
    both = (pos.withColumn(LABEL_COL, F.lit(1.0)).unionByName(neg.withColumn(LABEL_COL, F.lit(0.0)))
            .coalesce(max(1, spark.sparkContext.defaultParallelism)))
    return both.mapInArrow(prepare_batches(config), ROW_DDL), {"positives": pos_skipped, "negatives": neg_skipped}


def balance(train, n_pos: int, n_neg: int, settings: dict):
    """Training rows balanced by `classifier.balance`: `weight` keeps every row and adds class
    weights n / (2 n_class) (the classes weigh the same in the loss); `downsample` draws each class
    down to the smaller count (at most `max_per_class`) from (seed, id)."""
    from pyspark.sql import functions as F

    from pipeline.quality.sampling import uniform_column

    if settings["balance"] == "weight":
        total = n_pos + n_neg
        weight = F.when(F.col(LABEL_COL) == 1.0, F.lit(total / (2.0 * n_pos))).otherwise(F.lit(total / (2.0 * n_neg)))
        return train.withColumn(WEIGHT_COL, weight), {"weight_positive": total / (2.0 * n_pos),
                                                      "weight_negative": total / (2.0 * n_neg)}
    target = min(n_pos, n_neg, settings["max_per_class"])
    fraction = F.when(F.col(LABEL_COL) == 1.0, F.lit(target / n_pos)).otherwise(F.lit(target / n_neg))
    sampled = train.where(uniform_column("id", settings["seed"], BALANCE_SALT) < fraction)
    return sampled.withColumn(WEIGHT_COL, F.lit(1.0)), {"per_class_target": target}
