"""`train_tokenizer`: a GPT-2-style byte-level BPE trained on a deterministic sample of the curated
sources, saved as tokenizer.json (+ tokenizer_config.json) for `transformers` and for the stages after.

The sample is the documents whose hash(seed, id) falls below sample_chars / corpus characters,
gathered into one sorted partition and streamed to the driver in hash order (`toLocalIterator`): the
same sample and the same order, so the same tokenizer, whatever the input partitioning. With GPT-2's own vocab.json + merges.txt
(`tokenizer.gpt2_vocab` / `tokenizer.gpt2_merges`) nothing is trained: those files are used as is.
"""
from __future__ import annotations

import argparse
from typing import Iterator

import pyarrow as pa

from pipeline.core.config import InputError
from pipeline.core.config import section as config_section
from pipeline.core.hashing import uniforms
from pipeline.core.job import Job
from pipeline.tokens import bpe
from pipeline.core.output import fs_path
from pipeline.core.task_output import mark_success, parquet_files

SECTION = "tokenizer"


def _sample_keys(seed: int):
    def add(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            keys = uniforms(seed, batch.column("id").to_pylist(), "tokenizer")
            yield pa.RecordBatch.from_arrays([batch.column("text"), pa.array(keys)], names=["text", "key"])
    return add


class TrainTokenizerJob(Job):
    name = SECTION
    description = __doc__.split("\n\n")[0] + """

examples:
  spark-submit pipeline/train_tokenizer.py --input curated/webtext curated/wikipedia --output tokenizer/
  spark-submit pipeline/train_tokenizer.py --input curated/webtext --output tokenizer/ --vocab-size 8192
  spark-submit pipeline/train_tokenizer.py --output tokenizer/ \\
      tokenizer.gpt2_vocab=gpt2/vocab.json tokenizer.gpt2_merges=gpt2/merges.txt
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", nargs="*", default=[], help="curated/<source> folders (document Parquet)")
        parser.add_argument("--output", required=True, help="folder for tokenizer.json")
        parser.add_argument("--vocab-size", type=int, help="shorthand for tokenizer.vocab_size")

    def flag_overrides(self, args) -> list[str]:
        return [f"{SECTION}.vocab_size={args.vocab_size}"] if args.vocab_size else []

    def validate(self, args, config) -> None:
        section = config_section(config, SECTION)
        if bool(section["gpt2_vocab"]) != bool(section["gpt2_merges"]):
            raise InputError("tokenizer.gpt2_vocab and tokenizer.gpt2_merges go together")
        if section["gpt2_vocab"]:
            bpe.from_gpt2_files(section["gpt2_vocab"], section["gpt2_merges"])
            return
        if not args.input:
            raise InputError("--input is required (or tokenizer.gpt2_vocab / tokenizer.gpt2_merges)")
        for folder in args.input:
            fs, root = fs_path(folder)
            if not fs.exists(root) or not parquet_files(folder):
                raise InputError(f"no Parquet documents in {folder}")
        if section["vocab_size"] < 257:
            raise InputError("tokenizer.vocab_size must be at least 257 (256 bytes + <|endoftext|>)")

    def fingerprint_inputs(self, args, config) -> list[str]:
        section = config_section(config, SECTION)
        return [section["gpt2_vocab"], section["gpt2_merges"]] if section["gpt2_vocab"] else list(args.input)

    def run(self, spark, args, config) -> dict:
        section = config_section(config, SECTION)
        if section["gpt2_vocab"]:
            tok = bpe.from_gpt2_files(section["gpt2_vocab"], section["gpt2_merges"])
            path = bpe.save(tok, args.output)
            mark_success(args.output)
            return {"mode": "gpt2_files", "vocab_size": tok.get_vocab_size(), "sha256": bpe.tokenizer_hash(path)}
        from pyspark.sql import functions as F

        docs = spark.read.parquet(*args.input).select("id", F.substring("text", 1, section["max_doc_chars"]).alias("text"))
        docs = docs.where(F.col("text").isNotNull() & (F.length("text") > 0))
        total = docs.agg(F.sum(F.length("text"))).first()[0] or 0
        fraction = min(1.0, section["sample_chars"] / total) if total else 1.0
        # One partition, sorted: the sample is bounded by sample_chars and the BPE trainer needs it
        # in one process anyway; streamed to the driver, never collected whole.
        sample = (docs.mapInArrow(_sample_keys(section["seed"]), "text string, key double")
                  .where(F.col("key") < fraction).repartition(1).sortWithinPartitions("key"))
        counted = {"documents": 0, "chars": 0}

        def texts():
            for row in sample.select("text").toLocalIterator():
                counted["documents"] += 1
                counted["chars"] += len(row["text"])
                yield row["text"]

        tok = bpe.train_bpe(texts(), section["vocab_size"], section["min_frequency"])
        path = bpe.save(tok, args.output)
        mark_success(args.output)
        return {"mode": "trained", "inputs": list(args.input), "corpus_chars": int(total),
                "sample_fraction": fraction, "sample_documents": counted["documents"],
                "sample_chars": counted["chars"], "vocab_size": tok.get_vocab_size(),
                "eot_id": bpe.eot_id(tok), "sha256": bpe.tokenizer_hash(path)}
