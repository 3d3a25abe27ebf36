"""Few-shot prompts as GPT-3 built them, and their tokenisation into scoring requests.

k examples are drawn from the task's few-shot pool by a generator seeded with (seed, item id), so a
prompt depends on nothing else (not on --limit, the order of items, or other tasks); the item itself
(same id, or same text from another split) is never among them. Examples are the context followed by
the gold continuation, joined by the task's separator, then the item's context. A context and its
continuation are encoded together and split where the context's own encoding ends, so a BPE merge
across the boundary cannot shift a token between them.
"""
from __future__ import annotations

import random

from pipeline.core.hashing import hash64
from pipeline.evaltasks.spec import Item, TaskSpec
from training.eval.scoring import Request


def fewshot_examples(pool: list[Item], item: Item, k: int, seed: int) -> list[Item]:
    if k <= 0 or not pool:
        return []
    rng = random.Random(hash64(seed, "fewshot", item.id))
    drawn = rng.sample(range(len(pool)), min(k + 1, len(pool)))
    text = item.text()
    return [pool[i] for i in drawn if pool[i].id != item.id and pool[i].text() != text][:k]


def _query(spec: TaskSpec, context: str, fewshot: bool) -> str:
    template = spec.fewshot.get("query") if fewshot else None
    return template.replace("{context}", context) if template else context


def build_prompt(spec: TaskSpec, item: Item, examples: list[Item]) -> str:
    """The text every option of `item` continues."""
    shots = [_query(spec, e.context, True) + e.choices[e.gold] for e in examples]
    return spec.separator.join(shots + [_query(spec, item.context, bool(examples))])


def encode_requests(tokenizer, pairs: list[tuple[str, str]], eot_id: int) -> list[Request]:
    """(context, continuation) strings -> Requests; an empty context is <|endoftext|>."""
    contexts = sorted({c for c, _ in pairs if c})
    wholes = sorted({c + x for c, x in pairs})
    context_ids = dict(zip(contexts, (e.ids for e in tokenizer.encode_batch(contexts, add_special_tokens=False))))
    whole_ids = dict(zip(wholes, (e.ids for e in tokenizer.encode_batch(wholes, add_special_tokens=False))))
    requests = []
    for context, continuation in pairs:
        whole = whole_ids[context + continuation]
        if not context:
            requests.append(Request((eot_id,), tuple(whole)))
            continue
        ctx = context_ids[context]
        split = 0
        while split < min(len(ctx), len(whole) - 1) and ctx[split] == whole[split]:
            split += 1
        requests.append(Request(tuple(whole[:split]) or (eot_id,), tuple(whole[split:])))
    return requests
