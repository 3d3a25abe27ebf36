"""`spark-submit pipeline/decontaminate.py`: GPT-3 Appendix C decontamination of document folders
against evaluation sets, and each evaluation set's "clean subset" figure (GPT-3 §4)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterator

import fsspec
import numpy as np
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipeline.core import output
from pipeline.core.config import ConfigError, InputError
from pipeline.core.hashing import text_digest
from pipeline.core.job import Job
from pipeline.core.schema import DOC_ARROW_SCHEMA, DROP_REASON, STAGED_ARROW_SCHEMA, STAGED_SPARK_DDL
from pipeline.core.stats import reason_counts
from pipeline.evaltasks.spec import data_files, load_task, read_items
from pipeline.neardup import decontam
from pipeline.neardup.dedup_job import read_docs
from pipeline.neardup.inputs import check_schemas, parse_inputs
from pipeline.neardup.shingles import normalized_words

MODES = ("split", "document")
PARENT_KEY = "decontam_parent"      # meta key of a piece cut out of a contaminated document
HITS_KEY = "decontam_ngrams"        # meta key set by --mark: colliding n-grams found
FLAGS_DIR = "_eval_flags"           # OUTPUT/_eval_flags/<task>.jsonl: {"id", "dirty"} per item of a task file



def _signed(values: np.ndarray) -> np.ndarray:
    return values.astype(np.uint64).view(np.int64)     # Spark has no unsigned long


def _hits_batches(eval_ngrams: np.ndarray, n: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            ids, grams = [], []
            for doc_id, text in zip(batch.column("id").to_pylist(), batch.column("text").to_pylist()):
                if text:
                    hit = decontam.colliding_ngrams(text, eval_ngrams, n)
                    ids.extend([doc_id] * len(hit))
                    grams.append(hit)
            flat = _signed(np.concatenate(grams)) if grams else np.empty(0, dtype=np.int64)
            yield pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(flat, pa.int64())],
                                             names=["id", "ngram"])
    return run


def _clean_batches(effective: np.ndarray, params: decontam.DecontamParams, mode: str, mark: bool):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = []
            for doc in batch.to_pylist():
                rows.extend(_decide(doc, effective, params, mode, mark))
            yield pa.RecordBatch.from_pylist(
                [{**r, "meta": list(r["meta"].items()) if r["meta"] is not None else None} for r in rows],
                schema=STAGED_ARROW_SCHEMA)
    return run


def _decide(doc: dict, effective: np.ndarray, params, mode: str, mark: bool) -> list[dict]:
    doc["meta"] = dict(doc["meta"]) if doc["meta"] is not None else None
    doc[DROP_REASON] = None
    text = doc["text"]
    if not text or not len(effective):
        return [doc]
    if mark or mode == "document":
        hits = decontam.colliding_ngrams(text, effective, params.ngram)
        if not len(hits):
            return [doc]
        if mark:
            doc["meta"] = {**(doc["meta"] or {}), HITS_KEY: str(len(hits))}
        else:
            doc[DROP_REASON] = "decontam:contaminated"
        return [doc]
    pieces, hits = decontam.cut(text, effective, params)
    if not hits:
        return [doc]
    if len(pieces) > params.max_pieces:
        return [{**doc, DROP_REASON: "decontam:too_many_pieces"}]
    rows = [{**doc, DROP_REASON: "decontam:split"}]     # replaced by its pieces
    for k, piece in enumerate(pieces):
        short = len(piece) < params.min_piece_chars
        rows.append({**doc, "id": f"{doc['id']}#dc{k}", "text": piece, "digest": text_digest(piece),
                     "meta": {**(doc["meta"] or {}), PARENT_KEY: doc["id"]},
                     DROP_REASON: "decontam:short_piece" if short else None})
    return rows


class DecontaminateJob(Job):
    name = "decontaminate"
    description = (
        "Remove evaluation-set text from training documents as GPT-3 Appendix C does: every 13-gram "
        "shared with an evaluation set is cut out with 200 characters on each side; pieces under 200 "
        "characters are dropped; a document cut into more than 10 pieces is removed; 13-grams found in "
        "more than 10 training documents are ignored. Reports, per evaluation set, how many of its "
        "examples overlap the corpus (GPT-3 §4's clean subsets).\n\n"
        "example: spark-submit pipeline/decontaminate.py --input webtext=curated/webtext "
        "--eval lambada=evals/lambada.jsonl --output decontaminated/")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", action="append", default=[], metavar="NAME=DIR", required=True,
                            help="a source name and its document folder (repeat for each source)")
        parser.add_argument("--eval", action="append", default=[], metavar="[NAME=]FILE", required=True,
                            help="an evaluation set: JSONL or text (one example per line), .gz allowed; "
                                 "or a task file (conf/eval/<task>.yaml), read through its reader, whose "
                                 "per-item dirty flags go to OUTPUT/_eval_flags/<task>.jsonl "
                                 "(train eval --clean-only OUTPUT)")
        parser.add_argument("--output", required=True, help="folder for OUTPUT/<source>/ and _stats.json")
        parser.add_argument("--mark", action="store_true",
                            help="only flag contaminated documents (meta decontam_ngrams), change nothing")
        parser.add_argument("--whole-documents", action="store_true",
                            help="shorthand for decontaminate.mode=document: remove any document with a hit")

    def flag_overrides(self, args) -> list[str]:
        return ["decontaminate.mode=document"] if args.whole_documents else []

    def validate(self, args, config: dict) -> None:
        conf = config["decontaminate"]
        if conf["mode"] not in MODES:
            raise ConfigError(f"config key 'decontaminate.mode' must be one of {', '.join(MODES)}")
        for key in ("ngram", "max_pieces", "max_doc_frequency"):
            if conf[key] < 1:
                raise ConfigError(f"config key 'decontaminate.{key}' must be >= 1")
        self.inputs = parse_inputs(args.input)
        self.evals: dict[str, str] = {}
        for spec in args.eval:
            name, sep, path = spec.partition("=")
            if not sep:
                path, name = spec, Path(spec).name.split(".")[0]
            if path.endswith((".yaml", ".yml")):
                read_items(load_task(path))      # a bad task file or item fails here, in one line
            if not Path(path).is_file():
                raise InputError(f"evaluation set not found: {path}")
            if name in self.evals:
                raise InputError(f"evaluation set {name} is given twice")
            self.evals[name] = path
        check_schemas(self.inputs)

    def fingerprint_inputs(self, args, config: dict) -> list[str]:
        tasks = [str(f) for p in self.evals.values() if p.endswith((".yaml", ".yml"))
                 for f in data_files(load_task(p))]
        return [*self.inputs.values(), *self.evals.values(), *tasks]

    def run(self, spark: SparkSession, args, config: dict) -> dict:
        conf = config["decontaminate"]
        params = decontam.DecontamParams(conf["ngram"], conf["margin_chars"], conf["min_piece_chars"],
                                         conf["max_pieces"], conf["max_doc_frequency"])
        examples, item_ids = {}, {}
        for name, path in self.evals.items():
            item_ids[name], examples[name] = _eval_examples(path, params, conf["text_fields"])
        all_grams = [g for per_example in examples.values() for g in per_example]
        eval_ngrams = np.unique(np.concatenate(all_grams)) if all_grams else np.empty(0, np.uint64)

        docs = {name: read_docs(spark, path) for name, path in self.inputs.items()}
        union = None
        for name, df in docs.items():
            part = df.select(F.concat(F.lit(f"{name}\x00"), "id").alias("id"), "text")
            union = part if union is None else union.unionByName(part)
        frequency = (union.mapInArrow(_hits_batches(eval_ngrams, params.ngram), "id string, ngram long")
                     .distinct().groupBy("ngram").count().collect())
        hits = {np.int64(r["ngram"]).astype(np.uint64).item(): int(r["count"]) for r in frequency}
        common = {g for g, c in hits.items() if c > params.max_doc_frequency}
        effective = np.array(sorted(set(hits) - common), dtype=np.uint64)

        work = output.join(args.output, "_work")
        staged = {}
        for name, df in docs.items():
            path = output.join(work, name)
            df.mapInArrow(_clean_batches(effective, params, conf["mode"], args.mark),
                          STAGED_SPARK_DDL).write.mode("overwrite").parquet(path)
            staged[name] = spark.read.parquet(path)
            staged[name].where(F.col(DROP_REASON).isNull()).select(*DOC_ARROW_SCHEMA.names) \
                .write.mode("overwrite").parquet(output.join(args.output, name))
        per_source = {name: reason_counts(df) for name, df in staged.items()}
        marked = ({name: df.where(F.col("meta").getItem(HITS_KEY).isNotNull()).count()
                   for name, df in staged.items()} if args.mark else None)
        pieces_kept = {name: int(df.where(F.col("meta").getItem(PARENT_KEY).isNotNull()
                                          & F.col(DROP_REASON).isNull()).count())
                       for name, df in staged.items()}
        fs, root = fsspec.core.url_to_fs(output.fs_url(args.output))
        fs.rm(output.join(root, "_work"), recursive=True)
        for name, ids in item_ids.items():
            if ids is not None:
                _write_flags(fs, output.join(root, FLAGS_DIR, f"{name}.jsonl"), ids, examples[name],
                             set(hits) - common)
        fs.touch(output.join(root, output.SUCCESS_FILE))
        return {
            "mode": "mark" if args.mark else conf["mode"],
            "eval_sets": {name: _clean_subset(per_example, set(hits), common)
                          for name, per_example in examples.items()},
            "eval_ngrams": int(len(eval_ngrams)),
            "colliding_ngrams": len(hits),
            "too_common_ngrams_ignored": len(common),
            "rows_by_reason": per_source,
            "marked_documents": marked,
            "pieces_kept": pieces_kept,
        }


def _eval_examples(path: str, params, text_fields: list[str]) -> tuple[list[str] | None, list[np.ndarray]]:
    """(item ids or None, each example's distinct n-grams); a task file is read through its reader."""
    if not path.endswith((".yaml", ".yml")):
        return None, decontam.eval_set_ngrams(path, params, text_fields)
    items = read_items(load_task(path))
    return [i.id for i in items], [np.unique(decontam.ngram_hashes(normalized_words(i.text()), params.ngram))
                                   for i in items]


def _write_flags(fs, path: str, ids: list[str], per_example: list[np.ndarray], effective: set[int]) -> None:
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    with fs.open(path, "w") as fh:
        for item_id, grams in zip(ids, per_example):
            fh.write(json.dumps({"id": item_id, "dirty": any(int(g) in effective for g in grams)}) + "\n")


def _clean_subset(per_example: list[np.ndarray], found: set[int], common: set[int]) -> dict:
    """GPT-3 §4: an example is dirty when one of its n-grams occurs in the training documents."""
    effective = found - common
    dirty = sum(1 for grams in per_example if any(int(g) in effective for g in grams))
    dirty_any = sum(1 for grams in per_example if any(int(g) in found for g in grams))
    short = sum(1 for grams in per_example if not len(grams))
    total = len(per_example)
    return {"examples": total, "dirty": dirty, "clean": total - dirty,
            "clean_fraction": round((total - dirty) / total, 4) if total else None,
            "dirty_counting_too_common_ngrams": dirty_any, "shorter_than_ngram": short}
