"""What `train sft`, `train rm` and `train ppo` share: a checkpoint loaded as a chat model (the chat
tokens added to its tokenizer and embedding), the run folder (resume policy, atomic checkpoints that
`train sample`, `train eval` and `train export` read like any other), the optimizer and schedule.

A checkpoint written here records the base tokenizer's hash plus the chat tokens
(training.special_tokens.tokenizer_identity), the raised vocab_size, and under "instruct" the stage,
its settings and the checkpoint it started from. Heads (reward, value) live in train_state.pt.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer

from pipeline.core.hashing import file_sha256
from training import checkpoint as ckpt
from training.instruct.chat import CHAT_TOKENS, ChatFormat
from training.instruct.data import Skips
from training.metrics import MetricsLogger
from training.model import GPT
from training.sample import load_model, load_tokenizer
from training.special_tokens import check_tokenizer_compatible, extend_model_vocab, tokenizer_identity
from training.train import Dist, find_resume, lr_multiplier, pick_device

__all__ = ["ChatModel", "RunFolder", "load_chat_model", "device_of", "make_schedule"]


@dataclass
class ChatModel:
    gpt: GPT
    tokenizer: Tokenizer
    chat: ChatFormat
    meta: dict
    path: Path
    base_sha256: str

    def max_len(self, setting: int) -> int:
        block = self.gpt.config.block_size
        return min(setting or block, block)

    def checkpoint_meta(self, stage: str, step: int, settings, **extra) -> dict:
        run = dict(self.meta["run"])
        run["model"] = dataclasses.asdict(self.gpt.config)  # vocab_size as raised by the chat tokens
        return {"run": run, "step": step, "tokenizer_hash": self.base_sha256,
                "tokenizer": tokenizer_identity(self.base_sha256, CHAT_TOKENS), "eot_id": self.meta.get("eot_id"),
                "instruct": {"stage": stage, "from": str(self.path), "settings": settings.model_dump(), **extra}}


def device_of(setting: str) -> torch.device:
    return pick_device(setting, Dist())


def set_dropout(gpt: GPT, p: float) -> None:
    """Override the checkpoint's dropout (SFT's residual dropout; none in PPO, so that log-probs of
    the rollout and of the update are of the same distribution)."""
    gpt.config.dropout = p
    for module in gpt.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
        elif hasattr(module, "resid_dropout"):  # CausalSelfAttention keeps SDPA's dropout as a float
            module.dropout = p


def _base_sha(meta: dict, path: Path) -> str:
    identity = meta.get("tokenizer")
    if isinstance(identity, dict) and identity.get("base_sha256"):
        return identity["base_sha256"]
    return meta.get("tokenizer_hash") or file_sha256(str(Path(path) / ckpt.TOKENIZER_FILE))


def load_chat_model(checkpoint: str | Path, device: torch.device, seed: int, dropout: float = -1.0) -> ChatModel:
    gpt, meta, path = load_model(checkpoint, str(device))
    tokenizer = load_tokenizer(path)
    chat = ChatFormat.attach(tokenizer)
    extend_model_vocab(gpt, tokenizer, generator=torch.Generator().manual_seed(seed))
    gpt.to(device)
    if dropout >= 0:
        set_dropout(gpt, dropout)
    return ChatModel(gpt, tokenizer, chat, meta, path, _base_sha(meta, path))


def check_same_tokenizer(a: ChatModel, b: ChatModel) -> None:
    """Two chat checkpoints (policy and reward model) must share ids: one base tokenizer, one format."""
    check_tokenizer_compatible(b.meta.get("tokenizer") or {"base_sha256": b.base_sha256}, a.base_sha256, str(b.path))
    if a.gpt.config.vocab_size != b.gpt.config.vocab_size:
        raise ckpt.CheckpointError(f"{b.path}: vocabulary of {b.gpt.config.vocab_size} ids, {a.path} has "
                                   f"{a.gpt.config.vocab_size}")


class RunFolder:
    """The output folder: refuses to overwrite checkpoints unless resuming, writes the extended
    tokenizer once, and saves checkpoints atomically (training.checkpoint)."""

    def __init__(self, out: str | Path, resume: str | None, tokenizer: Tokenizer, keep_last: int):
        self.out = Path(out)
        if not resume and ckpt.complete_checkpoints(self.out):
            raise ckpt.CheckpointError(f"{self.out} already holds checkpoints: continue with --resume auto, "
                                       "or choose another --out")
        self.start = find_resume(self.out, resume, print)
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in ckpt.incomplete_checkpoints(self.out):
            shutil.rmtree(stale, ignore_errors=True)
        self.tokenizer_file = self.out / ckpt.TOKENIZER_FILE
        tokenizer.save(str(self.tokenizer_file))
        self.keep_last = keep_last

    def resume_state(self) -> tuple[dict | None, dict | None]:
        """(model weights, train state) of the checkpoint to resume, or (None, None)."""
        if self.start is None:
            return None, None
        print(f"resume: from {self.start}")
        return ckpt.load_model_state(self.start), ckpt.load_train_state(self.start)

    def save(self, step: int, model_state: dict, train_state: dict, meta: dict) -> Path:
        return ckpt.save_checkpoint(self.out, step, model_state, train_state, meta, str(self.tokenizer_file),
                                    self.keep_last)

    def logger(self, total: int, start: int, progress: str) -> MetricsLogger:
        return MetricsLogger(self.out, total, start_step=start, progress=progress)

    def write_json(self, name: str, data: dict) -> Path:
        path = self.out / name
        path.write_text(json.dumps(data, indent=2, sort_keys=True))
        return path


def make_schedule(optimizer: torch.optim.Optimizer, warmup: int, horizon: int, min_ratio: float):
    """The trainer's warm-up then cosine decay (training.train.lr_multiplier)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_multiplier(s, warmup, horizon, min_ratio))


def report_skips(stage: str, skips: Skips) -> None:
    print(f"{stage}: skipped {sum(skips.values())} records ({skips.line()})")


def adamw(params, lr: float, weight_decay: float = 0.0) -> torch.optim.AdamW:
    """GPT-3's Adam betas (0.9, 0.95), as the pre-training loop."""
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)


def optimizer_step(loss: torch.Tensor, params, optimizer, scheduler, grad_clip: float) -> float:
    """Backward, clip, step (and the schedule); the learning rate the step used."""
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return lr


def snapshot(step: int, parts: dict) -> dict:
    """A train state: the step, every RNG, and each part's state_dict (optimizers, schedules, heads)."""
    return {"step": step, "rng": ckpt.rng_state(), **{name: part.state_dict() for name, part in parts.items()}}


def restore(state: dict, parts: dict) -> int:
    """The inverse of snapshot; returns the step."""
    for name, part in parts.items():
        part.load_state_dict(state[name])
    ckpt.set_rng_state(state["rng"])
    return state["step"]
