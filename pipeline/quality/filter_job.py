"""`spark-submit pipeline/quality_filter.py`: GPT-3's CommonCrawl filter.

read -> extract -> langid -> heuristics -> score with the saved classifier -> keep iff a Lomax(alpha)
draw exceeds 1 - score, the draw derived from (seed, document id) (GPT-3, Appendix A: "We kept
each document in our dataset iff np.random.pareto(alpha) > 1 - document_score").

Without --model the job writes the raw extracted documents (after langid and heuristics): the
classifier's CommonCrawl negatives and the input of later stages. An --input may also be such a
folder (Parquet in the document schema, committed with _SUCCESS), so a crawl is extracted once
and scored as often as wanted.
"""
from __future__ import annotations

import argparse
import json

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.core.schema import DOC_COLUMNS, DROP_REASON
from pipeline.readers.inputs import expand_inputs, is_document_folder
from pipeline.text.documents import SNIPPET_CHARS

EXAMPLES = """
examples:
  # extract a crawl once (raw documents, the classifier's negatives)
  spark-submit pipeline/quality_filter.py --input 'crawl/*.warc.gz' --output runs/cc_raw
  # score and keep with GPT-3's rule (alpha 9)
  spark-submit pipeline/quality_filter.py --input runs/cc_raw --model runs/classifier --output runs/cc_kept
  # straight from CommonCrawl's listing (each WARC opened by the task that owns it)
  spark-submit pipeline/quality_filter.py --input warc.paths.gz --model s3a://b/clf --output s3a://b/cc/
"""


class QualityFilterJob(Job):
    name = "quality_filter"
    sections = ("readers", "extract", "langid", "heuristics")
    description = __doc__ + EXAMPLES

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", nargs="+", required=True, metavar="SPEC",
                            help="WARC/WET files, folders, globs, a CommonCrawl warc.paths(.gz) listing, "
                                 "or a folder of extracted documents (local, s3://, https://)")
        parser.add_argument("--output", required=True, help="output folder (Parquet + _stats.json)")
        parser.add_argument("--model", help="classifier folder written by train_classifier.py; without "
                                            "it the extracted documents are written unscored")
        parser.add_argument("--alpha", type=float, help="Lomax shape (quality_filter.alpha; GPT-3: 9)")
        parser.add_argument("--seed", type=int, help="seed of the keep draws (quality_filter.seed)")
        parser.add_argument("--lang", help="languages to keep, comma-separated (e.g. en,de), or 'all'")
        parser.add_argument("--no-sample", action="store_true",
                            help="score every document and keep all (for analysis)")

    def flag_overrides(self, args: argparse.Namespace) -> list[str]:
        overrides = []
        if args.alpha is not None:
            overrides.append(f"quality_filter.alpha={args.alpha!r}")
        if args.seed is not None:
            overrides.append(f"quality_filter.seed={args.seed}")
        if args.lang is not None:
            langs = [] if args.lang.strip().lower() in ("", "all") else \
                [code.strip() for code in args.lang.split(",") if code.strip()]
            overrides.append(f"langid.languages={json.dumps(langs)}")  # JSON: `no` stays a string
        if args.no_sample:
            overrides.append("quality_filter.sample=false")
        return overrides

    def validate(self, args: argparse.Namespace, config: dict) -> None:
        from pipeline.text.langid import check_model_setting

        qf = config["quality_filter"]
        if qf["alpha"] <= 0:
            raise ConfigError(f"quality_filter.alpha must be > 0, got {qf['alpha']}")
        if qf.get("output_partitions", 0) < 0:
            raise ConfigError("quality_filter.output_partitions must be >= 0")
        self.doc_folders = [s for s in args.input if is_document_folder(s)]
        warc_specs = [s for s in args.input if s not in self.doc_folders]
        self.paths = expand_inputs(warc_specs, config) if warc_specs else []
        if warc_specs:
            check_model_setting(config["langid"]["model_path"])
            bad_words = config["heuristics"].get("bad_words_file")
            if bad_words and "/" in bad_words:
                import os

                if not os.path.isfile(bad_words):
                    raise InputError(f"heuristics.bad_words_file not found: {bad_words}")
        if args.model:
            from pipeline.quality.classifier import check_model_dir

            check_model_dir(args.model)

    def fingerprint_inputs(self, args: argparse.Namespace, config: dict) -> list[str]:
        # Local files one by one (a glob's files change without the glob changing); a remote
        # crawl by its specs (a listing file), not by 90,000 requests.
        local = all("://" not in p for p in self.paths) and len(self.paths) <= 10000
        warcs = self.paths if local else [s for s in args.input if s not in self.doc_folders]
        bad_words = config["heuristics"].get("bad_words_file")
        return [*self.doc_folders, *warcs, *([args.model] if args.model else []),
                *([bad_words] if bad_words and "/" in bad_words else [])]

    # --- the work -------------------------------------------------------------------------------
    def run(self, spark, args: argparse.Namespace, config: dict) -> dict:
        from pipeline.core.stats import examples, funnel, reason_counts
        from pipeline.readers.warc_documents import STAGED_COLUMNS, file_stats, read_warc

        qf = config["quality_filter"]
        parts: list[DataFrame] = []
        read = None
        if self.paths:
            read = read_warc(spark, self.paths, config, qf["source"])
            parts.append(read.documents)
        for folder in self.doc_folders:
            docs = spark.read.parquet(folder).select(*DOC_COLUMNS)
            parts.append(docs.withColumn(DROP_REASON, F.lit(None).cast("string")).select(*STAGED_COLUMNS))
        staged = parts[0]
        for part in parts[1:]:
            staged = staged.unionByName(part)

        steps = ["read", "extract", "langid", "heuristics"]
        if args.model:
            staged = score_and_sample(staged, args.model, config)
            steps.append("sample")
            staged = staged.persist()  # scored once, then written and counted

        kept = staged.where(F.col(DROP_REASON).isNull()).select(*DOC_COLUMNS)
        partitions = qf.get("output_partitions", 0)
        if partitions:
            kept = kept.repartition(partitions, "id").sortWithinPartitions("id")
        kept.write.mode("overwrite").parquet(args.output)

        counts = reason_counts(staged)
        stats = {
            "inputs": {"warc_files": len(self.paths), "document_folders": self.doc_folders,
                       "model": args.model},
            "documents_in": sum(counts.values()),
            "documents_out": counts.get("kept", 0),
            "drop_reasons": dict(sorted(counts.items())),
            "funnel": funnel(counts, steps),
            "examples": examples(staged),
        }
        if args.model:
            stats["scores"] = score_buckets(staged)
            stats["alpha"], stats["seed"], stats["sample"] = qf["alpha"], qf["seed"], qf["sample"]
            staged.unpersist()
        if read is not None:
            stats["files"] = file_stats(read.files)
            read.unpersist()
        return stats


def score_and_sample(staged: DataFrame, model_dir: str, config: dict) -> DataFrame:
    """Score the documents still kept; then drop with `sample:pareto` those whose Lomax draw does
    not exceed 1 - score (unless quality_filter.sample is false)."""
    from pipeline.quality.classifier import score_documents
    from pipeline.quality.sampling import keep_draw_column, pareto_keep_expr

    qf = config["quality_filter"]
    columns = staged.columns
    live = staged.where(F.col(DROP_REASON).isNull()).drop("quality_score")
    scored = score_documents(live, model_dir, config)
    if qf["sample"]:
        draw = keep_draw_column("id", int(qf["seed"]))
        keep = pareto_keep_expr(draw, F.col("quality_score"), float(qf["alpha"]))
        scored = (scored.withColumn("_keep", keep)
                  .withColumn(DROP_REASON, F.when(F.col("_keep"), F.lit(None).cast("string"))
                              .otherwise(F.lit("sample:pareto")))
                  # a dropped document keeps only a snippet, so the cached rows stay small
                  .withColumn("text", F.when(F.col("_keep"), F.col("text"))
                              .otherwise(F.substring("text", 1, SNIPPET_CHARS))))
    dropped = staged.where(F.col(DROP_REASON).isNotNull())
    return scored.select(*columns).unionByName(dropped)


def score_buckets(staged: DataFrame) -> list[dict]:
    """Documents and keep rate per score decile (the analysis GPT-3 used to choose alpha)."""
    scored = staged.where(F.col("quality_score").isNotNull())
    bucket = F.least(F.floor(F.col("quality_score") * 10), F.lit(9)).cast("int")
    rows = (scored.groupBy(bucket.alias("b"))
            .agg(F.count(F.lit(1)).alias("n"), F.sum(F.col(DROP_REASON).isNull().cast("int")).alias("kept"))
            .orderBy("b").collect())
    return [{"score_from": r["b"] / 10, "score_to": (r["b"] + 1) / 10, "documents": int(r["n"]),
             "kept": int(r["kept"]), "keep_rate": round(r["kept"] / r["n"], 4)} for r in rows]
