"""GPT-1's input transformations (§3.3, Figure 1): each item becomes one or more token rows that start
with <s>, join segments with <$> and end with <e>; the head reads the state at <e>.

A row longer than max_len loses tokens from the start of its longest segment (the end of a premise
or a story is nearest to what follows it), never a special token; such items count as `truncated`.
Similarity truncates a and b once, in an order that does not depend on which is which, and builds
both orders from the same segments, so swapping a and b only swaps the two rows: symmetric by
construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from tokenizers import Tokenizer

from pipeline.tokens.bpe import encode_batch
from training.batching import IGNORE, length_sorted_batches, pad_sequences
from training.finetune.config import TaskSpec
from training.finetune.tasks import Item

START, DELIM, EXTRACT = "<s>", "<$>", "<e>"
SPECIAL_TOKENS = [START, DELIM, EXTRACT]


@dataclass(frozen=True)
class Specials:
    start: int
    delim: int
    extract: int


@dataclass
class Encoded:
    rows: list[list[list[int]]]      # per item, its rows (1; 2 for similarity; one per option)
    labels: list                     # per item
    truncated: int = 0

    @property
    def lengths(self) -> list[int]:
        return [max(len(r) for r in rows) for rows in self.rows]

    @property
    def tokens(self) -> int:
        return sum(len(r) for rows in self.rows for r in rows)


def fit(segments: list[list[int]], budget: int) -> tuple[list[list[int]], bool]:
    """Cut tokens from the start of the longest segment until the segments total `budget` or less."""
    excess = sum(len(s) for s in segments) - budget
    if excess <= 0:
        return segments, False
    segments = list(segments)
    while excess > 0:
        lengths = sorted((len(s) for s in segments), reverse=True)
        longest = max(range(len(segments)), key=lambda i: len(segments[i]))
        # Down to the runner-up's length at most, so two long segments shrink together.
        cut = min(excess, max(1, lengths[0] - (lengths[1] if len(lengths) > 1 else 0)))
        segments[longest] = segments[longest][cut:]
        excess -= cut
    return segments, True


def layout(segments: list[list[int]], sp: Specials) -> list[int]:
    """<s> seg0 <$> seg1 ... <e>"""
    row = [sp.start]
    for i, seg in enumerate(segments):
        if i:
            row.append(sp.delim)
        row.extend(seg)
    row.append(sp.extract)
    return row


def item_rows(kind: str, segs: dict, sp: Specials, max_len: int) -> tuple[list[list[int]], bool]:
    """The rows of one item from its tokenized segments (role -> ids; options -> list of ids)."""
    if kind == "classification":
        (text,), cut = fit([segs["text"]], max_len - 2)
        return [layout([text], sp)], cut
    if kind == "entailment":
        (p, h), cut = fit([segs["premise"], segs["hypothesis"]], max_len - 3)
        return [layout([p, h], sp)], cut
    if kind == "similarity":
        # fit() breaks ties by position: give it the pair in an order that ignores which is `a`
        swapped = segs["b"] < segs["a"]
        pair, cut = fit(sorted([segs["a"], segs["b"]]), max_len - 3)
        a, b = pair[::-1] if swapped else pair
        return [layout([a, b], sp), layout([b, a], sp)], cut
    rows, any_cut = [], False
    for option in segs["options"]:
        (ctx, opt), cut = fit([segs["context"], option], max_len - 3)
        rows.append(layout([ctx, opt], sp))
        any_cut |= cut
    return rows, any_cut


def encode_items(task: TaskSpec, items: list[Item], tokenizer: Tokenizer, sp: Specials,
                 max_len: int) -> Encoded:
    """Tokenize every text of `items` in one batch call and lay out each item's rows."""
    flat: list[str] = []
    for item in items:
        for value in item.texts.values():
            flat.extend(value if isinstance(value, list) else [value])
    ids = iter(encode_batch(tokenizer, flat))
    out = Encoded([], [])
    for item in items:
        segs = {role: ([next(ids) for _ in value] if isinstance(value, list) else next(ids))
                for role, value in item.texts.items()}
        rows, cut = item_rows(task.kind, segs, sp, max_len)
        out.rows.append(rows)
        out.labels.append(item.label)
        out.truncated += cut
    return out


@dataclass
class Batch:
    idx: torch.Tensor                # (R, T) right-padded rows, item-major
    extract: torch.Tensor            # (R,) each row's <e> position
    lm_targets: torch.Tensor         # (R, T) the next token where it is a real token, else -1
    labels: torch.Tensor             # (B,) class index, option index or float score
    rows_per_item: int
    real_tokens: int

    def to(self, device) -> "Batch":
        return Batch(self.idx.to(device), self.extract.to(device), self.lm_targets.to(device),
                     self.labels.to(device), self.rows_per_item, self.real_tokens)


def make_batch(enc: Encoded, indices: list[int], pad_id: int, regression: bool) -> Batch:
    rows = [r for i in indices for r in enc.rows[i]]
    idx = pad_sequences(rows, pad_id, side="right")
    lengths = torch.tensor([len(r) for r in rows])
    positions = torch.arange(idx.size(1))
    targets = torch.full_like(idx, IGNORE)
    targets[:, :-1] = idx[:, 1:]
    targets[positions[None, :] + 1 >= lengths[:, None]] = IGNORE  # no target beyond the row's end
    labels = torch.tensor([enc.labels[i] for i in indices], dtype=torch.float32 if regression else torch.long)
    return Batch(idx, lengths - 1, targets, labels, len(enc.rows[indices[0]]), int(lengths.sum()))


def epoch_batches(enc: Encoded, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """This epoch's batches: items of similar length together, the batch order seeded by (seed, epoch)."""
    return length_sorted_batches(enc.lengths, batch_size, seed=seed * 1000 + epoch, shuffle=True)


def eval_batches(enc: Encoded, batch_size: int) -> list[list[int]]:
    return length_sorted_batches(enc.lengths, batch_size, seed=0, shuffle=False)
