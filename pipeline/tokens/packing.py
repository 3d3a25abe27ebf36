"""From token shards to training rows: the index of a source, packing, epochs, interleaving.

A source's training stream is the endless concatenation of its epochs. Epoch e visits the source's
units (one Parquet row group each) in an order keyed on (seed, source, e), and the documents inside
a unit in an order keyed on (seed, source, e, unit); every document is followed by `<|endoftext|>`.
Row k of the source is tokens [k*L, (k+1)*L) of that stream (L = block_size + 1), so a row may run
from one document, unit or epoch into the next and no token is dropped. Because the length of every
unit is known up front (the manifest), row k is found without reading anything before it: this is
what lets any number of ranks and DataLoader workers share out rows by index, each reading only the
row groups its rows touch, and resume from a single count of rows.

Sources are interleaved by Megatron-LM's blending rule: row t of the mixture comes from the source
with the largest `w_i * max(t, 1) - count_i`. Rows all hold L tokens, so the weights are token
shares, and every prefix of the mixture is within a row or so of them.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow.parquet as pq

from pipeline.core.config import InputError
from pipeline.core.hashing import hash64
from pipeline.tokens import bpe
from pipeline.core.output import fingerprint_of, join
from pipeline.core.task_output import parquet_files
from pipeline.tokens.shards import VALIDATION, flat_tokens, open_parquet, order_keys, read_manifest

TOKENS, TEXT = "tokens", "text"


@dataclass(frozen=True)
class Unit:
    """One row group of one shard, as seen by one split: its documents and their tokens."""
    file: str
    row_group: int
    documents: int
    tokens: int

    @property
    def packed(self) -> int:  # each document is followed by <|endoftext|>
        return self.tokens + self.documents


@dataclass
class SourceSpec:
    """Everything a worker process needs to read one source (small and picklable)."""
    name: str
    kind: str                      # tokens | text
    split: str                     # train | validation
    units: list[Unit]
    eot_id: int
    # Set when the shards mix both splits (no manifest): documents are split by hash(seed, id).
    split_by_hash: bool = False
    split_seed: int = 0
    validation_fraction: float = 0.0
    tokenizer: str | None = None   # text sources are tokenized on the fly with it
    manifest: dict | None = field(default=None, repr=False)

    @property
    def tokens(self) -> int:
        """Tokens of one epoch, separators included."""
        return sum(u.packed for u in self.units)


def _parquet(path: str) -> pq.ParquetFile:
    # Keyed by process too: a DataLoader worker forked from a process holding open files must not
    # share their file positions with it.
    return _parquet_in_process(path, os.getpid())


@lru_cache(maxsize=64)
def _parquet_in_process(path: str, pid: int) -> pq.ParquetFile:
    return open_parquet(path)


def _select(values: np.ndarray, offsets: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.diff(offsets)[docs]
    new_offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    gather = np.arange(new_offsets[-1]) + np.repeat(offsets[docs] - new_offsets[:-1], lengths)
    return values[gather], new_offsets


def pack(values: np.ndarray, offsets: np.ndarray, order: np.ndarray, eot: int) -> np.ndarray:
    """The documents `order` names, each followed by `eot`, as one array (vectorised: a row group
    holds thousands of documents)."""
    picked, new_offsets = _select(values, offsets, order)
    lengths = np.diff(new_offsets)
    out = np.empty(len(picked) + len(order), dtype=np.int64)
    shift = np.repeat(np.arange(len(order)), lengths)  # each earlier document added one eot
    out[np.arange(len(picked)) + shift] = picked
    out[new_offsets[1:] + np.arange(len(order))] = eot
    return out


def read_docs(spec: SourceSpec, unit_file: str, row_group: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets) of the documents of `spec.split` in one row group; empty ones left out."""
    pf = _parquet(unit_file)
    need_ids = spec.split_by_hash
    if spec.kind == TEXT:
        table = pf.read_row_group(row_group, columns=["id", "text"])
        texts = [t or "" for t in table.column("text").to_pylist()]
        encoded = bpe.encode_batch(bpe.load(spec.tokenizer), texts)
        lengths = np.fromiter((len(t) for t in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = np.fromiter((v for t in encoded for v in t), dtype=np.int64, count=int(offsets[-1]))
    else:
        table = pf.read_row_group(row_group, columns=["id", "tokens"] if need_ids else ["tokens"])
        values, offsets = flat_tokens(table.column("tokens"))
        offsets = offsets.astype(np.int64)
    keep = np.diff(offsets) > 0
    if need_ids:
        in_validation = order_keys(spec.split_seed, table.column("id").to_pylist()) < spec.validation_fraction
        keep &= in_validation if spec.split == VALIDATION else ~in_validation
    if keep.all():
        return values, offsets
    return _select(values, offsets, np.flatnonzero(keep))


def index_source(name: str, path: str, split: str, *, seed: int, validation_fraction: float,
                 tokenizer: str | None, eot_id: int) -> SourceSpec:
    """The units of one source for one split: from manifest.json when the folder has one (no data
    read), else by reading every row group once (Spark-written token folders, text Parquet)."""
    manifest = read_manifest(path)
    if manifest is not None:
        units = [Unit(join(path, shard["file"]), i, group["documents"], group["tokens"])
                 for shard in manifest["shards"] if shard["split"] == split
                 for i, group in enumerate(shard["row_groups"])]
        return SourceSpec(name, TOKENS, split, units, eot_id, manifest=manifest)
    return _scan(name, path, split, seed, validation_fraction, tokenizer, eot_id, _listing(path))


def _listing(path: str) -> tuple:
    """What the scan cache is keyed on besides the parameters: the files, their sizes and times."""
    return tuple((f, fingerprint_of(f)) for f in parquet_files(path))


@lru_cache(maxsize=32)
def _scan(name, path, split, seed, validation_fraction, tokenizer, eot_id, listing) -> SourceSpec:
    files = [entry[0] for entry in listing]
    if not files:
        raise InputError(f"source {name}: no Parquet files in {path}")
    columns = set(_parquet(files[0]).schema_arrow.names)
    kind = TOKENS if "tokens" in columns else TEXT if "text" in columns else None
    if kind is None:
        raise InputError(f"source {name}: {files[0]} has neither a 'tokens' nor a 'text' column")
    if kind == TEXT and not tokenizer:
        raise InputError(f"source {name}: a text source needs the mixture's 'tokenizer'")
    spec = SourceSpec(name, kind, split, [], eot_id, split_by_hash=True, split_seed=seed,
                      validation_fraction=validation_fraction, tokenizer=tokenizer)
    for file in files:
        for group in range(_parquet(file).num_row_groups):
            _, offsets = read_docs(spec, file, group)
            if len(offsets) > 1:
                spec.units.append(Unit(file, group, len(offsets) - 1, int(offsets[-1])))
    return spec


class SourceStream:
    """Row k of one source (see the module docstring), with the last few units cached: the rows a
    worker asks for only move forward, so each unit it touches is read and packed once."""

    def __init__(self, spec: SourceSpec, row_len: int, seed: int, shuffle: bool = True,
                 cache_units: int = 2):
        if not spec.units or spec.tokens == 0:
            raise InputError(f"source {spec.name}: no {spec.split} tokens")
        self.spec, self.row_len, self.seed, self.shuffle = spec, row_len, seed, shuffle
        self.lengths = np.array([u.packed for u in spec.units], dtype=np.int64)
        self.epoch_tokens = int(self.lengths.sum())
        self._epochs: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._units: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cache_units = cache_units

    def _epoch(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(unit order, cumulative end offsets) of one epoch."""
        if epoch not in self._epochs:
            n = len(self.lengths)
            order = (np.random.default_rng(hash64(self.seed, "epoch", self.spec.name, epoch)).permutation(n)
                     if self.shuffle else np.arange(n))
            self._epochs[epoch] = (order, np.cumsum(self.lengths[order]))
            while len(self._epochs) > 2:
                self._epochs.popitem(last=False)
        return self._epochs[epoch]

    def _unit_tokens(self, epoch: int, unit_index: int) -> np.ndarray:
        key = (epoch, unit_index)
        if key not in self._units:
            unit = self.spec.units[unit_index]
            values, offsets = read_docs(self.spec, unit.file, unit.row_group)
            n_docs = len(offsets) - 1
            order = (np.random.default_rng(hash64(self.seed, "docs", self.spec.name, epoch, unit_index))
                     .permutation(n_docs) if self.shuffle else np.arange(n_docs))
            packed = pack(values, offsets, order, self.spec.eot_id)
            if len(packed) != unit.packed:
                raise InputError(f"source {self.spec.name}: {unit.file} row group {unit.row_group} "
                                 f"holds {len(packed)} tokens, its index says {unit.packed}; "
                                 "the shard changed after it was indexed")
            self._units[key] = packed
            while len(self._units) > self._cache_units:
                self._units.popitem(last=False)
        return self._units[key]

    def tokens(self, start: int, stop: int) -> np.ndarray:
        """Tokens [start, stop) of the endless stream of epochs."""
        pieces = []
        pos = start
        while pos < stop:
            epoch, offset = divmod(pos, self.epoch_tokens)
            order, ends = self._epoch(epoch)
            slot = int(np.searchsorted(ends, offset, side="right"))
            unit_start = int(ends[slot]) - int(self.lengths[order[slot]])
            packed = self._unit_tokens(epoch, int(order[slot]))
            piece = packed[offset - unit_start: offset - unit_start + (stop - pos)]
            pieces.append(piece)
            pos += len(piece)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def row(self, k: int) -> np.ndarray:
        return self.tokens(k * self.row_len, (k + 1) * self.row_len)

    def rows_per_epoch(self) -> int:
        return self.epoch_tokens // self.row_len


class Interleave:
    """Megatron-LM's blending rule as a resumable counter: its whole state is (rows, counts)."""

    def __init__(self, weights: list[float], rows: int = 0, counts: list[int] | None = None):
        total = float(sum(weights))
        self.weights = [w / total for w in weights]
        self.rows = rows
        self.counts = list(counts) if counts is not None else [0] * len(weights)

    def take(self, n: int) -> list[tuple[int, int]]:
        """The next n rows as (source index, row index within that source)."""
        picks = []
        weights, counts, sources = self.weights, self.counts, range(len(self.weights))
        for t in range(self.rows, self.rows + n):
            scale = max(t, 1)
            best = max(sources, key=lambda i: weights[i] * scale - counts[i])  # ties: the first
            picks.append((best, counts[best]))
            counts[best] += 1
        self.rows += n
        return picks

    def skip(self, n: int) -> None:
        self.take(n)
