"""`spark-submit pipeline/dedup.py`: exact then fuzzy deduplication, within each source and then
across sources in priority order (see docs/dedup.md)."""
from __future__ import annotations

import argparse
import logging
from typing import Callable

import fsspec
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.core import output
from pipeline.core.config import ConfigError
from pipeline.core.job import Job
from pipeline.core.schema import DOC_ARROW_SCHEMA, DOC_SPARK_DDL
from pipeline.neardup import fuzzy, lsh
from pipeline.neardup.components import connected_components
from pipeline.neardup.inputs import check_schemas, parse_inputs, parse_priority
from pipeline.neardup.sketch import KEYS_DDL, sketch_batches
from pipeline.neardup.survivors import REMOVED_COLUMNS, cluster_removals, exact_duplicates, size_histogram

log = logging.getLogger("webmix.neardup")

REMOVED_DIR = "removed"
WORK_DIR = "_work"
CHECKPOINT_DIR = "checkpoints"  # reliable checkpoints, under WORK_DIR
REASONS = ("exact_url", "exact_content", "near_within", "near_cross")



def read_docs(spark: SparkSession, path: str) -> DataFrame:
    """An input folder projected onto the document schema (extra columns are not carried over)."""
    types = dict(field.split(" ", 1) for field in DOC_SPARK_DDL.split(", "))
    return spark.read.parquet(path).select(*[F.col(c).cast(t).alias(c) for c, t in types.items()])


class FuzzyPass:
    """One LSH + connected-components pass (within each source, or across sources)."""

    def __init__(self, params: lsh.LshParams, checkpoint, cross_source: bool, max_rounds: int):
        self.params, self.checkpoint, self.cross = params, checkpoint, cross_source
        self.max_rounds = max_rounds
        self.stats: dict = {}
        self.verified: DataFrame | None = None   # kept for inspection (tests, debugging)

    def run(self, nodes: DataFrame) -> DataFrame:
        """Removed rows for `nodes` (node, rank, id, sig, terms)."""
        bands = fuzzy.band_rows(nodes, self.params)
        candidates, over_cap = fuzzy.star_edges(bands, self.params, within_source=not self.cross)
        candidates = self.checkpoint(candidates)
        over = over_cap.agg(F.count("*").alias("buckets"), F.sum("size").alias("rows")).first()
        verified = self.verified = self.checkpoint(fuzzy.verify_edges(candidates, nodes, self.params))
        components, rounds = connected_components(verified.select("a", "b"), self.checkpoint, self.max_rounds)
        self.stats = {"candidate_edges": candidates.count(), "verified_edges": verified.count(),
                      "bucket_over_cap": {"buckets": over["buckets"], "rows": int(over["rows"] or 0)},
                      "component_rounds": rounds}
        reason = "near_cross" if self.cross else "near_within"
        return cluster_removals(components, nodes, reason, cross_source=self.cross)


def checkpointer(spark: SparkSession, work: str, kind: str) -> Callable[[DataFrame], DataFrame]:
    """Materialise a table that later steps read several times and cut its lineage, so the plans of
    the iterative steps stay small.

    reliable (default): files under the stage's work folder, on the output's filesystem, removed with
    it. An executor lost after a checkpoint costs only its running tasks. local: the executors' block
    managers; cheaper on one machine, but a lost executor holds the only copy of its blocks and the
    whole job fails (found by killing an executor on a standalone cluster)."""
    if kind == "local":
        return lambda df: df.localCheckpoint(eager=True)
    spark.sparkContext.setCheckpointDir(output.join(work, CHECKPOINT_DIR))
    return lambda df: df.checkpoint(eager=True)


def number_nodes(live: DataFrame) -> DataFrame:
    """Documents with a signature, numbered in (priority, id) order: a cluster's smallest node is its
    survivor. The numbers depend on the partitioning; their order, and so every result, does not."""
    return (live.where(F.col("sig").isNotNull()).select("rank", "id", "sig", "terms")
            .orderBy("rank", "id").withColumn("node", F.monotonically_increasing_id()))


def fuzzy_removals(nodes: DataFrame, params: lsh.LshParams, cross_source: bool, max_rounds: int,
                   checkpoint) -> tuple[list[DataFrame], dict[str, FuzzyPass]]:
    """Near-duplicates removed within each source, then (optionally) across sources among the
    survivors."""
    removed, passes = [], {}
    for label, cross in [("within", False)] + ([("cross", True)] if cross_source else []):
        fuzzy_pass = passes[label] = FuzzyPass(params, checkpoint, cross, max_rounds)
        gone = checkpoint(fuzzy_pass.run(nodes))
        removed.append(gone)
        nodes = nodes.join(gone.select("rank", "id"), ["rank", "id"], "left_anti")
    return removed, passes


class DedupJob(Job):
    name = "dedup"
    sections = ("classifier",)     # the gpt3 preset hashes terms into classifier.num_features buckets
    description = (
        "Exact (normalised URL, normalised-text hash) then fuzzy (MinHash LSH) deduplication of "
        "document folders, within each source and then across sources: a lower-priority source loses "
        "its near-duplicates of a higher-priority one (GPT-3: WebText removed from Common Crawl).\n\n"
        "example: spark-submit pipeline/dedup.py --input webtext=docs/webtext "
        "--input commoncrawl=docs/cc --priority webtext,commoncrawl --output curated/ dedup.preset=gpt3")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", action="append", default=[], metavar="NAME=DIR", required=True,
                            help="a source name and its document folder (repeat for each source)")
        parser.add_argument("--priority", help="source names, highest priority first, comma-separated "
                                               "(default: the order of --input)")
        parser.add_argument("--output", required=True,
                            help="folder for OUTPUT/<source>/, OUTPUT/removed/ and OUTPUT/_stats.json")
        parser.add_argument("--preset", help="shorthand for dedup.preset=NAME (fineweb, gpt3, custom)")

    def flag_overrides(self, args) -> list[str]:
        return [f"dedup.preset={args.preset}"] if args.preset else []

    def validate(self, args, config: dict) -> None:
        self.inputs = parse_inputs(args.input)
        self.order = parse_priority(args.priority, list(self.inputs))
        self.params = lsh.from_config(config["dedup"], config["classifier"]["num_features"])
        if config["dedup"]["checkpoint"] not in ("reliable", "local"):
            raise ConfigError(f"config key 'dedup.checkpoint' is {config['dedup']['checkpoint']!r}; "
                              "use reliable or local")
        if config["dedup"]["max_component_rounds"] < 1:
            raise ConfigError("config key 'dedup.max_component_rounds' must be >= 1")
        check_schemas(self.inputs)

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return [self.inputs[name] for name in self.order]

    def run(self, spark: SparkSession, args, config: dict) -> dict:
        conf = config["dedup"]
        print(lsh.format_s_curve(self.params), flush=True)
        work = output.join(args.output, WORK_DIR)
        try:
            return self._run(spark, args.output, work, conf)
        finally:
            fs, path = fsspec.core.url_to_fs(output.fs_url(work))
            if fs.exists(path):
                fs.rm(path, recursive=True)

    def _run(self, spark: SparkSession, out: str, work: str, conf: dict) -> dict:
        docs = {name: read_docs(spark, self.inputs[name]) for name in self.order}
        ranked = None
        for rank, name in enumerate(self.order):
            part = docs[name].select(F.lit(rank).alias("rank"), "id", "text", "url")
            ranked = part if ranked is None else ranked.unionByName(part)
        ranked.mapInArrow(sketch_batches(self.params), KEYS_DDL).write.mode("overwrite").parquet(
            output.join(work, "keys"))
        keys = spark.read.parquet(output.join(work, "keys"))
        counts = {r["rank"]: r for r in keys.groupBy("rank").agg(
            F.count("*").alias("docs"),
            F.sum(F.col("content_key").isNull().cast("long")).alias("null_text"),
            F.sum((F.col("n_words") == 0).cast("long")).alias("no_words")).collect()}

        live = keys.where(F.col("content_key").isNotNull())
        removed_parts = []
        for enabled, column, reason in ((conf["exact_url"], "url_key", "exact_url"),
                                        (conf["exact_content"], "content_key", "exact_content")):
            if enabled:
                gone = exact_duplicates(live, column, reason)
                removed_parts.append(gone)
                live = live.join(gone.select("rank", "id"), ["rank", "id"], "left_anti")

        lsh_stats: dict = {"preset": self.params.name, "features": self.params.features,
                           "ngram": self.params.ngram, "bands": self.params.bands, "rows": self.params.rows,
                           "verify": self.params.verify, "threshold": self.params.threshold,
                           "max_bucket_size": self.params.max_bucket_size,
                           "s_curve": lsh.s_curve(self.params.bands, self.params.rows)}
        if conf["fuzzy"]:
            cross = conf["cross_source"] and len(self.order) > 1
            checkpoint = checkpointer(spark, work, conf["checkpoint"])
            parts, passes = fuzzy_removals(checkpoint(number_nodes(live)), self.params, cross,
                                           conf["max_component_rounds"], checkpoint)
            removed_parts.extend(parts)
            lsh_stats.update({label: p.stats for label, p in passes.items()})

        removed = self._write_removed(spark, removed_parts, out)
        self._write_outputs(docs, removed, out)
        stats = self._removal_stats(removed, counts)
        stats["lsh"] = lsh_stats
        fs, path = fsspec.core.url_to_fs(output.fs_url(out))
        fs.touch(output.join(path, output.SUCCESS_FILE))
        return stats

    def _write_removed(self, spark: SparkSession, parts: list[DataFrame], out: str) -> DataFrame:
        names = F.array(*[F.lit(n) for n in self.order])
        empty = spark.createDataFrame([], "rank int, id string, reason string, cluster string, "
                                          "cluster_size long, survivor_rank int, survivor_id string")
        removed = empty
        for part in parts:
            removed = removed.unionByName(part.select(*REMOVED_COLUMNS))
        (removed.select("id", F.element_at(names, F.col("rank") + 1).alias("source"), "reason", "cluster",
                        "cluster_size", "survivor_id",
                        F.element_at(names, F.col("survivor_rank") + 1).alias("survivor_source"))
         .write.mode("overwrite").parquet(output.join(out, REMOVED_DIR)))
        return spark.read.parquet(output.join(out, REMOVED_DIR))

    def _write_outputs(self, docs: dict[str, DataFrame], removed: DataFrame, out: str) -> None:
        for name in self.order:
            gone = removed.where(F.col("source") == name).select("id")
            docs[name].join(gone, "id", "left_anti").select(*DOC_ARROW_SCHEMA.names) \
                .write.mode("overwrite").parquet(output.join(out, name))

    def _removal_stats(self, removed: DataFrame, counts: dict) -> dict:
        per_source = {name: dict.fromkeys(REASONS, 0) for name in self.order}
        for row in removed.groupBy("source", "reason").count().collect():
            per_source[row["source"]][row["reason"]] = int(row["count"])
        sizes: dict[str, dict[int, int]] = {}
        clusters = removed.groupBy("reason", "cluster").agg(F.first("cluster_size").alias("size"))
        for row in clusters.groupBy("reason", "size").count().collect():
            sizes.setdefault(row["reason"], {})[int(row["size"])] = int(row["count"])
        inputs = {name: int(counts[r]["docs"]) if r in counts else 0 for r, name in enumerate(self.order)}
        return {
            "priority": self.order,
            "inputs": inputs,
            "documents_in": sum(inputs.values()),
            "null_text_passed_through": {n: int(counts[r]["null_text"] or 0) if r in counts else 0
                                         for r, n in enumerate(self.order)},
            "no_words_exact_only": {n: int(counts[r]["no_words"] or 0) if r in counts else 0
                                    for r, n in enumerate(self.order)},
            "removed": per_source,
            "removed_total": sum(sum(v.values()) for v in per_source.values()),
            # Inputs less removed ids: the output is exactly an anti-join of each input with them.
            "output_docs": {n: inputs[n] - sum(per_source[n].values()) for n in self.order},
            "documents_out": sum(inputs.values()) - sum(sum(v.values()) for v in per_source.values()),
            "drop_reasons": {f"dedup:{reason}": sum(v[reason] for v in per_source.values()) for reason in REASONS},
            "cluster_sizes": {reason: size_histogram(s) for reason, s in sorted(sizes.items())},
        }
