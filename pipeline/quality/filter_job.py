"""`spark-submit pipeline/quality_filter.py`: GPT-3's CommonCrawl filter as a list of document steps.

The steps come from `quality_filter.steps` (default: extract -> langid -> c4_lines -> gopher_quality
-> gopher_repetition; see pipeline/steps), then with --model `score` (the saved classifier) and
`sample`: keep iff a Lomax(alpha) draw exceeds 1 - score, the draw derived from (seed, document id)
(GPT-3, Appendix A: "We kept each document in our dataset iff np.random.pareto(alpha) > 1 -
document_score"). The funnel in `_stats.json` has one row per step.

An --input may be WARC/WET files or a folder of documents (Parquet in the document schema,
committed with _SUCCESS): text inputs run the same steps but extract. So a crawl is extracted once
(without --model: the classifier's CommonCrawl negatives, the input of later stages) and scored as
often as wanted; `langid.languages=[]` and `heuristics.enabled=false` switch those steps off.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.core.schema import DOC_COLUMNS, DROP_REASON, STAGED_ARROW_SCHEMA, STAGED_SPARK_DDL
from pipeline.core.stats import KEPT
from pipeline.quality.classifier import resolve_model_dir
from pipeline.readers.inputs import expand_inputs, is_document_folder

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
    sections = ("readers", "extract", "langid", "heuristics")   # the steps' sections
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
        from pipeline.steps import StepList
        from pipeline.text.langid import check_model_setting

        qf = config["quality_filter"]
        if qf["alpha"] <= 0:
            raise ConfigError(f"quality_filter.alpha must be > 0, got {qf['alpha']}")
        if qf.get("output_partitions", 0) < 0:
            raise ConfigError("quality_filter.output_partitions must be >= 0")
        self.doc_folders = [s for s in args.input if is_document_folder(s)]
        warc_specs = [s for s in args.input if s not in self.doc_folders]
        self.paths = expand_inputs(warc_specs, config) if warc_specs else []
        self.steps = StepList.from_config(config)
        if "langid" in self.steps.names:
            check_model_setting(config["langid"]["model_path"])
        bad_words = config["heuristics"].get("bad_words_file")
        if bad_words and "/" in bad_words and "gopher_quality" in self.steps.names:
            import os

            if not os.path.isfile(bad_words):
                raise InputError(f"heuristics.bad_words_file not found: {bad_words}")
        if args.model:
            from pipeline.quality.classifier import check_model_dir
            from pipeline.quality.keep import keep_steps

            check_model_dir(args.model)
            self.steps = self.steps + keep_steps(args.model, config)

    def fingerprint_inputs(self, args: argparse.Namespace, config: dict) -> list[str]:
        # Local files one by one (a glob's files change without the glob changing); a remote
        # crawl by its specs (a listing file), not by 90,000 requests.
        local = all("://" not in p for p in self.paths) and len(self.paths) <= 10000
        warcs = self.paths if local else [s for s in args.input if s not in self.doc_folders]
        bad_words = config["heuristics"].get("bad_words_file")
        return [*self.doc_folders, *warcs, *([resolve_model_dir(args.model)] if args.model else []),
                *([bad_words] if bad_words and "/" in bad_words else [])]

    # --- the work -------------------------------------------------------------------------------
    def run(self, spark, args: argparse.Namespace, config: dict) -> dict:
        from pipeline.core.stats import examples
        from pipeline.readers.warc_documents import file_stats, read_warc

        qf = config["quality_filter"]
        steps = self.steps          # scored and sampled in the Python workers, in the pass that extracts
        parts: list[DataFrame] = []
        read = None
        if self.paths:
            read = read_warc(spark, self.paths, config, qf["source"], steps=steps)
            parts.append(read.documents)
        for folder in self.doc_folders:
            docs = spark.read.parquet(folder).select(*DOC_COLUMNS)
            docs = docs.withColumn(DROP_REASON, F.lit(None).cast("string")).select(*STAGED_ARROW_SCHEMA.names)
            if any(not step.streams for step in steps.steps):
                docs = docs.mapInArrow(steps.staged_batches, STAGED_SPARK_DDL).persist()  # once: written, counted
            parts.append(docs)
        staged = parts[0]
        for part in parts[1:]:
            staged = staged.unionByName(part)

        kept = staged.where(F.col(DROP_REASON).isNull()).select(*DOC_COLUMNS)
        partitions = qf.get("output_partitions", 0)
        if partitions:
            kept = kept.repartition(partitions, "id").sortWithinPartitions("id")
        kept.write.mode("overwrite").parquet(args.output)

        counts, buckets, languages = reason_and_score_counts(staged)
        stats = {
            "inputs": {"warc_files": len(self.paths), "document_folders": self.doc_folders,
                       "model": args.model},
            "documents_in": sum(counts.values()),
            "documents_out": counts.get("kept", 0),
            "drop_reasons": dict(sorted(counts.items())),
            "funnel": steps.funnel(counts),
            "languages": languages,
            "examples": examples(staged),
        }
        if args.model:
            stats["scores"] = buckets
            stats["alpha"], stats["seed"], stats["sample"] = qf["alpha"], qf["seed"], qf["sample"]
        if read is not None:
            stats["files"] = file_stats(read.files)
        for part in parts:
            part.unpersist()
        if read is not None:
            read.unpersist()
        return stats


def reason_and_score_counts(staged: DataFrame) -> tuple[dict[str, int], list[dict], dict[str, int]]:
    """Documents per drop reason; per score decile with the keep rate (the analysis GPT-3 used to
    choose alpha); and per language of every identified document, before the language filter (the
    report's language mix): from one aggregation."""
    reason = F.coalesce(F.col(DROP_REASON), F.lit(KEPT))
    bucket = F.least(F.floor(F.col("quality_score") * 10), F.lit(9)).cast("int")
    rows = staged.groupBy(reason.alias("r"), bucket.alias("b"), F.col("lang").alias("l")).count().collect()
    counts: Counter = Counter()
    languages: Counter = Counter()
    deciles: dict[int, list[int]] = {}
    for row in rows:
        counts[row["r"]] += row["count"]
        if row["l"] is not None:
            languages[row["l"]] += row["count"]
        if row["b"] is not None:
            n_kept = deciles.setdefault(row["b"], [0, 0])
            n_kept[0] += row["count"]
            n_kept[1] += row["count"] if row["r"] == KEPT else 0
    buckets = [{"score_from": b / 10, "score_to": (b + 1) / 10, "documents": n, "kept": k,
                "keep_rate": round(k / n, 4)} for b, (n, k) in sorted(deciles.items())]
    return dict(counts), buckets, dict(languages.most_common())
