"""`train sft`: supervised fine-tuning on demonstrations in the chat format (InstructGPT step 1).

Loss: next-token cross-entropy on response tokens only (each assistant turn's text and <|end|>); the
prompt's tokens are context, never targets. A step takes `batch_size` examples (length-sorted
batches, order shuffled per epoch by (seed, epoch)) and lays them out either

  packed: first-fit into rows of block_size (training.batching.pack_examples) with a block-diagonal
          attention mask and positions restarting per example, so no example sees another; or
  padded: one right-padded row per example (causal attention never lets a real token see a pad).

Both layouts give the same loss (the mean over the batch's response tokens), so `layout` changes
speed only; bench/instruct.py measures both.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from pipeline.core.config import InputError
from pipeline.core.hashing import uniform
from training.batching import IGNORE, length_sorted_batches, pack_examples, pad_sequences
from training.instruct.chat import ChatFormat, Turn
from training.instruct.config import SFTSettings
from training.instruct.data import Skips, read_sft
from training.instruct.run import (RunFolder, adamw, device_of, load_chat_model, make_schedule, optimizer_step,
                                  report_skips, restore, snapshot)

Example = tuple[list[int], list[bool]]


def build_examples(chat: ChatFormat, convs: list[list[Turn]], max_len: int, skips: Skips) -> list[Example]:
    out = []
    for turns in convs:
        ids, mask = chat.example(turns)
        if len(chat.prompt_ids(turns[:-1])) >= max_len:
            skips["prompt_too_long"] += 1
        elif len(ids) > max_len:
            skips["example_too_long"] += 1
        else:
            out.append((ids, mask))
    return out


def make_batch(examples: list[Example], layout: str, block_size: int, pad_id: int) -> dict:
    """Model inputs for `examples`: packed rows (with attn_mask, position_ids) or padded rows."""
    if layout == "packed":
        packed = pack_examples(examples, block_size, pad_id)
        return {"idx": packed.input_ids, "targets": packed.targets, "attn_mask": packed.attn_mask,
                "position_ids": packed.position_ids}
    targets = [[nxt if counts else IGNORE for nxt, counts in zip(ids[1:], mask[1:])] + [IGNORE]
               for ids, mask in examples]
    return {"idx": pad_sequences([ids for ids, _ in examples], pad_id),
            "targets": pad_sequences(targets, IGNORE)}


def batch_loss(gpt, batch: dict, device) -> torch.Tensor:
    """Mean cross-entropy over the batch's response tokens."""
    inputs = {k: v.to(device) for k, v in batch.items()}
    _, loss = gpt(inputs.pop("idx"), inputs.pop("targets"), **inputs)
    return loss


def epoch_batches(examples: list[Example], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    return length_sorted_batches([len(ids) for ids, _ in examples], batch_size, seed=seed * 1_000_003 + epoch)


def split_heldout(convs: list[list[Turn]], fraction: float, seed: int) -> tuple[list, list]:
    """Deterministic by (seed, conversation text): the same held-out set on every run and resume."""
    train, held = [], []
    for turns in convs:
        (held if uniform(seed, repr(turns), "sft-heldout") < fraction else train).append(turns)
    return train, held


@torch.no_grad()
def heldout_loss(gpt, examples: list[Example], batch_size: int, block_size: int, pad_id: int, device) -> float | None:
    """Token-weighted mean loss over held-out examples."""
    if not examples:
        return None
    gpt.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        chunk = examples[start:start + batch_size]
        n = sum(sum(mask[1:]) for _, mask in chunk)
        total += batch_loss(gpt, make_batch(chunk, "padded", block_size, pad_id), device).item() * n
        count += n
    gpt.train()
    return total / max(count, 1)


def train_sft(checkpoint: str | Path, data: list[str], out: str | Path, settings: SFTSettings,
              resume: str | None = None) -> dict:
    device = device_of(settings.device)
    torch.manual_seed(settings.seed)
    cm = load_chat_model(checkpoint, device, settings.seed, settings.model_dropout)
    skips = Skips()
    convs = read_sft(data, skips)
    max_len = cm.max_len(settings.max_len)
    train_convs, held_convs = split_heldout(convs, settings.heldout_fraction, settings.seed)
    examples = build_examples(cm.chat, train_convs, max_len, skips)
    heldout = build_examples(cm.chat, held_convs, max_len, Skips())
    report_skips("sft", skips)
    if not examples:
        raise InputError(f"sft: no usable training example in --data ({skips.line()} skipped)")
    per_epoch = -(-len(examples) // settings.batch_size)
    total = settings.max_steps or settings.epochs * per_epoch
    folder = RunFolder(out, resume, cm.tokenizer, settings.keep_last)
    gpt = cm.gpt.train()
    optimizer = adamw(gpt.parameters(), settings.lr, settings.weight_decay)
    scheduler = make_schedule(optimizer, settings.warmup_steps, total, settings.min_lr_ratio)
    parts = {"optimizer": optimizer, "scheduler": scheduler}
    weights, state = folder.resume_state()
    step = 0
    if state is not None:
        gpt.load_state_dict(weights)
        step = restore(state, parts)
    pad_id = cm.chat.end
    logger = folder.logger(total, step, settings.progress)
    logger.message(f"sft: {len(examples)} examples ({len(heldout)} held out), {per_epoch} steps/epoch, "
                   f"{total} steps, layout {settings.layout}, block {max_len}, {device}")

    def save(at: int) -> None:
        train_state = snapshot(at, parts)
        meta = cm.checkpoint_meta("sft", at, settings, data=[str(p) for p in data], skips=dict(skips))
        logger.message(f"checkpoint: {folder.save(at, gpt.state_dict(), train_state, meta)}")

    losses: dict[int, float] = {}
    plans: dict[int, list[list[int]]] = {}
    t_last, tokens, rows, slots = time.perf_counter(), 0, 0, 0
    while step < total:
        epoch, b = divmod(step, per_epoch)
        if epoch not in plans:
            plans = {epoch: epoch_batches(examples, settings.batch_size, settings.seed, epoch)}
        chunk = [examples[i] for i in plans[epoch][b]]
        batch = make_batch(chunk, settings.layout, max_len, pad_id)
        loss = batch_loss(gpt, batch, device)
        lr = optimizer_step(loss, gpt.parameters(), optimizer, scheduler, settings.grad_clip)
        step += 1
        tokens += sum(len(ids) for ids, _ in chunk)
        rows += batch["idx"].size(0)
        slots += batch["idx"].numel()
        losses[step] = loss.item()
        logger.advance()
        if step % settings.log_every == 0 or step == total:
            elapsed = time.perf_counter() - t_last
            logger.log(step, "train", {"loss": losses[step], "lr": lr, "tokens_per_s": tokens / elapsed,
                                       "rows": rows, "fill": tokens / max(slots, 1)})
            t_last, tokens, rows, slots = time.perf_counter(), 0, 0, 0
        if settings.ckpt_every and step % settings.ckpt_every == 0 and step < total:
            save(step)
    held = heldout_loss(gpt, heldout, settings.batch_size, max_len, pad_id, device)
    if held is not None:
        logger.log(step, "val", {"loss/heldout": held})
    save(step)
    logger.close()
    return {"step": step, "losses": losses, "heldout_loss": held, "skips": dict(skips), "out": folder.out}
