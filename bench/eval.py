"""Evaluation speed: the harness's tokens/s against the same model's plain forward pass in the same
run (goal >= 0.85x), and LAMBADA items/s end to end (prompts, tokenisation, scoring, metrics).

    PYTHONPATH=. python bench/eval.py --checkpoint runs/demo/train            # the demo model
    PYTHONPATH=. python bench/eval.py --checkpoint RUN --items 300 --rounds 3

Tokens/s counts the tokens the model reads (training.eval.scoring.input_tokens): a request's context
and continuation less its last token (only a target), a context shared by several options once. The baseline runs
model(idx) on full rows of block_size tokens (logits at every position), as many tokens per batch
as the harness's token budget; a second, stricter baseline stops at hidden_states (no lm_head: the
harness computes logits only where it scores, which alone can beat a forward over a large vocabulary).
Rounds alternate baselines and harness; medians are reported. A third ratio counts the tokens of each
(context + continuation) as its own row (what a harness without context sharing would read).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.evaltasks.spec import load_task, read_items  # noqa: E402
from training.eval.prompts import build_prompt, encode_requests  # noqa: E402
from training.eval.runner import load_scoring_model  # noqa: E402
from training.eval.scoring import input_tokens, score_requests  # noqa: E402
from training.eval.tasks import evaluate_task  # noqa: E402


def task_requests(sm, name: str, items: int):
    spec = load_task(name)
    chosen = read_items(spec)[:items]
    pairs = [(build_prompt(spec, item, []), c) for item in chosen for c in item.choices]
    return encode_requests(sm.tokenizer, pairs, sm.eot_id)


@torch.no_grad()
def forward_tokens_per_s(model, tokens: int, batch_tokens: int, logits: bool = True) -> float:
    """model(idx) on full rows; logits=False stops at hidden_states (no lm_head: the strict baseline)."""
    block = model.config.block_size
    rows = max(1, batch_tokens // block)
    idx = torch.randint(0, model.config.vocab_size, (rows, block), generator=torch.Generator().manual_seed(0))
    run = model if logits else model.hidden_states
    done, began = 0, time.perf_counter()
    while done < tokens:
        run(idx)
        done += idx.numel()
    return done / (time.perf_counter() - began)


def harness_tokens_per_s(model, requests, batch_tokens: int) -> float:
    tokens = input_tokens(model, requests)
    began = time.perf_counter()
    score_requests(model, requests, max_batch_tokens=batch_tokens)
    return tokens / (time.perf_counter() - began)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint, run or HF folder")
    p.add_argument("--items", type=int, default=300, help="items per task (default 300)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-tokens", type=int, default=16384)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--json", default=None, help="also write the figures here")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sm = load_scoring_model(args.checkpoint)
    report = {"checkpoint": sm.source, "block_size": sm.model.config.block_size,
              "params": sm.model.num_params(), "threads": torch.get_num_threads(), "tasks": {}}
    for name in ("lambada", "hellaswag"):
        requests = task_requests(sm, name, args.items)
        tokens = input_tokens(sm.model, requests)
        base, body, harness = [], [], []
        for _ in range(args.rounds):
            base.append(forward_tokens_per_s(sm.model, tokens, args.batch_tokens))
            body.append(forward_tokens_per_s(sm.model, tokens, args.batch_tokens, logits=False))
            harness.append(harness_tokens_per_s(sm.model, requests, args.batch_tokens))
        row = {"requests": len(requests), "tokens": tokens, "forward_tokens_per_s": statistics.median(base),
               "body_tokens_per_s": statistics.median(body), "harness_tokens_per_s": statistics.median(harness)}
        row["ratio"] = row["harness_tokens_per_s"] / row["forward_tokens_per_s"]
        row["ratio_body"] = row["harness_tokens_per_s"] / row["body_tokens_per_s"]
        # the tokens of every (context + continuation) as its own row: what sharing a context saves
        block = sm.model.config.block_size
        row["request_tokens"] = sum(min(len(r.context) + len(r.continuation) - 1, block) for r in requests)
        row["ratio_request_tokens"] = row["ratio"] * row["request_tokens"] / tokens
        report["tasks"][name] = row
        print(f"{name:10s} {len(requests):6d} requests {tokens:8d} tokens  forward {row['forward_tokens_per_s']:9.0f} "
              f"tok/s (no lm_head {row['body_tokens_per_s']:9.0f})  harness {row['harness_tokens_per_s']:9.0f} tok/s  "
              f"ratio {row['ratio']:.2f}x (goal >= 0.85x), {row['ratio_body']:.2f}x against the body alone; "
              f"counting each option's context: {row['request_tokens']} tokens, {row['ratio_request_tokens']:.2f}x")
    spec = load_task("lambada")
    items = read_items(spec)[:args.items]
    times = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        evaluate_task(sm, spec, items, [], 0, seed=0, max_batch_tokens=args.batch_tokens)
        times.append(time.perf_counter() - began)
    report["lambada_items_per_s"] = len(items) / statistics.median(times)
    print(f"LAMBADA end to end: {report['lambada_items_per_s']:.1f} items/s ({len(items)} items, 0-shot)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
