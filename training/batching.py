"""The one batching helper of the trainer's task rooms (evaluation, fine-tuning, instruction tuning):
padding, length-sorted batches, and packing several examples into one row without attention between
them.

Padding and packing are the two ways to put sequences of different lengths into one tensor: padding
wastes compute on pad positions, packing needs a block-diagonal attention mask and positions that
restart per example (GPT.forward takes both).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

IGNORE = -1  # the target value GPT.forward's loss ignores


def pad_sequences(seqs: list[list[int]], pad_value: int, *, side: str = "right",
                  length: int | None = None) -> torch.Tensor:
    """A (B, T) LongTensor of `seqs` padded with `pad_value` on `side` to `length` (default: the longest)."""
    if side not in ("right", "left"):
        raise ValueError(f"side={side!r}; use right or left")
    T = max((len(s) for s in seqs), default=0) if length is None else length
    out = torch.full((len(seqs), T), pad_value, dtype=torch.long)
    for row, seq in enumerate(seqs):
        if len(seq) > T:
            raise ValueError(f"sequence {row} has {len(seq)} tokens, more than length {T}")
        if seq:
            values = torch.as_tensor(seq, dtype=torch.long)
            if side == "right":
                out[row, : len(seq)] = values
            else:
                out[row, T - len(seq):] = values
    return out


def length_sorted_batches(lengths: list[int], batch_size: int, *, seed: int,
                          shuffle: bool = True) -> list[list[int]]:
    """Indices grouped into batches of similar length (little padding); the order of the batches is
    shuffled by `seed` so training does not see the lengths in order. Ties keep index order."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        random.Random(seed).shuffle(batches)
    return batches


def block_diagonal_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """Bool (B, T, T): query i may attend key j only within the same segment. Padding (segment -1)
    attends nothing and is attended by nothing (GPT.forward still lets every position see itself)."""
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    return same & (segment_ids >= 0)[:, :, None]


@dataclass
class PackedBatch:
    input_ids: torch.Tensor     # (R, block_size)
    targets: torch.Tensor       # next token where it is a loss token of the same example, else -1
    position_ids: torch.Tensor  # restart at 0 for every example
    segment_ids: torch.Tensor   # example number within its row, -1 on padding
    attn_mask: torch.Tensor     # block_diagonal_mask(segment_ids)


def pack_examples(examples: list[tuple[list[int], list[bool]]], block_size: int,
                  pad_id: int) -> PackedBatch:
    """Pack (token ids, loss mask) examples into rows of `block_size` tokens, first fit in the given
    order. loss_mask[i] says whether predicting token i counts (response tokens in SFT). Examples
    longer than block_size are the caller's to skip or cut (ValueError here)."""
    rows: list[list[int]] = []  # example indices per row
    room: list[int] = []
    for n, (ids, mask) in enumerate(examples):
        if len(ids) != len(mask):
            raise ValueError(f"example {n}: {len(ids)} tokens but {len(mask)} loss-mask values")
        if len(ids) > block_size:
            raise ValueError(f"example {n} has {len(ids)} tokens, more than block_size {block_size}")
        row = next((r for r, free in enumerate(room) if free >= len(ids)), None)
        if row is None:
            rows.append([])
            room.append(block_size)
            row = len(rows) - 1
        rows[row].append(n)
        room[row] -= len(ids)
    shape = (len(rows), block_size)
    input_ids = torch.full(shape, pad_id, dtype=torch.long)
    targets = torch.full(shape, IGNORE, dtype=torch.long)
    position_ids = torch.zeros(shape, dtype=torch.long)
    segment_ids = torch.full(shape, -1, dtype=torch.long)
    for r, members in enumerate(rows):
        at = 0
        for segment, n in enumerate(members):
            ids, mask = examples[n]
            end = at + len(ids)
            input_ids[r, at:end] = torch.as_tensor(ids, dtype=torch.long)
            position_ids[r, at:end] = torch.arange(len(ids))
            segment_ids[r, at:end] = segment
            nxt = torch.as_tensor(ids[1:], dtype=torch.long)
            counts = torch.as_tensor(mask[1:], dtype=torch.bool)
            targets[r, at:end - 1] = torch.where(counts, nxt, torch.full_like(nxt, IGNORE))
            at = end
    return PackedBatch(input_ids, targets, position_ids, segment_ids, block_diagonal_mask(segment_ids))
