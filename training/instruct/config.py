"""Settings of `train sft`, `train rm` and `train ppo`: defaults below, each overridable on the command
line as key=value (validated by pipeline.core.config.parse_model: a mistake is one line naming the key).
"""
from __future__ import annotations

from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.core.config import parse_model, parse_override


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = 1337
    device: str = "auto"
    log_every: int = Field(10, gt=0)
    ckpt_every: int = Field(0, ge=0)     # steps (iterations for PPO) between checkpoints; 0: at the end
    keep_last: int = Field(2, gt=0)
    progress: Literal["auto", "bar", "log"] = "auto"
    max_len: int = Field(0, ge=0)        # 0: the model's block_size; longer examples are skipped


class SFTSettings(_Settings):
    """InstructGPT §3.5: 16 epochs, cosine decay, residual dropout 0.2 (set model_dropout)."""
    lr: float = Field(3e-4, gt=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    warmup_steps: int = Field(10, ge=0)
    epochs: int = Field(1, gt=0)
    max_steps: int = Field(0, ge=0)      # 0: epochs x batches per epoch
    batch_size: int = Field(16, gt=0)    # examples per step (packed into rows, or padded rows)
    layout: Literal["packed", "padded"] = "packed"
    weight_decay: float = Field(0.0, ge=0)
    grad_clip: float = Field(1.0, ge=0)
    model_dropout: float = -1.0          # -1: the pre-trained checkpoint's own
    heldout_fraction: float = Field(0.02, ge=0, lt=1)


class RMSettings(_Settings):
    """InstructGPT §3.5: one epoch (more overfits), all C(K,2) comparisons of a prompt in one batch."""
    lr: float = Field(1e-4, gt=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    warmup_steps: int = Field(10, ge=0)
    epochs: int = Field(1, gt=0)
    max_steps: int = Field(0, ge=0)
    batch_prompts: int = Field(8, gt=0)  # prompts per step (each with all its K responses)
    weight_decay: float = Field(0.0, ge=0)
    grad_clip: float = Field(1.0, ge=0)
    heldout_fraction: float = Field(0.1, ge=0, lt=1)
    half: Literal["all", "a", "b"] = "all"   # train on one half of the non-held-out prompts (a judge RM)
    max_demos: int = Field(512, ge=0)    # demonstrations scored for the reward shift


class PPOSettings(_Settings):
    """InstructGPT / Ziegler et al.: β 0.02 per-token KL penalty, GAE γ 1 λ 0.95, clip 0.2, 4 epochs."""
    iterations: int = Field(20, gt=0)
    rollout_batch: int = Field(16, gt=0)     # prompts per iteration (one response each)
    minibatch: int = Field(8, gt=0)
    ppo_epochs: int = Field(4, gt=0)
    max_new_tokens: int = Field(64, gt=0)
    lr: float = Field(1e-5, gt=0)
    value_lr: float = Field(5e-5, gt=0)
    kl_coef: float = Field(0.02, ge=0)       # β
    gamma: float = Field(1.0, ge=0, le=1)
    lam: float = Field(0.95, ge=0, le=1)
    clip: float = Field(0.2, gt=0)
    value_clip: float = Field(0.2, gt=0)
    value_coef: float = Field(1.0, gt=0)
    no_eos_penalty: float = Field(1.0, ge=0)  # subtracted from the score of a response with no <|end|>
    # γ of PPO-ptx. Both terms are per-token means (the PPO term over response tokens, the ptx term
    # over pre-training tokens), so 1.0 weighs a pre-training token like a response token.
    ptx_coef: float = Field(1.0, ge=0)
    ptx_batch: int = Field(4, gt=0)          # rows of the pre-training stream per minibatch
    ptx_block: int = Field(256, gt=1)        # tokens per pre-training row (capped at block_size)
    grad_clip: float = Field(1.0, ge=0)
    eval_prompts: int = Field(32, ge=0)      # held-out prompts for the final win rate; 0: none
    ptx_mixture: str = ""                    # the pre-training mixture YAML (also --ptx)


def parse_settings(cls: type[_Settings], overrides: Iterable[str], where: str) -> _Settings:
    values = {}
    for text in overrides:
        path, value = parse_override(text)
        values[".".join(path)] = value
    return parse_model(cls, values, where)
