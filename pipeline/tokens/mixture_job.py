"""`build_mixture`: materialise a mixture as pre-shuffled rows, for trainers other than ours.

The rows are exactly the ones `training.data.MixtureLoader` would stream for the same mixture and
block size (same blending, same per-epoch shuffles), written in order as shards of `rows_per_shard`
rows: Parquet (`source`, `tokens` of block_size + 1), llm.c / nanoGPT `.bin` and Megatron `.bin/.idx`
(one sequence per row). The driver walks the blending rule once to find where each shard starts
(integers only); each Spark task then writes one shard, reading only the row groups its rows touch,
under `_temporary/`, committed by the driver with `manifest.json` and `_SUCCESS` last.
"""
from __future__ import annotations

import argparse
import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import InputError
from pipeline.core.config import section as config_section
from pipeline.core.job import Job
from pipeline.tokens import bpe
from pipeline.tokens.exports import LlmcWriter, MegatronWriter, export_bytes, free_bytes, open_write
from pipeline.tokens.packing import Interleave, SourceStream
from pipeline.core.output import fs_path, join
from pipeline.core.task_output import TEMP_DIR, attempt_name, clear, commit, mark_success
from pipeline.tokens.shards import MANIFEST_FILE, TRAIN, write_json

SECTION = "build_mixture"
FORMATS = ("parquet", "llmc", "megatron")


def shard_files(index: int, formats) -> dict[str, list[str]]:
    base = f"mixture-{index:05d}"
    names = {"parquet": [base + ".parquet"], "llmc": [base + ".bin"],
             "megatron": [base + ".megatron.bin", base + ".megatron.idx"]}
    return {f: names[f] for f in formats}


def write_shard(task: dict, *, specs, weights, seed: int, row_len: int, output: str, formats, vocab_size: int,
                attempt: str) -> list[dict]:
    """Rows [task.start, task.start + task.rows) of the mixture into one shard's files."""
    streams = [SourceStream(spec, row_len, seed) for spec in specs]
    schedule = Interleave(weights, task["start"], task["counts"])
    temp = join(output, TEMP_DIR, attempt)
    fs, temp_path = fs_path(temp)
    fs.makedirs(temp_path, exist_ok=True)
    names = shard_files(task["index"], formats)
    llmc = LlmcWriter(join(temp, names["llmc"][0]), vocab_size) if "llmc" in formats else None
    megatron = (MegatronWriter(join(temp, names["megatron"][0][:-4]), vocab_size)
                if "megatron" in formats else None)
    dtype = bpe.token_dtype(vocab_size)
    sources, rows = [], []
    for i, k in schedule.take(task["rows"]):
        row = streams[i].row(k)
        sources.append(specs[i].name)
        rows.append(row.astype(dtype))
        if llmc:
            llmc.add(row)
        if megatron:
            megatron.add(row)
    for writer in (llmc, megatron):
        if writer:
            writer.close()
    if "parquet" in formats:
        values = np.concatenate(rows)
        offsets = np.arange(len(rows) + 1, dtype=np.int32) * row_len
        table = pa.table({"source": pa.array(sources).dictionary_encode(),
                          "tokens": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))})
        with open_write(join(temp, names["parquet"][0])) as fh:
            pq.write_table(table, fh, compression="zstd")
    per_source = {spec.name: sources.count(spec.name) for spec in specs}
    return [{"temp": f"{TEMP_DIR}/{attempt}/{name}", "file": name, "format": fmt, "shard": task["index"],
             "rows": task["rows"], "rows_per_source": per_source}
            for fmt, files in names.items() for name in files]


def absolute(url: str) -> str:
    """A local path made absolute (executors may run elsewhere); a URL (s3://...) as it is."""
    return url if "://" in url else os.path.abspath(url)


def export_tokens(requested: int, budget: int, available: int) -> int:
    """Tokens to export: what `build_mixture.tokens` asks for, else (0) one pass over what is on disk,
    never more than the mixture's budget: min(token_budget, tokens available). GPT-3's 300B budget
    against a sample's few million tokens exports the few million, not 300B."""
    return requested or min(budget, available)


def check_disk(rows: int, block: int, vocab_size: int, formats: list[str], output: str) -> None:
    """Refuse, before Spark starts, an export larger than the free space where it is written."""
    needed, free = export_bytes(rows, block + 1, vocab_size, len(formats)), free_bytes(output)
    if free is not None and needed > free:
        raise InputError(f"build_mixture: {rows:,} rows x {block + 1} tokens in {len(formats)} formats need "
                         f"{needed / 1e9:,.1f} GB, {free / 1e9:,.1f} GB free at {output}; "
                         "set build_mixture.tokens lower or build_mixture.formats shorter")


def plan(weights: list[float], total_rows: int, rows_per_shard: int) -> list[dict]:
    """Where each shard starts: global row and the blending counters there."""
    schedule, tasks = Interleave(weights), []
    for index, start in enumerate(range(0, total_rows, rows_per_shard)):
        n = min(rows_per_shard, total_rows - start)
        tasks.append({"index": index, "start": start, "rows": n, "counts": list(schedule.counts)})
        schedule.skip(n)
    return tasks


class BuildMixtureJob(Job):
    name = SECTION
    description = __doc__.split("\n\n")[0] + """

example:
  spark-submit pipeline/build_mixture.py --mixture conf/gpt3_mix.yaml --root runs/demo \\
      --output runs/demo/mixture build_mixture.tokens=10000000

tokens exported: build_mixture.tokens, or (0, the default) min(the mixture's token_budget, the tokens
its sources hold): one pass over the data. A run whose rows x (block_size + 1) x token bytes x formats
exceed the output disk's free space is refused before Spark starts.
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--mixture", required=True, help="a mixture YAML (conf/gpt3_mix.yaml)")
        parser.add_argument("--root", help="folder the mixture's relative paths are under (its 'root' key)")
        parser.add_argument("--output", required=True, help="folder for the shards and manifest.json")
        parser.add_argument("--block-size", type=int, help="shorthand for build_mixture.block_size")

    def flag_overrides(self, args) -> list[str]:
        return [f"{SECTION}.block_size={args.block_size}"] if args.block_size else []

    def _mixture(self, args):
        from pipeline.tokens.mixture import load_mixture  # the one mixture loader, shared with the trainer
        return load_mixture(args.mixture, {"root": args.root} if args.root else None)

    def validate(self, args, config) -> None:
        section = config_section(config, SECTION)
        unknown = set(section["formats"]) - set(FORMATS)
        if unknown or not section["formats"]:
            raise InputError(f"build_mixture.formats must be a non-empty subset of {list(FORMATS)}")
        if section["block_size"] < 1 or section["rows_per_shard"] < 1 or section["tokens"] < 0:
            raise InputError("build_mixture.block_size and rows_per_shard must be positive, tokens >= 0")
        mixture = self._mixture(args)  # MixtureError (an InputError): one line, before Spark starts
        tokens = export_tokens(section["tokens"], mixture.token_budget, sum(s.tokens for s in mixture.sources))
        check_disk(math.ceil(tokens / section["block_size"]), section["block_size"], mixture.vocab_size,
                   section["formats"], args.output)

    def fingerprint_inputs(self, args, config) -> list[str]:
        mixture = self._mixture(args)
        return [args.mixture, mixture.tokenizer, *(s.path for s in mixture.sources)]

    def run(self, spark, args, config) -> dict:
        from pipeline.tokens.mixture import format_table, resolve_table, source_specs

        section = config_section(config, SECTION)
        mixture = self._mixture(args)
        block, formats = section["block_size"], list(section["formats"])
        tokens = export_tokens(section["tokens"], mixture.token_budget, sum(s.tokens for s in mixture.sources))
        total_rows = math.ceil(tokens / block)
        weights = [s.weight for s in mixture.sources]
        specs = source_specs(mixture, TRAIN)
        tasks = plan(weights, total_rows, section["rows_per_shard"])
        output, seed, vocab = absolute(args.output), mixture.seed, mixture.vocab_size
        clear(output)

        def run_task(task):
            return write_shard(task, specs=specs, weights=weights, seed=seed, row_len=block + 1, output=output,
                               formats=formats, vocab_size=vocab, attempt=attempt_name())

        entries = [e for shard in spark.sparkContext.parallelize(tasks, len(tasks)).map(run_task).collect()
                   for e in shard]
        files = commit(output, entries)
        rows_per_source = {s.name: 0 for s in mixture.sources}
        for shard in {f["shard"]: f for f in files}.values():
            for name, n in shard["rows_per_source"].items():
                rows_per_source[name] += n
        table = resolve_table(mixture, total_rows * block)
        manifest = {
            "format": "webmix-mixture/1", "mixture": absolute(args.mixture), "seed": seed,
            "block_size": block, "row_tokens": block + 1, "rows": total_rows, "formats": formats,
            "tokenizer": {"sha256": mixture.tokenizer_hash, "vocab_size": vocab, "eot_id": mixture.eot_id},
            "sources": [{"name": s.name, "path": s.path, "weight": s.weight, "tokens_available": s.tokens,
                         "rows": rows_per_source[s.name]} for s in mixture.sources],
            "table": table, "shards": files,
        }
        write_json(join(output, MANIFEST_FILE), manifest)
        mark_success(output)
        print(format_table(table, total_rows * block))
        return {"rows": total_rows, "tokens": total_rows * block, "shards": len(tasks),
                "rows_per_source": rows_per_source, "warnings": mixture.warnings}
