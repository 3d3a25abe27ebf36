"""Rollouts: batched sampling from the policy with the KV cache (temperature 1, no top-k/top-p, so
the log-probabilities PPO uses are of the distribution actually sampled), the log-probs / values of a
whole batch in one forward pass, scores from a reward model, and the win rate of two policies.

Prompts are left-padded: every response starts at the same column P, the key mask hides the pads and
positions count real tokens only (as GPT.generate does).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from training.batching import pad_sequences
from training.instruct.chat import ChatFormat
from training.instruct.ppo_math import kl_estimates, token_logprobs
from training.instruct.reward import ScalarHead, score_sequences
from training.instruct.rm import wilson
from training.model import GPT


@dataclass
class Samples:
    full: torch.Tensor           # (B, P + L) left-padded prompts then responses
    key_mask: torch.Tensor       # (B, P + L) True on real tokens (prompt) and on every response column
    prompt_len: int              # P
    response_mask: torch.Tensor  # (B, L) tokens up to and including the first <|end|>
    ended: torch.Tensor          # (B,) a <|end|> was produced

    @property
    def responses(self) -> torch.Tensor:
        return self.full[:, self.prompt_len:]

    def model_inputs(self) -> dict:
        B, T = self.full.shape
        positions = (self.key_mask.long().cumsum(1) - 1).clamp(min=0)
        return {"attn_mask": self.key_mask[:, None, :].expand(B, T, T), "position_ids": positions}

    def response_lists(self) -> list[list[int]]:
        return [row[mask].tolist() for row, mask in zip(self.responses, self.response_mask)]


@torch.no_grad()
def sample(policy: GPT, prompts: list[list[int]], chat: ChatFormat, max_new_tokens: int,
           generator: torch.Generator, device, use_cache: bool = True) -> Samples:
    idx = pad_sequences(prompts, chat.end, side="left").to(device)
    prompt_mask = pad_sequences([[1] * len(p) for p in prompts], 0, side="left").bool().to(device)
    full = policy.generate(idx, max_new_tokens, temperature=1.0, top_k=None, generator=generator,
                           eos_id=chat.end, prompt_mask=prompt_mask, use_cache=use_cache)
    P = idx.size(1)
    is_end = full[:, P:] == chat.end
    ended = is_end.any(1)
    first_end = torch.where(ended, is_end.float().argmax(1), torch.full_like(ended, max_new_tokens - 1, dtype=torch.long))
    response_mask = torch.arange(max_new_tokens, device=device)[None, :] <= first_end[:, None]
    key_mask = torch.cat([prompt_mask, torch.ones_like(response_mask)], 1)
    return Samples(full, key_mask, P, response_mask, ended)


def response_logprobs(gpt: GPT, s: Samples) -> tuple[torch.Tensor, torch.Tensor]:
    """(log pi(y_t), entropy) for every response column, from one forward pass (grad if enabled)."""
    logits, _ = gpt(s.full, **s.model_inputs())
    logits = logits[:, s.prompt_len - 1:-1, : gpt.config.vocab_size]
    return token_logprobs(logits, s.responses)


def response_values(value: ScalarHead, s: Samples) -> torch.Tensor:
    """V(state before y_t) for every response column."""
    return value.all_positions(s.full, **s.model_inputs())[:, s.prompt_len - 1:-1]


@torch.no_grad()
def score(reward: ScalarHead, prompts: list[list[int]], s: Samples, chat: ChatFormat, device,
          no_eos_penalty: float = 0.0) -> torch.Tensor:
    """The reward model's score of each prompt + response, read at its <|end|> (appended when the
    response has none), minus `no_eos_penalty` for a response that never ended."""
    seqs = [p + r + ([] if r and r[-1] == chat.end else [chat.end]) for p, r in zip(prompts, s.response_lists())]
    scores = score_sequences(reward, seqs, chat.end, device)
    return scores - no_eos_penalty * (~s.ended).float()


@torch.no_grad()
def win_rate(policy: GPT, baseline: GPT, judges: dict[str, ScalarHead], prompts: list[list[int]],
             chat: ChatFormat, max_new_tokens: int, seed: int, device, batch: int = 16) -> dict:
    """Share of prompts where the policy's response outscores the baseline's (ties count half) for
    each judge, with a 95% Wilson interval; the KL the policy spent (k1, k3, on its own samples);
    the samples themselves for the report."""
    wins = {name: 0.0 for name in judges}
    k1 = k3 = 0.0
    records = []
    for start in range(0, len(prompts), batch):
        chunk = prompts[start:start + batch]
        gen = torch.Generator(device=device).manual_seed(seed * 1_000_003 + start)
        ours = sample(policy, chunk, chat, max_new_tokens, gen, device)
        gen = torch.Generator(device=device).manual_seed(seed * 1_000_003 + start)
        theirs = sample(baseline, chunk, chat, max_new_tokens, gen, device)
        logp, _ = response_logprobs(policy, ours)
        ref, _ = response_logprobs(baseline, ours)
        a, b = kl_estimates(logp, ref, ours.response_mask.float())
        k1, k3 = k1 + a * len(chunk), k3 + b * len(chunk)
        per_judge = {}
        for name, judge in judges.items():
            s_ours, s_theirs = score(judge, chunk, ours, chat, device), score(judge, chunk, theirs, chat, device)
            wins[name] += float((s_ours > s_theirs).sum() + 0.5 * (s_ours == s_theirs).sum())
            per_judge[name] = (s_ours.tolist(), s_theirs.tolist())
        for n, (p, r_ours, r_theirs) in enumerate(zip(chunk, ours.response_lists(), theirs.response_lists())):
            records.append({"prompt": chat.tokenizer.decode(p), "policy": chat.decode_response(r_ours),
                            "baseline": chat.decode_response(r_theirs),
                            "scores": {name: [v[0][n], v[1][n]] for name, v in per_judge.items()}})
    n = len(prompts)
    result = {"prompts": n, "kl_k1": k1 / n, "kl_k3": k3 / n, "samples": records}
    for name, w in wins.items():
        low, high = wilson(round(w), n)
        result[name] = {"win_rate": w / n, "low": low, "high": high}
    return result
