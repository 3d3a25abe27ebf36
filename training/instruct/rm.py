"""`train rm`: the reward model from an SFT checkpoint, trained on rankings (InstructGPT step 2).

Preference groups (a prompt, K >= 2 responses best first) are split by a hash of the prompt into
held-out (heldout_fraction) and training; `half=a|b` keeps one half of the training prompts, so two
reward models trained on disjoint preferences can judge each other's policy. After training the head's
bias is shifted so that demonstrations (--demos, else the best training responses) score 0 on average,
as InstructGPT normalised its reward. The metric is pairwise accuracy on held-out comparisons with a
95% Wilson interval.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from scipy.stats import binomtest

from pipeline.core.config import InputError
from pipeline.core.hashing import uniform
from training import checkpoint as ckpt
from training.batching import length_sorted_batches
from training.instruct.chat import ChatFormat
from training.instruct.config import RMSettings
from training.instruct.data import Ranked, Skips, read_prefs, read_sft
from training.instruct.reward import ScalarHead, pairwise_correct, ranking_loss, score_sequences
from training.instruct.run import (ChatModel, RunFolder, adamw, device_of, load_chat_model, make_schedule,
                                  optimizer_step, report_skips, restore, snapshot)


@dataclass
class Group:
    seqs: list[list[int]]   # prompt + response + <|end|>, best response first

    @property
    def longest(self) -> int:
        return max(len(s) for s in self.seqs)


def encode_groups(chat: ChatFormat, ranked: list[Ranked], max_len: int, skips: Skips) -> list[Group]:
    """Responses that do not fit drop out of their ranking; a group needs two that fit."""
    out = []
    for r in ranked:
        prompt = chat.prompt_ids(r.prompt)
        if len(prompt) >= max_len:
            skips["prompt_too_long"] += 1
            continue
        seqs = [prompt + chat.response_ids(text) for text in r.responses]
        fits = [s for s in seqs if len(s) <= max_len]
        if len(fits) < len(seqs):
            skips["response_too_long"] += len(seqs) - len(fits)
        if len(fits) >= 2:
            out.append(Group(fits))
        else:
            skips["fewer_than_two_fit"] += 1
    return out


def split_groups(ranked: list[Ranked], settings: RMSettings) -> tuple[list[Ranked], list[Ranked]]:
    """(training, held-out) by a hash of each prompt; `half` keeps one half of training."""
    train, held = [], []
    for r in ranked:
        if uniform(settings.seed, r.key, "rm-heldout") < settings.heldout_fraction:
            held.append(r)
        elif settings.half == "all" or (uniform(settings.seed, r.key, "rm-half") < 0.5) == (settings.half == "a"):
            train.append(r)
    return train, held


def group_batch_loss(model: ScalarHead, groups: list[Group], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, rewards): all K responses of every prompt in one forward pass."""
    rewards = score_sequences(model, [s for g in groups for s in g.seqs], pad_id, device)
    return ranking_loss(rewards, [len(g.seqs) for g in groups]), rewards


def wilson(successes: int, trials: int) -> tuple[float, float]:
    ci = binomtest(successes, trials).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


@torch.no_grad()
def pairwise_accuracy(model: ScalarHead, groups: list[Group], pad_id: int, device, batch: int = 8) -> dict:
    model.eval()
    right = total = 0
    for start in range(0, len(groups), batch):
        chunk = groups[start:start + batch]
        rewards = score_sequences(model, [s for g in chunk for s in g.seqs], pad_id, device)
        r, t = pairwise_correct(rewards, [len(g.seqs) for g in chunk])
        right, total = right + r, total + t
    model.train()
    if not total:
        return {"accuracy": None, "pairs": 0}
    low, high = wilson(right, total)
    return {"accuracy": right / total, "low": low, "high": high, "pairs": total, "prompts": len(groups)}


@torch.no_grad()
def mean_score(model: ScalarHead, seqs: list[list[int]], pad_id: int, device, batch: int = 16) -> float:
    model.eval()
    scores = [score_sequences(model, seqs[i:i + batch], pad_id, device) for i in range(0, len(seqs), batch)]
    model.train()
    return float(torch.cat(scores).mean())


def load_reward_model(checkpoint: str | Path, device) -> tuple[ScalarHead, ChatModel]:
    """A reward model checkpoint (GPT weights + the head kept in train_state.pt)."""
    cm = load_chat_model(checkpoint, device, seed=0)
    if cm.meta.get("instruct", {}).get("stage") != "rm":
        raise ckpt.CheckpointError(f"{cm.path} is not a reward model checkpoint (train rm writes one)")
    model = ScalarHead(cm.gpt).to(device)
    model.head.load_state_dict(ckpt.load_train_state(cm.path)["head"])
    return model.eval(), cm


def train_rm(checkpoint: str | Path, pairs: list[str], out: str | Path, settings: RMSettings,
             resume: str | None = None, demos: list[str] | None = None) -> dict:
    device = device_of(settings.device)
    torch.manual_seed(settings.seed)
    cm = load_chat_model(checkpoint, device, settings.seed)
    skips = Skips()
    train_ranked, held_ranked = split_groups(read_prefs(pairs, skips), settings)
    max_len = cm.max_len(settings.max_len)
    groups = encode_groups(cm.chat, train_ranked, max_len, skips)
    heldout = encode_groups(cm.chat, held_ranked, max_len, Skips())
    report_skips("rm", skips)
    if not groups:
        raise InputError(f"rm: no usable preference group in --pairs ({skips.line()} skipped)")
    model = ScalarHead(cm.gpt, generator=torch.Generator().manual_seed(settings.seed)).to(device).train()
    per_epoch = -(-len(groups) // settings.batch_prompts)
    total = settings.max_steps or settings.epochs * per_epoch
    folder = RunFolder(out, resume, cm.tokenizer, settings.keep_last)
    optimizer = adamw(model.parameters(), settings.lr, settings.weight_decay)
    scheduler = make_schedule(optimizer, settings.warmup_steps, total, settings.min_lr_ratio)
    parts = {"head": model.head, "optimizer": optimizer, "scheduler": scheduler}
    weights, state = folder.resume_state()
    step = 0
    if state is not None:
        cm.gpt.load_state_dict(weights)
        step = restore(state, parts)
        with torch.no_grad():  # a final checkpoint holds the shifted head; training continues unshifted
            model.head.bias -= state.get("reward_shift", 0.0)
    pad_id = cm.chat.end
    logger = folder.logger(total, step, settings.progress)
    logger.message(f"rm: {len(groups)} prompts ({sum(len(g.seqs) for g in groups)} responses), "
                   f"{len(heldout)} held out, {total} steps, half {settings.half}, {device}")
    extra = {"pairs": [str(p) for p in pairs], "skips": dict(skips)}

    def save(at: int, summary: dict | None = None) -> None:
        train_state = snapshot(at, parts) | {"reward_shift": (summary or {}).get("reward_shift", 0.0)}
        meta = cm.checkpoint_meta("rm", at, settings, **extra, **(summary or {}))
        logger.message(f"checkpoint: {folder.save(at, cm.gpt.state_dict(), train_state, meta)}")

    losses: dict[int, float] = {}
    plan_epoch, plan = -1, []
    t_last = time.perf_counter()
    while step < total:
        epoch, b = divmod(step, per_epoch)
        if epoch != plan_epoch:
            plan_epoch = epoch
            plan = length_sorted_batches([g.longest for g in groups], settings.batch_prompts,
                                         seed=settings.seed * 1_000_003 + epoch)
        chunk = [groups[i] for i in plan[b]]
        loss, rewards = group_batch_loss(model, chunk, pad_id, device)
        lr = optimizer_step(loss, model.parameters(), optimizer, scheduler, settings.grad_clip)
        step += 1
        losses[step] = loss.item()
        logger.advance()
        if step % settings.log_every == 0 or step == total:
            right, pairs_n = pairwise_correct(rewards.detach(), [len(g.seqs) for g in chunk])
            logger.log(step, "train", {"loss": losses[step], "lr": lr, "batch_accuracy": right / pairs_n,
                                       "s_per_step": (time.perf_counter() - t_last) / settings.log_every})
            t_last = time.perf_counter()
        if settings.ckpt_every and step % settings.ckpt_every == 0 and step < total:
            save(step)
    # InstructGPT: shift the reward so that demonstrations score 0 on average.
    demo_seqs = _demonstrations(cm.chat, demos, groups, max_len, settings)
    shift = -mean_score(model, demo_seqs, pad_id, device)
    with torch.no_grad():
        model.head.bias += shift
    accuracy = pairwise_accuracy(model, heldout, pad_id, device)
    summary = {"reward_shift": shift, "demos": "demos" if demos else "best training responses",
               "heldout": accuracy}
    if accuracy["accuracy"] is not None:
        logger.log(step, "val", {"accuracy": accuracy["accuracy"], "accuracy_low": accuracy["low"],
                                 "accuracy_high": accuracy["high"], "pairs": accuracy["pairs"]})
    save(step, summary)
    folder.write_json("rm_eval.json", summary)
    logger.close()
    return {"step": step, "losses": losses, "heldout": accuracy, "reward_shift": shift, "skips": dict(skips),
            "out": folder.out}


def _demonstrations(chat: ChatFormat, demos: list[str] | None, groups: list[Group], max_len: int,
                    settings: RMSettings) -> list[list[int]]:
    if demos:
        seqs = [ids for ids in (chat.example(t)[0] for t in read_sft(demos, Skips())) if len(ids) <= max_len]
    else:
        seqs = [g.seqs[0] for g in groups]
    random.Random(settings.seed).shuffle(seqs)
    return seqs[: settings.max_demos] or [g.seqs[0] for g in groups[:1]]
