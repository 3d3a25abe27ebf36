"""The training stream: a weighted mixture of token sources as (x, y) batches, resumable exactly.

The stream is one deterministic global schedule (pipeline/tokens/packing.py): global row g of the
mixture is row k of source i, where (i, k) follow from Megatron's blending rule alone, and row k of a
source follows from its manifest alone. Consumers share it out by index and nothing else:

    rank r's local batch b holds global rows  start + (b * world_size + r) * batch_size + [0, batch_size)
    DataLoader worker j of N produces local batches b = j, j + N, j + 2N, ...

PyTorch's DataLoader hands an IterableDataset's batches to the main process round-robin over its
workers, so the main process sees b = 0, 1, 2, ... in order, with no row duplicated or skipped. The
position is therefore known in the MAIN process — "global rows consumed" plus the blending counters —
and `state_dict()` needs nothing from the workers: a resumed loader (any number of workers, even
another world size) continues with exactly the rows the uninterrupted run would have seen.
"""
from __future__ import annotations

import logging
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from pipeline.tokens.mixture import Mixture, MixtureError, source_specs
from pipeline.tokens.packing import Interleave, SourceSpec, SourceStream, index_source
from pipeline.tokens.shards import TRAIN, VALIDATION

log = logging.getLogger("webmix.data")
STATE_VERSION = 1


def _stack(rows: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.stack(rows).astype(dtype)


def _split(block: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    block = torch.from_numpy(block.astype(np.int64))
    return block[:, :-1].contiguous(), block[:, 1:].contiguous()


def _as_is(batch):
    """DataLoader's collate for ready batches. Workers send plain numpy arrays (pickled bytes): a
    tensor would cross through a shared-memory file descriptor per batch, several times slower."""
    return batch


class MixtureDataset(IterableDataset):
    """One consumer's share of the global schedule, as ready batches of rows (batch_size, block_size
    + 1), numpy (uint16 while the vocabulary fits): one array crosses from a worker to the main
    process, which splits it into x and y."""

    def __init__(self, specs: list[SourceSpec], weights: list[float], seed: int, block_size: int,
                 batch_size: int, rank: int, world_size: int, start_rows: int, start_counts: list[int],
                 vocab_size: int = 1 << 31):
        self.specs, self.weights, self.seed = specs, weights, seed
        self.block_size, self.batch_size, self.rank, self.world_size = block_size, batch_size, rank, world_size
        self.start_rows, self.start_counts = start_rows, list(start_counts)
        self.dtype = np.uint16 if vocab_size <= 1 << 16 else np.int64

    def batches(self, worker: int = 0, num_workers: int = 1) -> Iterator[tuple[list[int], list[np.ndarray]]]:
        """(source index of each row, rows) of local batches worker, worker + num_workers, ..."""
        streams = [SourceStream(spec, self.block_size + 1, self.seed) for spec in self.specs]
        schedule = Interleave(self.weights, self.start_rows, self.start_counts)
        b = worker
        while True:
            first = self.start_rows + (b * self.world_size + self.rank) * self.batch_size
            schedule.skip(first - schedule.rows)
            picks = schedule.take(self.batch_size)
            yield [i for i, _ in picks], [streams[i].row(k) for i, k in picks]
            b += num_workers

    def __iter__(self):
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info else (0, 1)
        for _, rows in self.batches(worker, num_workers):
            yield _stack(rows, self.dtype)


class MixtureLoader:
    """Batches of (x, y), shape (batch_size, block_size), y = x shifted by one, drawn from the
    mixture's sources in proportion to their weights; endless (the trainer stops at its budget).
    Each `iter()` continues from the current position (after `load_state_dict`, from there)."""

    def __init__(self, mixture: Mixture, block_size: int, batch_size: int, *, split: str = TRAIN,
                 rank: int = 0, world_size: int = 1, num_workers: int = 0):
        if split not in (TRAIN, VALIDATION):
            raise ValueError(f"split must be '{TRAIN}' or '{VALIDATION}', got {split!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        self.mixture, self.split = mixture, split
        self.block_size, self.batch_size = block_size, batch_size
        self.rank, self.world_size, self.num_workers = rank, world_size, num_workers
        self.specs = source_specs(mixture, split)
        for spec in self.specs:
            if spec.tokens == 0:
                raise MixtureError(f"source '{spec.name}' has no {split} tokens")
        self.names = [s.name for s in mixture.sources]
        self.weights = [s.weight for s in mixture.sources]
        self._schedule = Interleave(self.weights)  # the main process's copy: the resumable position

    def _dataset(self) -> MixtureDataset:
        return MixtureDataset(self.specs, self.weights, self.mixture.seed, self.block_size, self.batch_size,
                              self.rank, self.world_size, self._schedule.rows, self._schedule.counts,
                              self.mixture.vocab_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        dataset = self._dataset()
        if self.num_workers == 0:
            batches = iter(dataset)
        else:
            batches = iter(DataLoader(dataset, batch_size=None, num_workers=self.num_workers,
                                      collate_fn=_as_is, prefetch_factor=4))
        rows_per_step = self.batch_size * self.world_size
        for block in batches:
            # Every rank takes one batch per step, so one step moves the global position by this much.
            self._schedule.skip(rows_per_step)
            yield _split(block)

    # --- position ---------------------------------------------------------------------------------
    def tokens_per_source(self) -> dict[str, int]:
        """Tokens (block_size per row, all ranks together) drawn so far from each source."""
        return {n: c * self.block_size for n, c in zip(self.names, self._schedule.counts)}

    def epochs_per_source(self) -> dict[str, float]:
        row = self.block_size + 1
        return {s.name: c * row / s.tokens for s, c in zip(self.specs, self._schedule.counts)}

    def state_dict(self) -> dict:
        return {"version": STATE_VERSION, "rows": self._schedule.rows, "counts": list(self._schedule.counts),
                "sources": list(self.names), "weights": list(self.weights), "seed": self.mixture.seed,
                "block_size": self.block_size, "split": self.split,
                "tokenizer_hash": self.mixture.tokenizer_hash}

    def load_state_dict(self, state: dict) -> None:
        def same(key, mine):
            if state.get(key) != mine:
                raise MixtureError(f"data state was saved with {key}={state.get(key)!r}, this run has "
                                   f"{mine!r}: the stream cannot resume exactly")
        if state.get("version") != STATE_VERSION:
            raise MixtureError(f"data state version {state.get('version')!r} is not {STATE_VERSION}")
        for key, mine in (("sources", self.names), ("seed", self.mixture.seed), ("block_size", self.block_size),
                          ("split", self.split), ("tokenizer_hash", self.mixture.tokenizer_hash)):
            same(key, mine)
        if [round(w, 12) for w in state["weights"]] != [round(w, 12) for w in self.weights]:
            log.warning("resuming with other mixture weights: the blending rule corrects the shares from here on")
        self._schedule = Interleave(self.weights, int(state["rows"]), [int(c) for c in state["counts"]])


def validation_batches(mixture: Mixture, block_size: int, batch_size: int, source: str,
                       max_batches: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Held-out rows of one source, in stored order, one pass (at most max_batches full batches).
    Held out by hash(seed, id): no document here is ever in a training row."""
    src = mixture.source(source)
    spec = index_source(src.name, src.path, VALIDATION, seed=mixture.seed,
                        validation_fraction=mixture.validation_fraction,
                        tokenizer=mixture.tokenizer, eot_id=mixture.eot_id)
    if spec.tokens == 0:
        return
    stream = SourceStream(spec, block_size + 1, mixture.seed, shuffle=False)
    rows = stream.rows_per_epoch()
    for b in range(min(max_batches, rows // batch_size)):
        yield _split(_stack([stream.row(k) for k in range(b * batch_size, (b + 1) * batch_size)]))
