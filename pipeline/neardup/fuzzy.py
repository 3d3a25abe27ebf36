"""Candidate edges from LSH buckets, their verification, and clusters.

Buckets are (band, band value) — plus the source in the within-source pass. A bucket never yields all
its pairs: every member is linked to the bucket's smallest node (a star), so edges grow linearly with
bucket size. Nodes are numbered in (source priority, id) order, so the smallest node of a cluster is
its survivor. A bucket larger than `max_bucket_size` yields no edge (counted as
`lsh:bucket_over_cap`): it would pin one task to a huge group and, with single-row bands, holds
mostly unrelated documents.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.neardup.lsh import LshParams


def band_rows(nodes: DataFrame, params: LshParams) -> DataFrame:
    """(node, rank, band, key): one row per document and band; key = that band's signature bytes."""
    width = params.rows * 4
    bands = F.array(*[F.struct(F.lit(i).alias("band"), F.substring("sig", i * width + 1, width).alias("key"))
                      for i in range(params.bands)])
    return (nodes.where(F.col("sig").isNotNull())
            .select("node", "rank", F.explode(bands).alias("b"))
            .select("node", "rank", "b.band", "b.key"))


def star_edges(bands: DataFrame, params: LshParams, within_source: bool) -> tuple[DataFrame, DataFrame]:
    """(edges a=root, b=member; over-cap bucket sizes). Cross-source: only members of another source
    than the bucket's root (its highest-priority source)."""
    bucket = ["band", "key", *(["rank"] if within_source else [])]
    sizes = (bands.groupBy(*bucket)
             .agg(F.count("*").alias("size"), F.min("node").alias("root"), F.min("rank").alias("root_rank"))
             .where(F.col("size") > 1))
    over_cap = sizes.where(F.col("size") > params.max_bucket_size).select("size")
    kept = sizes.where(F.col("size") <= params.max_bucket_size)
    edges = bands.join(kept, bucket).where(F.col("node") != F.col("root"))
    if not within_source:
        edges = edges.where(F.col("rank") != F.col("root_rank"))
    return edges.select(F.col("root").alias("a"), F.col("node").alias("b")).distinct(), over_cap


def _similarity(mode: str, fa: list, fb: list) -> np.ndarray:
    if mode == "estimated":
        a = np.frombuffer(b"".join(fa), dtype="<u4").reshape(len(fa), -1)
        b = np.frombuffer(b"".join(fb), dtype="<u4").reshape(len(fb), -1)
        return (a == b).mean(axis=1) if len(fa) else np.empty(0)
    out = np.empty(len(fa))
    for i, (x, y) in enumerate(zip(fa, fb)):
        x, y = np.frombuffer(x, dtype="<u4"), np.frombuffer(y, dtype="<u4")
        common = len(np.intersect1d(x, y, assume_unique=True))
        out[i] = common / (len(x) + len(y) - common)
    return out


def _similarity_batches(mode: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            sim = _similarity(mode, batch.column("fa").to_pylist(), batch.column("fb").to_pylist())
            yield pa.RecordBatch.from_arrays([batch.column("a"), batch.column("b"), pa.array(sim)],
                                             names=["a", "b", "similarity"])
    return run


def verify_edges(edges: DataFrame, nodes: DataFrame, params: LshParams) -> DataFrame:
    """Edges whose similarity reaches the threshold: estimated Jaccard of the two signatures, or the
    exact Jaccard of the two HashingTF term sets; all edges when verify is none."""
    if params.verify == "none":
        return edges.withColumn("similarity", F.lit(None).cast("double"))
    column = "sig" if params.verify == "estimated" else "terms"
    feature = nodes.select("node", column)
    pairs = (edges.join(feature.withColumnsRenamed({"node": "a", column: "fa"}), "a")
             .join(feature.withColumnsRenamed({"node": "b", column: "fb"}), "b"))
    scored = pairs.select("a", "b", "fa", "fb").mapInArrow(
        _similarity_batches(params.verify), "a long, b long, similarity double")
    return scored.where(F.col("similarity") >= params.threshold)
