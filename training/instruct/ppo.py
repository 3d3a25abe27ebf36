"""`train ppo`: PPO-ptx against a reward model (InstructGPT step 3).

Per iteration: `rollout_batch` prompts -> one response each, sampled at temperature 1 with the KV
cache (rollout); the reward model's score, log-probs of policy and SFT reference, values (reward);
per-token rewards r_t = -beta (log pi - log pi_SFT)(y_t) plus the score (minus no_eos_penalty when
no <|end|>) at the last token, GAE (gamma 1, lambda 0.95), whitened advantages; then `ppo_epochs`
passes over shuffled minibatches of the clipped policy loss and the clipped value loss (learn).

Models: the policy and the frozen reference both start from the SFT checkpoint; the value model is a
separate network initialised from the reward model (GPT + scalar head, read at every position); the
reward model is frozen. Dropout is off in all of them. PPO-ptx: every minibatch also takes
`ptx_batch` rows of the pre-training mixture (base tokenizer ids; its tokenizer must be the policy's
base) and the policy minimises  L_ppo + ptx_coef * L_ptx,  L_ptx the mean next-token loss per
pre-training token; both gradient norms are logged.

Every random choice derives from (seed, iteration): the prompts of iteration i, the sampling
generator, the minibatch order; with the ptx stream's position in the checkpoint, resume is exact.
"""
from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path

import torch

from pipeline.core.config import InputError
from pipeline.core.hashing import uniform
from training.instruct import ppo_math as pm
from training.instruct.config import PPOSettings
from training.instruct.data import Skips, read_prompts
from training.instruct.reward import ScalarHead
from training.instruct.rm import load_reward_model
from training.instruct.rollout import Samples, response_logprobs, response_values, sample, score, win_rate
from training.instruct.run import (RunFolder, adamw, check_same_tokenizer, device_of, load_chat_model, report_skips,
                                  restore, set_dropout, snapshot)
from training.special_tokens import check_tokenizer_compatible


def _grad_norm(params) -> float:
    norms = [p.grad.norm() for p in params if p.grad is not None]
    return float(torch.stack(norms).norm()) if norms else 0.0


def split_prompts(prompts: list, eval_count: int, seed: int) -> tuple[list, list]:
    """(training, held-out) prompts: the eval_count prompts with the smallest hash are held out."""
    order = sorted(range(len(prompts)), key=lambda i: uniform(seed, repr(prompts[i]), "ppo-heldout"))
    held = set(order[:eval_count])
    return [p for i, p in enumerate(prompts) if i not in held], [prompts[i] for i in sorted(held)]


def iteration_prompts(n_prompts: int, batch: int, iteration: int, seed: int) -> list[int]:
    """Indices of iteration's prompts: epochs over the prompts, each shuffled by (seed, epoch)."""
    out = []
    for k in range(iteration * batch, (iteration + 1) * batch):
        epoch, at = divmod(k, n_prompts)
        order = list(range(n_prompts))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        out.append(order[at])
    return out


class PtxStream:
    """Rows of the pre-training mixture (training.data.MixtureLoader) for PPO-ptx."""

    def __init__(self, mixture_path: str, base_sha256: str, block: int, batch: int):
        from training.data import MixtureLoader
        from pipeline.tokens.mixture import load_mixture

        mixture = load_mixture(mixture_path)
        check_tokenizer_compatible({"base_sha256": mixture.tokenizer_hash}, base_sha256, f"ptx mixture {mixture_path}")
        self.loader = MixtureLoader(mixture, block, batch, split="train")
        self._it = None

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._it is None:
            self._it = iter(self.loader)
        return next(self._it)

    def state_dict(self) -> dict:
        return self.loader.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.loader.load_state_dict(state)


def train_ppo(policy_ckpt: str | Path, reward_ckpt: str | Path, prompt_files: list[str], out: str | Path,
              settings: PPOSettings, resume: str | None = None, judge_ckpt: str | Path | None = None) -> dict:
    device = device_of(settings.device)
    torch.manual_seed(settings.seed)
    policy_cm = load_chat_model(policy_ckpt, device, settings.seed, dropout=0.0)
    reward, reward_cm = load_reward_model(reward_ckpt, device)
    check_same_tokenizer(policy_cm, reward_cm)
    chat, policy = policy_cm.chat, policy_cm.gpt.train()
    ref = copy.deepcopy(policy).eval().requires_grad_(False)
    reward.requires_grad_(False)
    value = copy.deepcopy(reward).train().requires_grad_(True)
    set_dropout(value.gpt, 0.0)

    skips = Skips()
    max_prompt = policy.config.block_size - settings.max_new_tokens
    encoded = []
    for turns in read_prompts(prompt_files, skips):
        ids = chat.prompt_ids(turns)
        if len(ids) > max_prompt:
            skips["prompt_too_long"] += 1
        else:
            encoded.append(ids)
    train_prompts, eval_prompts = split_prompts(encoded, settings.eval_prompts, settings.seed)
    report_skips("ppo", skips)
    if not train_prompts:
        raise InputError(f"ppo: no usable prompt in --prompts ({skips.line()} skipped)")
    ptx = None
    if settings.ptx_mixture and settings.ptx_coef > 0:
        ptx = PtxStream(settings.ptx_mixture, policy_cm.base_sha256,
                        min(settings.ptx_block, policy.config.block_size), settings.ptx_batch)

    folder = RunFolder(out, resume, policy_cm.tokenizer, settings.keep_last)
    opt, value_opt = adamw(policy.parameters(), settings.lr), adamw(value.parameters(), settings.value_lr)
    parts = {"value": value, "optimizer": opt, "value_optimizer": value_opt} | ({"ptx": ptx} if ptx else {})
    weights, state = folder.resume_state()
    it = 0
    if state is not None:
        policy.load_state_dict(weights)
        it = restore(state, parts)
    logger = folder.logger(settings.iterations, it, settings.progress)
    logger.message(f"ppo: {len(train_prompts)} prompts ({len(eval_prompts)} held out), {settings.iterations} "
                   f"iterations x {settings.rollout_batch} rollouts, beta {settings.kl_coef}, ptx "
                   f"{settings.ptx_coef if ptx else 'off'}, {device}")
    extra = {"reward": str(reward_cm.path), "prompts": [str(p) for p in prompt_files], "skips": dict(skips)}

    def save(at: int) -> None:
        train_state = snapshot(at, parts)
        meta = policy_cm.checkpoint_meta("ppo", at, settings, **extra)
        logger.message(f"checkpoint: {folder.save(at, policy.state_dict(), train_state, meta)}")

    history = []
    while it < settings.iterations:
        record = ppo_iteration(it, policy, ref, reward, value, opt, value_opt, ptx, train_prompts, chat,
                               settings, device)
        it += 1
        history.append(record)
        logger.advance()
        if it % settings.log_every == 0 or it == settings.iterations or it == 1:
            logger.log(it, "train", record)
        if settings.ckpt_every and it % settings.ckpt_every == 0 and it < settings.iterations:
            save(it)
    save(it)
    result = {"iterations": it, "history": history, "skips": dict(skips), "out": folder.out}
    if eval_prompts:
        judges = {"reward": reward}
        if judge_ckpt:
            judge, judge_cm = load_reward_model(judge_ckpt, device)
            check_same_tokenizer(policy_cm, judge_cm)
            judges["judge"] = judge
        policy.eval()
        wr = win_rate(policy, ref, judges, eval_prompts, chat, settings.max_new_tokens, settings.seed, device)
        with open(folder.out / "samples.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in wr.pop("samples"))
        folder.write_json("win_rate.json", wr)
        logger.log(it, "val", {f"win_rate/{n}": wr[n]["win_rate"] for n in judges} | {"kl_k1": wr["kl_k1"]})
        result["win_rate"] = wr
    logger.close()
    return result


def ppo_iteration(it: int, policy, ref, reward: ScalarHead, value: ScalarHead, opt, value_opt, ptx,
                  prompts: list[list[int]], chat, s: PPOSettings, device) -> dict:
    t0 = time.perf_counter()
    batch = [prompts[i] for i in iteration_prompts(len(prompts), s.rollout_batch, it, s.seed)]
    generator = torch.Generator(device=device).manual_seed(s.seed * 1_000_003 + it)
    policy.eval()
    samples = sample(policy, batch, chat, s.max_new_tokens, generator, device)
    t1 = time.perf_counter()
    mask = samples.response_mask.float()
    with torch.no_grad():
        scores = score(reward, batch, samples, chat, device, s.no_eos_penalty)
        old_logp, _ = response_logprobs(policy, samples)
        ref_logp, _ = response_logprobs(ref, samples)
        old_values = response_values(value, samples)
        rewards = pm.per_token_rewards(old_logp, ref_logp, scores, mask, s.kl_coef)
        adv, returns = pm.gae(rewards, old_values, mask, s.gamma, s.lam)
        adv = pm.whiten(adv, mask)
        k1, k3 = pm.kl_estimates(old_logp, ref_logp, mask)
    t2 = time.perf_counter()
    policy.train()
    sums = {"policy_loss": 0.0, "value_loss": 0.0, "clip_frac": 0.0, "entropy": 0.0, "ptx_loss": 0.0,
            "grad_norm_ppo": 0.0, "grad_norm_ptx": 0.0}
    updates = 0
    policy_params = [p for p in policy.parameters() if p.requires_grad]
    for epoch in range(s.ppo_epochs):
        order = torch.randperm(len(batch), generator=torch.Generator().manual_seed(
            (s.seed * 1_000_003 + it) * 97 + epoch))
        for start in range(0, len(batch), s.minibatch):
            rows = order[start:start + s.minibatch].to(device)
            sub = _select(samples, rows)
            m = mask[rows]
            logp, entropy = response_logprobs(policy, sub)
            pg_loss, clip_frac = pm.policy_loss(logp, old_logp[rows], adv[rows], m, s.clip)
            pg_loss.backward()
            sums["grad_norm_ppo"] += _grad_norm(policy_params)
            if ptx is not None:
                x, y = ptx.next()
                _, ptx_loss = policy(x.to(device), y.to(device))
                grads = torch.autograd.grad(s.ptx_coef * ptx_loss, policy_params, allow_unused=True)
                sums["grad_norm_ptx"] += float(torch.stack([g.norm() for g in grads if g is not None]).norm())
                for p, g in zip(policy_params, grads):
                    if g is not None:
                        p.grad += g
                sums["ptx_loss"] += ptx_loss.item()
            if s.grad_clip:
                torch.nn.utils.clip_grad_norm_(policy_params, s.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            v = response_values(value, sub)
            v_loss = s.value_coef * pm.value_loss(v, old_values[rows], returns[rows], m, s.value_clip)
            v_loss.backward()
            if s.grad_clip:
                torch.nn.utils.clip_grad_norm_(value.parameters(), s.grad_clip)
            value_opt.step()
            value_opt.zero_grad(set_to_none=True)
            sums["policy_loss"] += pg_loss.item()
            sums["value_loss"] += v_loss.item()
            sums["clip_frac"] += clip_frac.item()
            sums["entropy"] += pm.masked_mean(entropy.detach(), m).item()
            updates += 1
    t3 = time.perf_counter()
    record = {"score": float(scores.mean()), "reward": float(rewards.sum(1).mean()), "kl_k1": k1, "kl_k3": k3,
              "response_len": float(mask.sum(1).mean()), "no_eos": float((~samples.ended).float().mean())}
    record |= {k: v / updates for k, v in sums.items() if ptx is not None or "ptx" not in k}
    record |= {"t_rollout": t1 - t0, "t_reward": t2 - t1, "t_learn": t3 - t2}
    return record


def _select(s: Samples, rows: torch.Tensor) -> Samples:
    return Samples(s.full[rows], s.key_mask[rows], s.prompt_len, s.response_mask[rows], s.ended[rows])
