"""Token shards on disk: the Parquet layout, the writer tasks use, the commit, the manifest.

A token folder `tokens/<source>/` holds `train-NNNNN.parquet` and `valid-NNNNN.parquet` shards
(rows `id`, `tokens` list<uint16> (int32 when the vocabulary is larger), `n_tokens`), a copy of the
tokenizer, `manifest.json` and `_SUCCESS`. Rows within and across shards are in hash(seed, id)
order; a document is held out for validation when that same hash is below `validation_fraction`, so
the validation shards hold the first documents of that order and no training row ever holds them.

Shards are written by the Spark tasks themselves with pyarrow (Spark has no unsigned types): each
task writes under `_temporary/<attempt>/`, the driver moves the files of the attempts Spark reports
as successful into place, then writes the manifest and `_SUCCESS` last, as Spark's committer does.
"""
from __future__ import annotations

import json
import posixpath
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.hashing import uniforms
from pipeline.core.output import fs_path, join

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "webmix-tokens/1"
TRAIN, VALIDATION = "train", "validation"
SHARD_PREFIX = {TRAIN: "train", VALIDATION: "valid"}
ORDER_SALT = "order"


def token_schema(dtype: np.dtype) -> pa.Schema:
    return pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("tokens", pa.list_(pa.from_numpy_dtype(dtype))),
        pa.field("n_tokens", pa.int32()),
    ])


def order_keys(seed: int, ids: Iterable[str]) -> np.ndarray:
    """hash(seed, id) in [0, 1): the order documents are stored in and the validation rule."""
    return uniforms(seed, ids, ORDER_SALT)


def shard_name(split: str, index: int) -> str:
    return f"{SHARD_PREFIX[split]}-{index:05d}.parquet"


class ShardWriter:
    """One shard file, written row group by row group: a row group closes once it holds at least
    `row_group_tokens` tokens, so a reader never needs more than about that much in memory."""

    def __init__(self, url: str, dtype: np.dtype, row_group_tokens: int):
        self.url, self.dtype, self.row_group_tokens = url, np.dtype(dtype), row_group_tokens
        self.schema = token_schema(self.dtype)
        self._ids: list[str] = []
        self._tokens: list[list[int]] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None
        self._fh = None
        self.row_groups: list[dict] = []

    def add(self, doc_id: str, tokens: list[int]) -> None:
        self._ids.append(doc_id)
        self._tokens.append(tokens)
        self._buffered += len(tokens)
        if self._buffered >= self.row_group_tokens:
            self._flush()

    def _flush(self) -> None:
        if not self._ids:
            return
        lengths = np.fromiter((len(t) for t in self._tokens), dtype=np.int32, count=len(self._tokens))
        offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        values = np.concatenate([np.asarray(t, dtype=self.dtype) for t in self._tokens])
        table = pa.table({
            "id": pa.array(self._ids, pa.string()),
            "tokens": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values)),
            "n_tokens": pa.array(lengths),
        }, schema=self.schema)
        if self._writer is None:
            fs, path = fs_path(self.url)
            fs.makedirs(posixpath.dirname(path), exist_ok=True)
            self._fh = fs.open(path, "wb")
            self._writer = pq.ParquetWriter(self._fh, self.schema, compression="zstd")
        self._writer.write_table(table, row_group_size=len(table))  # exactly one row group
        self.row_groups.append({"documents": len(lengths), "tokens": int(offsets[-1])})
        self._ids, self._tokens, self._buffered = [], [], 0

    def close(self) -> dict | None:
        """Finish the file; its statistics, or None when no document was written (no file)."""
        self._flush()
        if self._writer is None:
            return None
        self._writer.close()
        self._fh.close()
        return {"documents": sum(g["documents"] for g in self.row_groups),
                "tokens": sum(g["tokens"] for g in self.row_groups), "row_groups": self.row_groups}


def write_json(url: str, data: dict) -> None:
    fs, path = fs_path(url)
    with fs.open(path, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)


def read_manifest(folder: str) -> dict | None:
    fs, root = fs_path(folder)
    path = join(root, MANIFEST_FILE)
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as fh:
        return json.load(fh)


def open_parquet(path: str) -> pq.ParquetFile:
    if "://" not in path:
        return pq.ParquetFile(path)  # Arrow's own reader: positional reads, memory-map friendly
    fs, p = fs_path(path)
    return pq.ParquetFile(fs.open(p, "rb"))


def flat_tokens(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A list<int> column -> (values, offsets) numpy arrays, without a Python loop."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    offsets = column.offsets.to_numpy()
    values = column.flatten().to_numpy(zero_copy_only=False)  # flatten() honours a slice
    return values, offsets - offsets[0]
