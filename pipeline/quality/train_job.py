"""`spark-submit pipeline/train_classifier.py`: GPT-3's quality classifier (Brown et al. 2020,
Appendix A) - curated documents (positives, e.g. real WebText) against raw CommonCrawl (negatives).

Both classes are read (the corpus reader, or raw_pages.py for raw HTML and CS336 dumps), run through
langid + heuristics like the documents the filter scores (`classifier.clean`), split into train and
held-out (training_data.py; positives by the shared WebText hold-out slice) and balanced by class
weights or down-sampling (`classifier.balance`). The model is a logistic regression on Spark
tokenizer + HashingTF features (`classifier.model=logreg`, GPT-3's recipe; `features=raw` is GPT-3
as written) or fastText with word bigrams (`fasttext`, DCLM's recipe, trained on the driver).
report.json holds the held-out metrics, with `--human FILE...` the ROC AUC against human labels
beside word count and the alphabetic-word fraction, and with `classifier.compare_features` the
other logistic-regression feature forms trained on the same split.
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time

import fsspec
import numpy as np

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.quality import evaluation
from pipeline.quality.classifier import (BALANCE_MODES, FEATURE_FORMS, LABEL_COL, MODEL_KINDS, REPORT_FILE,
                                         SOLVERS, SPARK_MODEL_DIR, WEIGHT_COL, ExportedModel, build_pipeline,
                                         model_file, write_json, write_weights)
from pipeline.quality.training_data import CLEAN_MODES, REASON, balance, labelled_rows

log = logging.getLogger("webmix.classifier")

OVERRIDE = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)+=")


class SpecList(argparse.Action):
    """`--negatives a b classifier.reg_param=0.1`: nargs="+" would swallow the trailing overrides,
    so `section.key=value` items are set aside for `flag_overrides`."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [v for v in values if not OVERRIDE.match(v)])
        aside = [v for v in values if OVERRIDE.match(v)]
        setattr(namespace, "spec_overrides", [*getattr(namespace, "spec_overrides", []), *aside])
        if not getattr(namespace, self.dest) and self.required:
            parser.error(f"{option_string} needs at least one input")


def fit_spark(train, features: str, settings: dict) -> tuple[ExportedModel, float, object]:
    """GPT-3 as written: Spark ML's tokenizer + HashingTF + LogisticRegression (LBFGS)."""
    started = time.perf_counter()
    model = build_pipeline(features, settings["num_features"], settings["text_chars"],
                           settings["reg_param"], settings["elastic_net_param"],
                           settings["max_iter"], weighted=True,
                           standardization=settings["standardization"]).fit(train)
    lr = model.stages[-1]
    idf = [s.idf.toArray() for s in model.stages if hasattr(s, "idf")]
    exported = ExportedModel(lr.coefficients.toArray(), lr.intercept, features, settings["num_features"],
                             settings["text_chars"], idf[0] if idf else None)
    log.info("spark solver, features=%s: %d LBFGS iterations", features, lr.summary.totalIterations)
    return exported, round(time.perf_counter() - started, 2), model


def fit_driver(rows: list, features: str, settings: dict) -> tuple[ExportedModel, float, None]:
    """The same model fitted on the driver by scikit-learn from features.py's bit-compatible
    HashingTF counts. Spark's LBFGS on unstandardised L2-normalised hashed words stops at max_iter
    far from the optimum (objective 0.54 against 0.27 after 100 iterations on the real data);
    scikit-learn's converges in ~20. Same objective: Spark minimises the weighted mean loss +
    reg/2 |b|^2, which is scikit-learn's C * weighted sum + 1/2 |b|^2 with C = 1 / (reg * sum(w))."""
    from sklearn.linear_model import LogisticRegression

    from pipeline.quality.classifier import feature_rows, spark_idf
    from pipeline.quality.features import hashed_matrix

    started = time.perf_counter()
    counts = hashed_matrix([r["text"] for r in rows], settings["num_features"])
    labels = np.array([r[LABEL_COL] for r in rows])
    weights = np.array([r[WEIGHT_COL] for r in rows])
    idf = spark_idf(counts) if features == "idf" else None
    solver = LogisticRegression(C=1.0 / (settings["reg_param"] * weights.sum()), max_iter=settings["max_iter"],
                                tol=1e-6)
    solver.fit(feature_rows(counts, features, idf), labels, sample_weight=weights)
    log.info("driver solver, features=%s: %d LBFGS iterations", features, int(solver.n_iter_[0]))
    exported = ExportedModel(solver.coef_[0], float(solver.intercept_[0]), features, settings["num_features"],
                             settings["text_chars"], idf)
    return exported, round(time.perf_counter() - started, 2), None


def fit_fasttext(rows: list, settings: dict, balance_info: dict, out: str) -> tuple[dict, float]:
    """fastText on the driver from the collected training rows; class weights become repeats of
    the lighter class's lines (fastText has no sample weights)."""
    import os
    import tempfile

    from pipeline.quality.fasttext_model import FASTTEXT_FILE, train as train_fasttext

    started = time.perf_counter()
    repeats = {1.0: 1, 0.0: 1}
    if "weight_positive" in balance_info:
        w_pos, w_neg = balance_info["weight_positive"], balance_info["weight_negative"]
        repeats = {1.0: max(1, round(w_pos / w_neg)), 0.0: max(1, round(w_neg / w_pos))}
    data = [(r["id"], r["text"], int(r[LABEL_COL]), repeats[r[LABEL_COL]]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, FASTTEXT_FILE)
        info = train_fasttext(data, settings, local)
        fs, path = fsspec.core.url_to_fs(model_file(out, FASTTEXT_FILE))
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.put(local, path)
    info["fasttext"]["repeats"] = {"positive": repeats[1.0], "negative": repeats[0.0]}
    return info, round(time.perf_counter() - started, 2)


class TrainClassifierJob(Job):
    name = "classifier"
    sections = ("ingest", "langid", "heuristics")
    description = __doc__

    def parser(self) -> argparse.ArgumentParser:
        parser = super().parser()
        parser.prog = "spark-submit pipeline/train_classifier.py"
        return parser

    def main(self, argv: list[str] | None = None) -> int:
        try:
            return super().main(argv)
        except InputError as exc:     # too few documents after cleaning: known only once Spark has read
            print(f"error: {exc}", file=sys.stderr)
            return 2

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(spec_overrides=[], human=[])
        parser.add_argument("--positives", nargs="+", required=True, metavar="SPEC", action=SpecList,
                            help="curated documents: document-schema Parquet folders, JSONL files, "
                                 ".txt folders, globs")
        parser.add_argument("--negatives", nargs="+", required=True, metavar="SPEC", action=SpecList,
                            help="raw CommonCrawl documents: as --positives, plus HPLT raw-HTML .jsonl.zst "
                                 "and CS336 dump .txt files")
        parser.add_argument("--output", required=True, metavar="MODEL_DIR",
                            help="model folder: model.json, weights.npz + spark_model/ (logreg) or "
                                 "model.ftz (fasttext), report.json")
        parser.add_argument("--features", choices=FEATURE_FORMS,
                            help="feature form (classifier.features): raw = GPT-3 as written")
        parser.add_argument("--model", choices=MODEL_KINDS, help="model kind (classifier.model)")
        parser.add_argument("--human", nargs="+", metavar="JSONL", action=SpecList,
                            help="human quality labels (JSONL: text, label 0/1): ROC AUC with a bootstrap "
                                 "interval beside word count and alphabetic fraction, in report.json")

    def flag_overrides(self, args) -> list[str]:
        flags = [f"classifier.features={args.features}"] if args.features else []
        flags += [f"classifier.model={args.model}"] if args.model else []
        return [*flags, *args.spec_overrides]

    def validate(self, args, config: dict) -> None:
        from pipeline.readers.corpus import list_tasks
        from pipeline.quality.training_data import split_specs

        c = config["classifier"]
        for key, allowed in (("features", FEATURE_FORMS), ("model", MODEL_KINDS), ("balance", BALANCE_MODES),
                             ("clean", CLEAN_MODES), ("solver", SOLVERS)):
            if c[key] not in allowed:
                raise ConfigError(f"config key 'classifier.{key}' must be one of {', '.join(allowed)}, "
                                  f"got {c[key]!r}")
        if not 0.0 < c["holdout_fraction"] < 1.0:
            raise ConfigError("config key 'classifier.holdout_fraction' must lie between 0 and 1")
        for key in ("num_features", "max_per_class", "min_per_class", "max_iter", "text_chars"):
            if c[key] < 1:
                raise ConfigError(f"config key 'classifier.{key}' must be at least 1")
        for specs in (args.positives, args.negatives):
            generic = split_specs(specs)[1]
            if generic:
                list_tasks(generic)    # a missing or unreadable input fails here, in one line
        # Read now, before Spark starts: a malformed label file stops the job in one line.
        self.human = {path: evaluation.load_human(path) for path in args.human}

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        return [*args.positives, *args.negatives, *args.human]

    def run(self, spark, args, config: dict) -> dict:
        from pyspark import StorageLevel

        started = time.perf_counter()
        settings = config["classifier"]
        alphas = sorted({*evaluation.REPORT_ALPHAS, float(config.get("quality_filter", {}).get("alpha", 9.0))})
        rows, skipped = labelled_rows(spark, args.positives, args.negatives, config)
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        counts, cleaning = self.count(rows, settings)
        kept = rows.where(f"{REASON} IS NULL").drop(REASON)
        train, balance_info = balance(kept.where("NOT held_out"), counts["train_positives"],
                                      counts["train_negatives"], settings)
        held = kept.where("held_out")
        train = train.persist(StorageLevel.MEMORY_AND_DISK)
        out = args.output.rstrip("/")
        info = {"kind": settings["model"], "features": settings["features"], "balance": settings["balance"],
                "num_features": settings["num_features"], "text_chars": settings["text_chars"],
                "tokenizer": "RegexTokenizer(\\s+, lower case)", "hashing": "HashingTF murmur3_x86_32 seed 42",
                "counts": counts}

        # Deterministic order for the driver-side fits (fastText reads it in a (seed, id) order).
        train_rows = train.select("id", "text", LABEL_COL, WEIGHT_COL).orderBy("id").collect()
        comparison = {}
        if settings["model"] == "fasttext":
            extra, seconds = fit_fasttext(train_rows, settings, balance_info, out)
            write_json(model_file(out, "model.json"), {**info, "features": "fasttext", **extra})
        else:
            chosen = settings["features"]
            forms = [chosen] + ([f for f in FEATURE_FORMS if f != chosen] if settings["compare_features"] else [])
            for form in forms:
                if settings["solver"] == "spark":
                    model, form_seconds, pipeline_model = fit_spark(train, form, settings)
                else:
                    model, form_seconds, pipeline_model = fit_driver(train_rows, form, settings)
                if form == chosen:
                    seconds = form_seconds
                    if pipeline_model is not None:
                        pipeline_model.write().overwrite().save(f"{out}/{SPARK_MODEL_DIR}")
                    write_weights(out, model.coefficients, model.intercept, model.idf, info)
                    continue
                comparison[form] = {"held_out": None, "human": {}, "train_seconds": form_seconds, "model": model}
        train.unpersist()

        # The chosen model is evaluated as the filter will use it: the exported pure-Python scorer.
        scorer = ExportedModel.load(out)
        held_rows = held.select("text", LABEL_COL).collect()
        labels = np.array([int(r[LABEL_COL]) for r in held_rows])
        held_metrics = evaluation.summarize(labels, scorer.score_texts([r["text"] for r in held_rows]),
                                            alphas, seed=settings["seed"])
        held_texts = [r["text"] for r in held_rows]
        for form, entry in comparison.items():
            other = entry.pop("model")
            entry["held_out"] = evaluation.auc_interval(labels, other.score_texts(held_texts), seed=settings["seed"])
            entry["human"] = {path: evaluation.human_report(texts, y, other.score_texts(texts), seed=settings["seed"])
                              for path, (texts, y) in self.human.items()}
        rows.unpersist()
        human = {path: evaluation.human_report(texts, y, scorer.score_texts(texts), seed=settings["seed"])
                 for path, (texts, y) in self.human.items()}
        report = {"kind": settings["model"], "features": info["features"] if settings["model"] == "logreg"
                  else "fasttext", "balance": settings["balance"], "clean": settings["clean"],
                  "counts": counts, "cleaning": cleaning, "raw_pages_skipped": skipped,
                  "balance_info": balance_info, "held_out": held_metrics, "human": human,
                  "compare_features": comparison, "alphas": alphas, "train_seconds": seconds,
                  "job_seconds": round(time.perf_counter() - started, 2),
                  "settings": {k: settings[k] for k in sorted(settings)}}
        write_json(model_file(out, REPORT_FILE), report)
        with fsspec.open(model_file(out, "_SUCCESS"), "wb"):
            pass    # the folder is complete (the Job base class writes _stats.json after it)
        for path, h in human.items():
            log.info("human labels %s: ROC AUC %.3f [%.3f, %.3f]; word count %.3f; gap %.3f [%.3f, %.3f]", path,
                     h["model"]["auc"], h["model"]["low"], h["model"]["high"], h["word_count"]["auc"],
                     h["gap_to_word_count"]["gap"], h["gap_to_word_count"]["low"], h["gap_to_word_count"]["high"])
        return {"counts": counts, "kind": settings["model"], "features": report["features"],
                "held_out_roc_auc": held_metrics["roc_auc"],
                "human_roc_auc": {p: h["model"] for p, h in human.items()},
                "compare_features": {f: v["held_out"]["auc"] for f, v in comparison.items()}}

    @staticmethod
    def count(rows, settings: dict) -> tuple[dict, dict]:
        """Documents per class, split and cleaning outcome (one aggregation); min_per_class checked
        on what is left for training."""
        cleaning: dict = {"positives": {}, "negatives": {}}
        counts = {"train_positives": 0, "train_negatives": 0, "held_out_positives": 0, "held_out_negatives": 0}
        for r in rows.groupBy(LABEL_COL, "held_out", REASON).count().collect():
            cls = "positives" if r[LABEL_COL] == 1.0 else "negatives"
            reason = r[REASON] or "kept"
            cleaning[cls][reason] = cleaning[cls].get(reason, 0) + r["count"]
            if r[REASON] is None:
                counts[f"{'held_out' if r['held_out'] else 'train'}_{cls}"] += r["count"]
        counts["positives_in"] = sum(cleaning["positives"].values())
        counts["negatives_in"] = sum(cleaning["negatives"].values())
        for cls in ("positives", "negatives"):
            n = counts[f"train_{cls}"]
            if n < settings["min_per_class"]:
                raise InputError(f"{cls}: only {n} training documents after cleaning, fewer than "
                                 f"classifier.min_per_class={settings['min_per_class']}")
        return counts, cleaning
