"""`spark-submit pipeline/train_classifier.py`: GPT-3's quality classifier (Brown et al. 2020,
Appendix A) - a logistic regression on Spark tokenizer + HashingTF features, curated documents
(positives) against raw CommonCrawl (negatives).

Both classes go through the one corpus reader (Parquet in the document schema, JSONL, .txt folders),
are balanced by a deterministic draw from (seed, id) and split into train / held-out by another.
The model folder gets the Spark PipelineModel, the exported weights (pure-Python scoring), and
report.json with held-out metrics of the chosen feature form and, with `classifier.compare_features`,
the held-out ROC AUC of the other forms trained on the same split.
"""
from __future__ import annotations

import argparse
import logging
import re
import time

import fsspec
import numpy as np

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.quality import evaluation
from pipeline.quality.classifier import (FEATURE_FORMS, LABEL_COL, REPORT_FILE, SCORE_COLUMN,
                                         SPARK_MODEL_DIR, add_scores, build_pipeline, export_weights,
                                         model_file, write_json)
from pipeline.quality.sampling import uniform_column

log = logging.getLogger("webmix.classifier")

BALANCE_SALT, HOLDOUT_SALT = "classifier-balance", "classifier-holdout"
OVERRIDE = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)+=")


class SpecList(argparse.Action):
    """`--negatives a b classifier.reg_param=0.1`: nargs="+" would swallow the trailing overrides,
    so `section.key=value` items are set aside for `flag_overrides`."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [v for v in values if not OVERRIDE.match(v)])
        aside = [v for v in values if OVERRIDE.match(v)]
        setattr(namespace, "spec_overrides", [*getattr(namespace, "spec_overrides", []), *aside])
        if not getattr(namespace, self.dest):
            parser.error(f"{option_string} needs at least one input")


def read_documents(spark, specs: list[str], source: str, config: dict):
    """Documents of the given specs through the one corpus reader (it logs and skips bad records)."""
    from pipeline.readers.corpus import kept, read_corpus

    ingest = config.get("ingest", {})
    return kept(read_corpus(spark, specs, source, config, text_field=ingest.get("text_field", "text"),
                            id_field=ingest.get("id_field"), txt_mode=ingest.get("txt_mode", "file")))


def balanced_split(positives, negatives, settings: dict, partitions: int):
    """(id, text, label, held_out) rows: each class sampled to the same expected size by a draw
    from (seed, id), then split by a second draw; counts for the report.

    The inputs are read twice (once to count the classes, once to sample), each time in
    `partitions` tasks: the reader makes a task per file, which for many small files costs more
    than the reading."""
    from pyspark.sql import functions as F

    seed = settings["seed"]

    def labelled(df, label):
        return df.select("id", F.substring("text", 1, settings["text_chars"]).alias("text"),
                         F.lit(float(label)).alias(LABEL_COL))

    both = labelled(positives, 1).unionByName(labelled(negatives, 0)).coalesce(partitions)
    sizes = {int(r[LABEL_COL]): r["count"] for r in both.groupBy(LABEL_COL).count().collect()}
    n_pos, n_neg = sizes.get(1, 0), sizes.get(0, 0)
    for name, n in (("positives", n_pos), ("negatives", n_neg)):
        if n < settings["min_per_class"]:
            raise InputError(f"{name}: only {n} documents, fewer than classifier.min_per_class="
                             f"{settings['min_per_class']}")
    target = min(n_pos, n_neg, settings["max_per_class"])
    fraction = F.when(F.col(LABEL_COL) == 1.0, F.lit(target / n_pos)).otherwise(F.lit(target / n_neg))
    rows = (both.where(uniform_column("id", seed, BALANCE_SALT) < fraction)
            .withColumn("held_out", uniform_column("id", seed, HOLDOUT_SALT) < F.lit(settings["holdout_fraction"])))
    return rows, {"positives_in": n_pos, "negatives_in": n_neg, "per_class_target": target}


def fit(train, features: str, settings: dict):
    started = time.perf_counter()
    model = build_pipeline(features, settings["num_features"], settings["text_chars"],
                           settings["reg_param"], settings["elastic_net_param"],
                           settings["max_iter"]).fit(train)
    return model, round(time.perf_counter() - started, 2)


def held_out_pairs(model, held) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) of the held-out documents: two small columns collected to the driver."""
    pdf = add_scores(held.select("id", "text", LABEL_COL), model).select(LABEL_COL, SCORE_COLUMN).toPandas()
    return pdf[LABEL_COL].to_numpy().astype(int), pdf[SCORE_COLUMN].to_numpy()


class TrainClassifierJob(Job):
    name = "classifier"
    sections = ("ingest",)
    description = __doc__

    def parser(self) -> argparse.ArgumentParser:
        parser = super().parser()
        parser.prog = "spark-submit pipeline/train_classifier.py"
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(spec_overrides=[])
        parser.add_argument("--positives", nargs="+", required=True, metavar="SPEC", action=SpecList,
                            help="curated documents: document-schema Parquet folders, JSONL files, "
                                 ".txt folders, globs")
        parser.add_argument("--negatives", nargs="+", required=True, metavar="SPEC", action=SpecList,
                            help="raw CommonCrawl documents (e.g. quality_filter output with --no-sample)")
        parser.add_argument("--output", required=True, metavar="MODEL_DIR",
                            help="model folder: spark_model/, weights.npz, model.json, report.json")
        parser.add_argument("--features", choices=FEATURE_FORMS,
                            help="feature form (classifier.features): raw = GPT-3 as written")

    def flag_overrides(self, args) -> list[str]:
        features = [f"classifier.features={args.features}"] if args.features else []
        return [*features, *args.spec_overrides]

    def validate(self, args, config: dict) -> None:
        from pipeline.readers.corpus import list_tasks

        c = config["classifier"]
        if c["features"] not in FEATURE_FORMS:
            raise ConfigError(f"config key 'classifier.features' must be one of {', '.join(FEATURE_FORMS)}, "
                              f"got {c['features']!r}")
        if not 0.0 < c["holdout_fraction"] < 1.0:
            raise ConfigError("config key 'classifier.holdout_fraction' must lie between 0 and 1")
        for key in ("num_features", "max_per_class", "min_per_class", "max_iter", "text_chars"):
            if c[key] < 1:
                raise ConfigError(f"config key 'classifier.{key}' must be at least 1")
        list_tasks(args.positives)    # a missing or unreadable input fails here, in one line
        list_tasks(args.negatives)

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return [*args.positives, *args.negatives]

    def run(self, spark, args, config: dict) -> dict:
        from pyspark import StorageLevel

        settings = config["classifier"]
        alphas = sorted({*evaluation.REPORT_ALPHAS, float(config.get("quality_filter", {}).get("alpha", 9.0))})
        positives = read_documents(spark, args.positives, "curated", config)
        negatives = read_documents(spark, args.negatives, "commoncrawl", config)
        # One partition per core: every LBFGS iteration is a pass over the cached rows.
        partitions = max(1, spark.sparkContext.defaultParallelism)
        rows, counts = balanced_split(positives, negatives, settings, partitions)
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        train, held = rows.where("NOT held_out"), rows.where("held_out")
        sizes = {r["held_out"]: r["count"] for r in rows.groupBy("held_out").count().collect()}
        counts.update(train=sizes.get(False, 0), held_out=sizes.get(True, 0))

        chosen = settings["features"]
        forms = [chosen] + ([f for f in FEATURE_FORMS if f != chosen] if settings["compare_features"] else [])
        comparison, chosen_model, chosen_metrics = {}, None, None
        for form in forms:
            model, seconds = fit(train, form, settings)
            labels, scores = held_out_pairs(model, held)
            auc = evaluation.auc_interval(labels, scores, seed=settings["seed"])
            comparison[form] = {**auc, "train_seconds": seconds,
                                "iterations": model.stages[-1].summary.totalIterations}
            log.info("features=%s held-out ROC AUC %.4f [%.4f, %.4f]", form, auc["auc"] or float("nan"),
                     auc["low"] or float("nan"), auc["high"] or float("nan"))
            if form == chosen:
                chosen_model = model
                chosen_metrics = evaluation.summarize(labels, scores, alphas, seed=settings["seed"])
        rows.unpersist()

        out = args.output.rstrip("/")
        chosen_model.write().overwrite().save(f"{out}/{SPARK_MODEL_DIR}")
        export_weights(chosen_model, out, {
            "features": chosen, "num_features": settings["num_features"],
            "text_chars": settings["text_chars"], "tokenizer": "RegexTokenizer(\\s+, lower case)",
            "hashing": "HashingTF murmur3_x86_32 seed 42", "counts": counts})
        report = {"features": chosen, "counts": counts, "held_out": chosen_metrics,
                  "compare_features": comparison, "alphas": alphas,
                  "settings": {k: settings[k] for k in sorted(settings)}}
        write_json(model_file(out, REPORT_FILE), report)
        with fsspec.open(model_file(out, "_SUCCESS"), "wb"):
            pass    # the folder is complete (the Job base class writes _stats.json after it)
        return {"counts": counts, "features": chosen,
                "held_out_roc_auc": chosen_metrics["roc_auc"],
                "compare_features": {f: v["auc"] for f, v in comparison.items()}}
