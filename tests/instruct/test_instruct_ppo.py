"""PPO: the arithmetic against hand-computed values and reference formulas, a planted reward that PPO
must raise within a KL bound, batched left-padded generation with the KV cache, and exact resume."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn as nn

from training.instruct import ppo_math as pm
from training.instruct.config import PPOSettings
from training.instruct.ppo import ppo_iteration
from training.instruct.reward import ScalarHead
from training.instruct.run import load_chat_model

CPU = torch.device("cpu")


def test_gae_matches_hand_computed_example():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.5, 2.0, 0.0]])
    values = torch.tensor([[0.5, 0.2, 0.1], [1.0, 0.0, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    gamma, lam = 1.0, 0.95
    adv, ret = pm.gae(rewards, values, mask, gamma, lam)
    # Row 0: deltas d2 = 1 - 0.1 = 0.9, d1 = 0 + 0.1 - 0.2 = -0.1, d0 = 0 + 0.2 - 0.5 = -0.3
    a2 = 0.9
    a1 = -0.1 + 0.95 * a2
    a0 = -0.3 + 0.95 * a1
    # Row 1 ends after two tokens (the 9.0 value is past the end and must not leak in):
    b1 = 2.0 - 0.0
    b0 = 0.5 + 0.0 - 1.0 + 0.95 * b1
    assert torch.allclose(adv, torch.tensor([[a0, a1, a2], [b0, b1, 0.0]]))
    assert torch.allclose(ret, torch.tensor([[a0 + 0.5, a1 + 0.2, a2 + 0.1], [b0 + 1.0, b1, 0.0]]))


def test_per_token_reward_is_kl_penalty_plus_score_at_last_token():
    logp = torch.tensor([[-1.0, -2.0, -3.0]])
    ref = torch.tensor([[-1.5, -1.0, -3.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    r = pm.per_token_rewards(logp, ref, torch.tensor([4.0]), mask, beta=0.02)
    assert torch.allclose(r, torch.tensor([[-0.02 * 0.5, -0.02 * -1.0 + 4.0, 0.0]]))


def test_clipped_objective_value_loss_and_kl_match_reference_formulas():
    g = torch.Generator().manual_seed(0)
    logp, old, ref = (torch.randn(3, 5, generator=g) * 0.3 - 2 for _ in range(3))
    adv, v, old_v, ret = (torch.randn(3, 5, generator=g) for _ in range(4))
    mask = torch.ones(3, 5)
    mask[2, 3:] = 0
    loss, frac = pm.policy_loss(logp, old, adv, mask, 0.2)
    ref_terms, ref_clipped, n = 0.0, 0, 0
    for i in range(3):
        for t in range(5):
            if mask[i, t]:
                ratio = math.exp(logp[i, t] - old[i, t])
                a = float(adv[i, t])
                unclipped, clipped = -a * ratio, -a * min(max(ratio, 0.8), 1.2)
                ref_terms += max(unclipped, clipped)
                ref_clipped += clipped > unclipped
                n += 1
    assert loss.item() == pytest.approx(ref_terms / n, rel=1e-5)
    assert frac.item() == pytest.approx(ref_clipped / n)
    vl = pm.value_loss(v, old_v, ret, mask, 0.2)
    expect = sum(max((float(v[i, t]) - float(ret[i, t])) ** 2,
                     (float(old_v[i, t]) + min(max(float(v[i, t] - old_v[i, t]), -0.2), 0.2) - float(ret[i, t])) ** 2)
                 for i in range(3) for t in range(5) if mask[i, t]) * 0.5 / n
    assert vl.item() == pytest.approx(expect, rel=1e-5)
    k1, k3 = pm.kl_estimates(logp, ref, mask)
    lr = (logp - ref) * mask
    assert k1 == pytest.approx(float(lr.sum(1).mean()), rel=1e-5)
    assert k3 == pytest.approx(float(((torch.exp(-lr) - 1 + lr) * mask).sum(1).mean()), rel=1e-5)
    assert k3 >= 0


def test_whitened_advantages_have_zero_mean_unit_variance_on_valid_tokens():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, 5.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 1]], dtype=torch.bool)
    w = pm.whiten(x, mask)
    assert w[mask].mean().item() == pytest.approx(0.0, abs=1e-6)
    assert (w[mask] ** 2).mean().item() == pytest.approx(1.0, rel=1e-4)
    assert w[1, 1] == 0


class PlantedReward(nn.Module):
    """A planted reward: the share of the last 8 tokens before the scored <|end|> (the response, at
    max_new_tokens=8) whose id is below 100, a set of "keywords" a random policy hits about a third
    of the time."""

    def forward(self, idx, last):
        return torch.stack([(idx[i, max(0, last[i] - 8): last[i]] < 100).float().mean() for i in range(idx.size(0))])


def test_ppo_raises_a_planted_keyword_reward_within_a_kl_bound(base_ckpt):
    torch.manual_seed(0)
    cm = load_chat_model(base_ckpt, CPU, seed=0, dropout=0.0)
    policy = cm.gpt.train()
    ref = copy.deepcopy(policy).eval().requires_grad_(False)
    reward = PlantedReward()
    value = ScalarHead(copy.deepcopy(policy), generator=torch.Generator().manual_seed(0))
    s = PPOSettings(rollout_batch=16, minibatch=8, max_new_tokens=8, lr=3e-3, value_lr=1e-3, kl_coef=0.02,
                    no_eos_penalty=0.0, device="cpu")
    opt = torch.optim.AdamW(policy.parameters(), lr=s.lr)
    value_opt = torch.optim.AdamW(value.parameters(), lr=s.value_lr)
    prompts = [cm.chat.prompt_ids([("user", f"tell me about water {i}")]) for i in range(32)]
    history = [ppo_iteration(it, policy, ref, reward, value, opt, value_opt, None, prompts, cm.chat, s, CPU)
               for it in range(12)]
    first = sum(h["score"] for h in history[:2]) / 2
    last = sum(h["score"] for h in history[-2:]) / 2
    print([round(h["score"], 3) for h in history], [round(h["kl_k3"], 3) for h in history])
    assert last > first + 0.15
    assert all(h["kl_k3"] < 10.0 for h in history)


def test_left_padded_batched_sampling_with_cache_matches_no_cache_and_single_rows(base_ckpt):
    from training.batching import pad_sequences

    cm = load_chat_model(base_ckpt, CPU, seed=0, dropout=0.0)
    gpt = cm.gpt.eval()
    prompts = [cm.chat.prompt_ids([("user", text)]) for text in ("hi", "tell me about the water and fire please")]
    idx = pad_sequences(prompts, cm.chat.end, side="left")
    mask = pad_sequences([[1] * len(p) for p in prompts], 0, side="left").bool()
    cached = gpt.generate(idx, 12, temperature=0, prompt_mask=mask, use_cache=True)
    plain = gpt.generate(idx, 12, temperature=0, prompt_mask=mask, use_cache=False)
    assert torch.equal(cached, plain)
    for row, p in enumerate(prompts):
        alone = gpt.generate(torch.tensor([p]), 12, temperature=0, use_cache=True)
        assert torch.equal(alone[0, len(p):], cached[row, idx.size(1):])
