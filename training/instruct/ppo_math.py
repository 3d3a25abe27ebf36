"""PPO's arithmetic on (B, L) response-token tensors with a validity mask (tokens up to and including
each response's <|end|>): the KL-penalised per-token reward, GAE, whitening, the clipped policy and
value losses, and the KL estimators. Pure functions, tested against hand-computed examples.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(x - mean) / std over the valid entries (the whitened advantages of PPO implementations)."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return ((x - mean) * torch.rsqrt(var + eps)) * mask


def per_token_rewards(logp: torch.Tensor, ref_logp: torch.Tensor, score: torch.Tensor, mask: torch.Tensor,
                      beta: float) -> torch.Tensor:
    """r_t = -beta * (log pi(y_t) - log pi_SFT(y_t)), plus the sequence's score at its last valid token."""
    rewards = -beta * (logp - ref_logp) * mask
    last = mask.long().sum(1).clamp(min=1) - 1
    rows = torch.arange(mask.size(0), device=mask.device)
    rewards[rows, last] += score
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float,
        lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over each row's valid prefix; the state after the last valid
    token is terminal (value 0). Returns (advantages, returns = advantages + values)."""
    mask = mask.to(values.dtype)
    values = values * mask
    adv = torch.zeros_like(values)
    running = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.size(1))):
        nxt_mask = mask[:, t + 1] if t + 1 < values.size(1) else torch.zeros_like(running)
        nxt_value = values[:, t + 1] * nxt_mask if t + 1 < values.size(1) else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * nxt_value - values[:, t]
        running = delta + gamma * lam * nxt_mask * running
        adv[:, t] = running * mask[:, t]
    return adv, (adv + values) * mask


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor,
                clip: float) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, as a loss: mean_t max(-A r, -A clip(r, 1-eps, 1+eps)); and the share
    of tokens where the clipped term was chosen."""
    ratio = torch.exp(logp - old_logp)
    unclipped = -adv * ratio
    clipped = -adv * ratio.clamp(1 - clip, 1 + clip)
    return masked_mean(torch.maximum(unclipped, clipped), mask), masked_mean((clipped > unclipped).float(), mask)


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
               clip: float) -> torch.Tensor:
    """0.5 * mean_t max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2)."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return 0.5 * masked_mean(torch.maximum((values - returns) ** 2, (clipped - returns) ** 2), mask)


def kl_estimates(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """Per-sequence KL(pi || pi_SFT) summed over response tokens, averaged over sequences, estimated
    on the sampled tokens as k1 = log pi - log pi_SFT (unbiased, can be negative) and
    k3 = (r - 1) - log r with r = pi_SFT / pi (unbiased, never negative; Schulman's note)."""
    log_ratio = (logp - ref_logp) * mask
    k3 = (torch.expm1(-log_ratio) + log_ratio) * mask
    return float(log_ratio.sum(1).mean()), float(k3.sum(1).mean())


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log p of `tokens`, entropy) per position, under softmax(logits) (the sampled distribution)."""
    logp_all = F.log_softmax(logits.float(), dim=-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp_all.gather(-1, tokens.unsqueeze(-1)).squeeze(-1), entropy
