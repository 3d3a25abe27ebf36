"""`tokenize_corpus`: curated documents -> token shards (id, tokens as list<uint16>, n_tokens) in
hash(seed, id) order, a validation split held out by that hash, manifest.json and _SUCCESS.

Spark orders the documents by hash(seed, id) (a range partitioning, then a sort inside each
partition), and each task batch-encodes its partition with the tokenizer (parsed once per Python
worker) and writes its own shard with pyarrow, row group by row group. So a source stored in
alphabetical order (Wikipedia) is not read alphabetically, and the concatenation of the shards is
the same whatever the partition count. `tokenize_local` does the same without Spark (tests, small
folders).
"""
from __future__ import annotations

import argparse
import json
import logging
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import InputError
from pipeline.core.config import section as config_section
from pipeline.core.job import Job
from pipeline.tokens import bpe
from pipeline.core.output import fs_path, join
from pipeline.core.task_output import TEMP_DIR, attempt_name, clear, commit, mark_success, parquet_files
from pipeline.tokens.shards import (MANIFEST_FILE, MANIFEST_FORMAT, TRAIN, VALIDATION, ShardWriter, order_keys,
                                    shard_name, write_json)

log = logging.getLogger("webmix.tokens")
SECTION = "tokenize_corpus"
EMPTY = "tokenize:empty"   # a document whose text is null, empty or encodes to no token
WRITTEN_DDL = ("temp string, file string, split string, documents bigint, tokens bigint, row_groups string, "
               "dropped_empty bigint")
WRITTEN_SCHEMA = pa.schema([
    ("temp", pa.string()), ("file", pa.string()), ("split", pa.string()), ("documents", pa.int64()),
    ("tokens", pa.int64()), ("row_groups", pa.string()), ("dropped_empty", pa.int64()),
])


def write_partition(batches: Iterable[pa.RecordBatch], *, output: str, partition: int, attempt: str,
                    tokenizer_json: str, validation_fraction: float, row_group_tokens: int,
                    batch_size: int = 256) -> list[dict]:
    """Tokenize one partition (batches of id, text, key in key order) into its train and
    validation shards under `_temporary/<attempt>/`; one entry per file written, plus a last entry
    that carries the partition's drop count."""
    tok = bpe.load_from_string(tokenizer_json)
    dtype = bpe.token_dtype(tok.get_vocab_size())
    writers = {split: ShardWriter(join(output, TEMP_DIR, attempt, shard_name(split, partition)), dtype,
                                  row_group_tokens) for split in (TRAIN, VALIDATION)}
    dropped = 0
    for batch in batches:
        ids = batch.column("id").to_pylist()
        texts = batch.column("text").to_pylist()
        keys = batch.column("key").to_numpy()
        for start in range(0, len(ids), batch_size):
            chunk = slice(start, start + batch_size)
            encoded = bpe.encode_batch(tok, [t or "" for t in texts[chunk]])
            for doc_id, key, tokens in zip(ids[chunk], keys[chunk], encoded):
                if not tokens:
                    dropped += 1
                    continue
                writers[VALIDATION if key < validation_fraction else TRAIN].add(doc_id, tokens)
    entries = []
    for split, writer in writers.items():
        stats = writer.close()
        if stats is not None:
            name = shard_name(split, partition)
            entries.append({"temp": f"{TEMP_DIR}/{attempt}/{name}", "file": name, "split": split,
                            "documents": stats["documents"], "tokens": stats["tokens"],
                            "row_groups": stats["row_groups"], "dropped_empty": 0})
    entries.append({"temp": None, "file": None, "split": None, "documents": 0, "tokens": 0,
                    "row_groups": [], "dropped_empty": dropped})
    return entries


def finish(output: str, entries: list[dict], *, source: str, tokenizer_path: str, seed: int,
           validation_fraction: float) -> dict:
    """Commit the files of successful attempts, copy the tokenizer, write manifest.json and
    `_SUCCESS`; return the manifest."""
    dropped = sum(e["dropped_empty"] for e in entries)
    files = [{k: v for k, v in e.items() if k != "dropped_empty"} for e in entries if e["file"]]
    shards = commit(output, files)
    fs, root = fs_path(output)
    tok = bpe.load(tokenizer_path)
    fs.put_file(bpe.resolve_path(tokenizer_path), join(root, bpe.TOKENIZER_FILE))
    totals = {split: {"documents": sum(s["documents"] for s in shards if s["split"] == split),
                      "tokens": sum(s["tokens"] for s in shards if s["split"] == split)}
              for split in (TRAIN, VALIDATION)}
    manifest = {
        "format": MANIFEST_FORMAT,
        "source": source,
        "tokenizer": {"file": bpe.TOKENIZER_FILE, "sha256": bpe.tokenizer_hash(tokenizer_path),
                      "vocab_size": tok.get_vocab_size(), "eot_id": bpe.eot_id(tok)},
        "token_dtype": str(bpe.token_dtype(tok.get_vocab_size())),
        "order": "uniform(seed, id, 'order') ascending; validation: that value < validation_fraction",
        "seed": seed, "validation_fraction": validation_fraction,
        "documents": {s: t["documents"] for s, t in totals.items()},
        "tokens": {s: t["tokens"] for s, t in totals.items()},
        "dropped": {EMPTY: dropped},
        "shards": shards,
        "row_groups": sum(len(s["row_groups"]) for s in shards),
    }
    write_json(join(output, MANIFEST_FILE), manifest)
    mark_success(output)
    return manifest


def tokenize_local(table: pa.Table, output: str, tokenizer_path: str, *, source: str = "local", seed: int = 1234,
                   validation_fraction: float = 0.001, shards: int = 1, row_group_tokens: int = 1 << 20) -> dict:
    """The job without Spark, on an in-memory table of documents (id, text): same order, same files."""
    ids = table.column("id").to_pylist()
    keys = order_keys(seed, ids)
    order = np.array(sorted(range(len(ids)), key=lambda i: (keys[i], ids[i])), dtype=np.int64)
    table = table.select(["id", "text"]).take(pa.array(order)).append_column("key", pa.array(keys[order]))
    clear(output)
    with open(bpe.resolve_path(tokenizer_path), encoding="utf-8") as fh:
        tokenizer_json = fh.read()
    entries = []
    for p, part in enumerate(np.array_split(np.arange(len(table)), max(shards, 1))):
        batches = table.slice(int(part[0]), len(part)).to_batches() if len(part) else []
        entries += write_partition(batches, output=output, partition=p, attempt=f"local-{p}",
                                   tokenizer_json=tokenizer_json, validation_fraction=validation_fraction,
                                   row_group_tokens=row_group_tokens)
    return finish(output, entries, source=source, tokenizer_path=tokenizer_path, seed=seed,
                  validation_fraction=validation_fraction)


def _key_batches(seed: int):
    def add_keys(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            keys = order_keys(seed, batch.column("id").to_pylist())
            yield pa.RecordBatch.from_arrays([batch.column("id"), batch.column("text"), pa.array(keys)],
                                             names=["id", "text", "key"])
    return add_keys


def _writer_task(output, tokenizer_bc, validation_fraction, row_group_tokens):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext
        entries = write_partition(batches, output=output, partition=TaskContext.get().partitionId(),
                                  attempt=attempt_name(), tokenizer_json=tokenizer_bc.value,
                                  validation_fraction=validation_fraction, row_group_tokens=row_group_tokens)
        rows = [{**e, "row_groups": json.dumps(e["row_groups"])} for e in entries]
        yield pa.RecordBatch.from_pylist(rows, schema=WRITTEN_SCHEMA)
    return run


class TokenizeJob(Job):
    name = SECTION
    description = __doc__.split("\n\n")[0] + """

example:
  spark-submit pipeline/tokenize_corpus.py --input curated/wikipedia --tokenizer tokenizer/tokenizer.json \\
      --output tokens/wikipedia
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", required=True, help="a curated/<source> folder (document Parquet)")
        parser.add_argument("--tokenizer", required=True, help="tokenizer.json (or the folder holding it)")
        parser.add_argument("--output", required=True, help="the token folder to write, e.g. tokens/<source>")
        parser.add_argument("--source", help="source name for the manifest (default: the input folder's name)")

    def validate(self, args, config) -> None:
        bpe.load(bpe.resolve_path(args.tokenizer))  # InputError when missing
        fs, root = fs_path(args.input)
        if not fs.exists(root):
            raise InputError(f"input not found: {args.input}")
        if args.output.rstrip("/") == args.input.rstrip("/"):
            raise InputError("--output must not be the --input folder (the output folder is replaced)")
        files = parquet_files(args.input)
        if not files:
            raise InputError(f"no Parquet files in {args.input}")
        fs, path = fs_path(files[0])
        with fs.open(path, "rb") as fh:
            names = pq.read_schema(fh).names
        missing = {"id", "text"} - set(names)
        if missing:
            raise InputError(f"{args.input} lacks column(s) {sorted(missing)} (found: {', '.join(names)})")
        section = config_section(config, SECTION)
        if not 0 <= section["validation_fraction"] < 1:
            raise InputError(f"{SECTION}.validation_fraction must be in [0, 1)")
        if section["row_group_tokens"] < 1:
            raise InputError(f"{SECTION}.row_group_tokens must be positive")

    def fingerprint_inputs(self, args, config) -> list[str]:
        return [args.input, bpe.resolve_path(args.tokenizer)]

    def run(self, spark, args, config) -> dict:
        section = config_section(config, SECTION)
        seed, fraction = section["seed"], section["validation_fraction"]
        source = args.source or args.input.rstrip("/").rsplit("/", 1)[-1]
        docs = spark.read.parquet(args.input).select("id", "text")
        shards = section["shards"] or docs.rdd.getNumPartitions()
        with open(bpe.resolve_path(args.tokenizer), encoding="utf-8") as fh:
            tokenizer_bc = spark.sparkContext.broadcast(fh.read())
        clear(args.output)
        keyed = docs.mapInArrow(_key_batches(seed), "id string, text string, key double")
        ordered = keyed.repartitionByRange(shards, "key", "id").sortWithinPartitions("key", "id")
        written = ordered.mapInArrow(_writer_task(args.output, tokenizer_bc, fraction, section["row_group_tokens"]),
                                     WRITTEN_DDL).collect()  # one small row per file written
        entries = [{**row.asDict(), "row_groups": json.loads(row["row_groups"])} for row in written]
        manifest = finish(args.output, entries, source=source, tokenizer_path=args.tokenizer, seed=seed,
                          validation_fraction=fraction)
        documents_out = sum(manifest["documents"].values())
        return {"source": source, "documents_in": documents_out + manifest["dropped"][EMPTY],
                "documents_out": documents_out, "drop_reasons": manifest["dropped"],
                "documents": manifest["documents"], "tokens": manifest["tokens"],
                "shards": len(manifest["shards"]), "row_groups": manifest["row_groups"],
                "tokenizer_sha256": manifest["tokenizer"]["sha256"]}
