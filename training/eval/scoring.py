"""Log-likelihood of continuations: the one scorer of `train eval`, the ablation, fine-tuning and
InstructGPT comparisons.

A request is (context ids, continuation ids); its score is sum_t log p(continuation_t | context,
continuation_<t), the number of its tokens, and whether every one of them is the greedy argmax.
Requests that share a context (the options of a multiple-choice item) are scored in ONE row: the
context once, then each option with positions that continue the context and an attention mask that
lets an option see the context and itself only (a tree of continuations). Rows are batched by length
under a token budget; one forward pass per batch, log-probabilities gathered at the scored positions
only (lm_head runs on those alone), no Python loop over tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from training.batching import pad_sequences

LOGIT_CHUNK = 4096     # scored positions per lm_head + log_softmax call (bounds the (N, vocab) tensor)


@dataclass(frozen=True)
class Request:
    context: tuple[int, ...]       # at least one token (condition on <|endoftext|> when there is no text)
    continuation: tuple[int, ...]  # at least one token


@dataclass(frozen=True)
class Score:
    logprob: float                 # natural log
    n_tokens: int
    greedy: bool                   # every continuation token is the argmax
    truncated: bool                # the context was cut from the left to fit block_size


@dataclass
class _Row:
    context: tuple[int, ...]
    options: list[tuple[int, tuple[int, ...]]]   # (request index, continuation)

    def __len__(self) -> int:
        return len(self.context) + sum(len(c) - 1 for _, c in self.options)


def can_share_context(model) -> bool:
    """Tree rows put an option's tokens after other options' in the row; a banded layer measures its
    band in row positions, so only all-dense models share contexts (others get one row per request)."""
    cfg = model.config
    return all(cfg.layer_window(i) is None for i in range(cfg.n_layer))


def _rows(requests: list[Request], block_size: int, share: bool) -> tuple[list[_Row], set[int]]:
    """Group requests into rows of at most block_size inputs; contexts cut from the left to fit."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for n, req in enumerate(requests):
        if not req.context or not req.continuation:
            raise ValueError(f"request {n} has an empty context or continuation")
        groups.setdefault(req.context if share else (n, *req.context), []).append(n)
    rows, truncated = [], set()
    for members in groups.values():
        context = requests[members[0]].context
        longest = max(len(requests[n].continuation) for n in members)
        room = block_size - (longest - 1)        # the last continuation token is a target, not an input
        if len(context) > room:
            truncated.update(members)
            context = context[len(context) - room:] if room > 0 else ()
        row = _Row(context, [])
        for n in members:
            cont = requests[n].continuation
            if not context:                        # a continuation longer than the whole window
                cont = cont[-(block_size + 1):]
                rows.append(_Row(cont[:1], [(n, cont[1:])]))
                continue
            if row.options and len(row) + len(cont) - 1 > block_size:
                rows.append(row)
                row = _Row(context, [])
            row.options.append((n, cont))
        if row.options:
            rows.append(row)
    return rows, truncated


def _batches(lengths: list[int], max_tokens: int) -> list[list[int]]:
    """Row indices, longest first, in batches whose padded size stays within max_tokens (a token
    budget rather than training.batching's fixed batch size: rows here range from 10 to 1024 tokens)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches, current = [], []
    for i in order:
        if current and (len(current) + 1) * lengths[current[0]] > max_tokens:
            batches.append(current)
            current = []
        current.append(i)
    return batches + ([current] if current else [])


def _tensors(rows: list[_Row], pad_id: int):
    """Input ids, positions, the tree mask (None when no row holds two options), and the scored
    positions as flat (row, position, target token, request) lists."""
    ids, positions, segments = [], [], []
    where_row, where_pos, targets, owners = [], [], [], []
    for r, row in enumerate(rows):
        seq, pos, seg = list(row.context), list(range(len(row.context))), [0] * len(row.context)
        last_context = len(row.context) - 1
        for k, (n, cont) in enumerate(row.options, 1):
            start = len(seq)
            seq.extend(cont[:-1])
            pos.extend(range(len(row.context), len(row.context) + len(cont) - 1))
            seg.extend([k] * (len(cont) - 1))
            where_row.extend([r] * len(cont))
            where_pos.extend([last_context] + list(range(start, start + len(cont) - 1)))
            targets.extend(cont)
            owners.extend([n] * len(cont))
        ids.append(seq)
        positions.append(pos)
        segments.append(seg)
    idx = pad_sequences(ids, pad_id)
    pos = pad_sequences(positions, 0)
    mask = None
    if any(len(row.options) > 1 for row in rows):
        seg = pad_sequences(segments, -1)
        # an option sees the context (segment 0) and itself; causality is the model's
        mask = ((seg[:, None, :] == 0) | (seg[:, None, :] == seg[:, :, None])) & (seg >= 0)[:, :, None]
    flat = [torch.tensor(v, dtype=torch.long) for v in (where_row, where_pos, targets, owners)]
    return idx, pos, mask, flat


def input_tokens(model, requests: list[Request], share_context: bool = True) -> int:
    """The tokens the model reads to score `requests` (padding excluded): what tokens/s counts."""
    rows, _ = _rows(requests, model.config.block_size, share_context and can_share_context(model))
    return sum(len(r) for r in rows)


@torch.no_grad()
def score_requests(model, requests: list[Request], *, max_batch_tokens: int = 16384,
                   share_context: bool = True) -> list[Score]:
    """Score every request with `model` (a training.model.GPT: config, hidden_states, lm_head)."""
    if not requests:
        return []
    cfg = model.config
    device = next(model.parameters()).device
    rows, truncated = _rows(requests, cfg.block_size, share_context and can_share_context(model))
    logprob = torch.zeros(len(requests), dtype=torch.float64)
    misses = torch.zeros(len(requests), dtype=torch.long)
    counts = torch.zeros(len(requests), dtype=torch.long)
    head = model.lm_head.weight[: cfg.vocab_size]      # never a padding id of the vocabulary
    for batch in _batches([len(r) for r in rows], max(max_batch_tokens, cfg.block_size)):
        idx, pos, mask, (b, p, t, owner) = _tensors([rows[i] for i in batch], pad_id=0)
        hidden = model.hidden_states(idx.to(device), position_ids=pos.to(device),
                                     attn_mask=None if mask is None else mask.to(device))
        for s in range(0, len(t), LOGIT_CHUNK):
            sl = slice(s, s + LOGIT_CHUNK)
            logits = F.linear(hidden[b[sl].to(device), p[sl].to(device)], head).float()
            target_logit = logits.gather(1, t[sl].to(device)[:, None]).squeeze(1)
            # logsumexp and max read the (N, vocab) logits without writing a log_softmax of that size
            lp = target_logit - torch.logsumexp(logits, dim=-1)
            logprob.index_add_(0, owner[sl], lp.double().cpu())
            misses.index_add_(0, owner[sl], (logits.max(dim=-1).values > target_logit).long().cpu())
            counts.index_add_(0, owner[sl], torch.ones_like(owner[sl]))
    return [Score(float(logprob[n]), int(counts[n]), bool(misses[n] == 0), n in truncated)
            for n in range(len(requests))]
