"""One task at one k: build the prompts, score them in one batched pass, per-item records and the
task's metrics with intervals."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.evaltasks.spec import Item, TaskSpec
from training.eval import metrics as M
from training.eval.perplexity import document_nats
from training.eval.prompts import build_prompt, encode_requests, fewshot_examples
from training.eval.scoring import score_requests


@dataclass
class ScoringModel:
    """What the harness needs of a model, whichever file it came from."""
    model: object            # training.model.GPT
    tokenizer: object        # tokenizers.Tokenizer
    eot_id: int
    fingerprint: str         # sha256 of the weights file
    source: str


@dataclass
class TaskResult:
    summaries: list[dict]    # one per metric
    records: list[dict]      # one per item
    truncated: int
    n: int


def chance_level(spec: TaskSpec, items: list[Item], metric: str) -> float | None:
    if "chance" in spec.raw:
        return float(spec.raw["chance"])
    if spec.kind == "multiple_choice":
        return float(np.mean([1 / len(i.choices) for i in items])) if items else None
    return 0.0 if metric == "acc" else None      # cloze accuracy; perplexities have no chance line


def evaluate_task(sm: ScoringModel, spec: TaskSpec, items: list[Item], pool: list[Item], k: int,
                  seed: int, max_batch_tokens: int = 16384) -> TaskResult:
    if spec.kind == "perplexity":
        return _perplexity(sm, spec, items, seed, max_batch_tokens)
    prompts = [build_prompt(spec, item, fewshot_examples(pool, item, k, seed)) for item in items]
    pairs = [(p, c) for p, item in zip(prompts, items) for c in item.choices]
    uncond = spec.raw.get("unconditional_context") if "acc_uncond" in spec.metrics else None
    if uncond is not None:
        pairs += [(uncond, c) for item in items for c in item.choices]
    requests = encode_requests(sm.tokenizer, pairs, sm.eot_id)
    scores = score_requests(sm.model, requests, max_batch_tokens=max_batch_tokens)
    n_options = sum(len(i.choices) for i in items)
    records, at = [], 0
    for item in items:
        mine = scores[at:at + len(item.choices)]
        base = n_options + at
        at += len(item.choices)
        record = {"id": item.id, "shots": k, "gold": item.gold,
                  "truncated": any(s.truncated for s in mine),
                  "logprobs": [s.logprob for s in mine], "tokens": [s.n_tokens for s in mine]}
        if spec.kind == "cloze":
            record.update(target=item.choices[0], greedy=mine[0].greedy, acc=mine[0].greedy)
        else:
            record["chars"] = [len(c) for c in item.choices]
            un = [s.logprob for s in scores[base:base + len(item.choices)]] if uncond is not None else None
            if un is not None:
                record["uncond_logprobs"] = un
            picks = M.predictions(record["logprobs"], record["chars"], record["tokens"], un)
            record["predicted"] = picks
            record.update({m: picks[m] == item.gold for m in picks})
        records.append(record)
    summaries = []
    for metric in spec.metrics:
        if metric == "ppl":
            columns = (np.array([r["logprobs"][0] for r in records], dtype=float),)
        else:
            columns = (np.array([r[metric] for r in records], dtype=float),)
        summaries.append(M.summarize(metric, columns, chance_level(spec, items, metric), seed))
        if spec.kind == "multiple_choice" and items:   # always answering the commonest label
            summaries[-1]["majority"] = max(Counter(i.gold for i in items).values()) / len(items)
    return TaskResult(summaries, records, sum(r["truncated"] for r in records), len(items))


def _perplexity(sm: ScoringModel, spec: TaskSpec, items: list[Item], seed: int,
                max_batch_tokens: int) -> TaskResult:
    docs, stride = document_nats(sm.model, sm.tokenizer, [i.choices[0] for i in items], sm.eot_id,
                                 spec.raw.get("stride"), max_batch_tokens)
    records = [{"id": item.id, "shots": 0, "truncated": False, **doc} for item, doc in zip(items, docs)]
    nats = np.array([d["nats"] for d in docs], dtype=float)
    columns = {"bits_per_byte": (nats, np.array([d["bytes"] for d in docs], dtype=float)),
               "token_perplexity": (nats, np.array([d["tokens"] for d in docs], dtype=float))}
    summaries = [{**M.summarize(m, columns[m], None, seed), "stride": stride,
                  "tokens": int(sum(d["tokens"] for d in docs)), "bytes": int(sum(d["bytes"] for d in docs))}
                 for m in spec.metrics]
    for s in summaries:
        s["value"] = None if isinstance(s["value"], float) and math.isnan(s["value"]) else s["value"]
    return TaskResult(summaries, records, 0, len(items))
