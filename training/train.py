"""The training loop: AdamW, warm-up then cosine decay, gradient accumulation to a token batch,
bf16 autocast on CUDA, optional torch.compile, DDP under torchrun, atomic checkpoints every
ckpt_every steps and on SIGTERM/SIGINT, exact resume.

The loop sees the data only through the mixture interface: MixtureLoader(mixture, block_size,
batch_size, split, rank, world_size, num_workers) yielding (x, y) with state_dict/load_state_dict,
and validation_batches(mixture, block_size, batch_size, source, max_batches).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from pipeline.core.config import ConfigError
from training import checkpoint as ckpt
from training.config import RunConfig
from training.metrics import MetricsLogger, mfu, plot_loss_curve
from training.model import GPT

SHAPE_KEYS = ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "bias", "qkv_bias", "attn_pattern",
              "band_width")


@dataclass
class Dist:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Dist:
    """torchrun sets RANK/WORLD_SIZE: NCCL between GPUs, gloo between CPU processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    d = Dist(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world)
    if not dist.is_initialized():
        use_cuda = device != "cpu" and torch.cuda.is_available()
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return d


def pick_device(setting: str, d: Dist) -> torch.device:
    if setting == "auto":
        setting = "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda":
        setting = f"cuda:{d.local_rank}"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device={setting} but CUDA is not available")
    device = torch.device(setting)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def lr_multiplier(step: int, warmup: int, horizon: int, min_ratio: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine from 1 down to min_ratio at `horizon`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: GPT, cfg) -> torch.optim.AdamW:
    """Decay matrices only: never biases or norms, and embeddings only when decay_embeddings."""
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    decay, no_decay = [], []
    for p in dict.fromkeys(model.parameters()):  # the tied wte/lm_head weight once
        if not p.requires_grad:
            continue
        is_decayed = p.dim() >= 2 and (cfg.decay_embeddings or id(p) not in embeddings)
        (decay if is_decayed else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    # The fused kernel (CUDA, and CPU since torch 2.4) is one pass over the parameters; the default
    # on CPU is a Python loop of a dozen kernels per parameter, ~10% of a 30M model's step.
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, fused=True)


def grad_accum_steps(cfg: RunConfig, world_size: int) -> int:
    per_micro = cfg.train.batch_size * cfg.model.block_size * world_size
    if cfg.train.tokens_per_step == 0:
        return 1
    if cfg.train.tokens_per_step % per_micro:
        raise ConfigError(
            f"train.tokens_per_step={cfg.train.tokens_per_step} is not a multiple of batch_size x "
            f"block_size x processes = {per_micro}")
    return cfg.train.tokens_per_step // per_micro


class StopFlag:
    """SIGTERM/SIGINT ask for a checkpoint and a clean exit after the current step; a second
    SIGINT falls through to Python's default (KeyboardInterrupt)."""

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signal = signal.Signals(signum).name
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def any_rank(self, d: Dist, device: torch.device) -> bool:
        """Stop together: a rank that stopped alone would leave the others waiting in a collective."""
        if d.world_size == 1:
            return self.signal is not None
        flag = torch.tensor([self.signal is not None], dtype=torch.int32, device=device)
        dist.all_reduce(flag)
        return bool(flag.item())


def _gather(obj, d: Dist) -> list:
    if d.world_size == 1:
        return [obj]
    out = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def check_compatible(path: Path, saved: dict, cfg: RunConfig, tokenizer_hash: str | None) -> None:
    """One line for a checkpoint of another tokenizer or another model shape (in that order: another
    tokenizer usually also means another vocabulary size)."""
    if tokenizer_hash and saved.get("tokenizer_hash") and saved["tokenizer_hash"] != tokenizer_hash:
        raise ckpt.CheckpointError(
            f"checkpoint {path} was trained with tokenizer {saved['tokenizer_hash']}, but the mixture "
            f"uses tokenizer {tokenizer_hash}")
    mine = dataclasses.asdict(cfg.model)
    theirs = saved.get("run", {}).get("model", {})
    diff = [f"{k}={theirs.get(k)!r} (this run: {mine[k]!r})" for k in SHAPE_KEYS if theirs.get(k) != mine[k]]
    if diff:
        raise ckpt.CheckpointError(f"checkpoint {path} is for another model shape: {', '.join(diff)}")


def find_resume(out_dir: Path, resume: str | None, say: Callable[[str], None]) -> Path | None:
    """`auto`: the newest complete checkpoint of out_dir, saying which incomplete ones it skips."""
    if not resume:
        return None
    if resume != "auto":
        return ckpt.resolve(resume)
    for bad in ckpt.incomplete_checkpoints(out_dir):
        say(f"resume: skipping incomplete checkpoint {bad}")
    found = ckpt.complete_checkpoints(out_dir)
    if not found:
        say(f"resume: no complete checkpoint in {out_dir / 'checkpoints'}; starting from step 0")
        return None
    return found[-1]


@torch.no_grad()
def evaluate(model: GPT, mixture, cfg: RunConfig, device, amp, val_fn) -> dict:
    """Mean validation loss per source on its held-out rows."""
    model.eval()
    out = {}
    for source in mixture.sources:
        losses = []
        for x, y in val_fn(mixture, cfg.model.block_size, cfg.train.batch_size, source.name,
                           cfg.train.eval_batches):
            with amp:
                _, loss = model(x.to(device), y.to(device))
            losses.append(loss.item())
        if losses:
            out[f"loss/{source.name}"] = sum(losses) / len(losses)
    model.train()
    return out


def train(cfg: RunConfig, mixture, out_dir: str | Path, resume: str | None = None,
          loader_cls=None, val_fn=None) -> dict:
    """Train per cfg on the mixture; returns {"step", "losses" {step: loss}, "stopped_by", ...}."""
    if loader_cls is None or val_fn is None:
        from training.data import MixtureLoader, validation_batches
        loader_cls, val_fn = loader_cls or MixtureLoader, val_fn or validation_batches
    out_dir = Path(out_dir)
    tc = cfg.train
    d = setup_distributed(tc.device)
    device = pick_device(tc.device, d)
    accum = grad_accum_steps(cfg, d.world_size)
    dtype = tc.dtype if tc.dtype != "auto" else ("bfloat16" if device.type == "cuda" else "float32")
    amp = (torch.autocast(device.type, dtype=torch.bfloat16) if dtype == "bfloat16"
           else contextlib.nullcontext())
    if device.type == "cpu" and tc.threads:
        torch.set_num_threads(tc.threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    say = print if d.main else (lambda _text: None)
    tokens_per_step = tc.batch_size * cfg.model.block_size * d.world_size * accum
    if not tc.max_steps:
        budget = getattr(mixture, "token_budget", None)
        if not budget:
            raise ConfigError("train.max_steps=0 needs a token_budget in the mixture; set max_steps")
        tc.max_steps = max(1, math.ceil(budget / tokens_per_step))
    tokenizer_hash = getattr(mixture, "tokenizer_hash", None)

    if not resume and ckpt.complete_checkpoints(out_dir):
        raise ckpt.CheckpointError(f"{out_dir} already holds checkpoints: continue with --resume auto, "
                                   "or choose another --out")
    start = find_resume(out_dir, resume, say) if d.main else None
    start = _gather(str(start) if start else None, d)[0]  # rank 0 decides for all
    if d.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in ckpt.incomplete_checkpoints(out_dir):
            shutil.rmtree(stale, ignore_errors=True)
        (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    torch.manual_seed(tc.seed)
    model = GPT(cfg.model).to(device)
    optimizer = make_optimizer(model, tc)
    horizon = tc.schedule_steps or tc.max_steps
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_multiplier(s, tc.warmup_steps, horizon, tc.min_lr_ratio))
    loader = loader_cls(mixture, cfg.model.block_size, tc.batch_size, split="train", rank=d.rank,
                        world_size=d.world_size, num_workers=tc.num_workers)
    step = 0
    if start:
        start = Path(start)
        check_compatible(start, ckpt.read_config(start), cfg, tokenizer_hash)
        model.load_state_dict(ckpt.load_model_state(start))
        state = ckpt.load_train_state(start)
        if state["world_size"] != d.world_size:
            raise ckpt.CheckpointError(f"checkpoint {start} was written by {state['world_size']} "
                                       f"processes; this run has {d.world_size}")
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        loader.load_state_dict(state["data"][d.rank])
        ckpt.set_rng_state(state["rng"][d.rank])
        step = state["step"]
        say(f"resume: from {start} at step {step}")
    else:
        torch.manual_seed(tc.seed + d.rank)  # distinct dropout masks per rank

    raw_model = model
    if tc.compile:
        model = torch.compile(model)
    if d.world_size > 1:
        model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)

    flops_per_token = raw_model.flops_per_token()
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    logger = MetricsLogger(out_dir, tc.max_steps, start_step=step, enabled=d.main, progress=tc.progress)
    logger.message(f"model: {raw_model.num_params() / 1e6:.2f}M parameters (position "
                   f"embeddings excluded); {tokens_per_step} tokens/step = {tc.batch_size} rows x "
                   f"{cfg.model.block_size} x {d.world_size} processes x {accum} accumulation; "
                   f"{device}, {dtype}")

    def save(at: int) -> None:
        state = {"step": at, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "data": _gather(loader.state_dict(), d), "rng": _gather(ckpt.rng_state(), d),
                 "world_size": d.world_size}
        if d.main:
            meta = {"run": cfg.to_dict(), "step": at, "tokenizer_hash": tokenizer_hash,
                    "eot_id": getattr(mixture, "eot_id", None)}
            path = ckpt.save_checkpoint(out_dir, at, raw_model.state_dict(), state, meta,
                                        getattr(mixture, "tokenizer", None), tc.keep_last)
            logger.message(f"checkpoint: {path}")
        if d.world_size > 1:
            dist.barrier()

    def run_eval(at: int) -> None:
        if d.main:
            values = evaluate(raw_model, mixture, cfg, device, amp, val_fn)
            if values:
                logger.log(at, "val", values)
        if d.world_size > 1:
            dist.barrier()

    losses, stopped_by, saved_at = {}, None, step
    data_it = iter(loader)
    model.train()
    # tokens/s covers training steps only: evaluation and checkpoint time is taken out (`paused`).
    t_last, data_s, paused, steps_timed = time.perf_counter(), 0.0, 0.0, 0
    with StopFlag() as stop:
        while step < tc.max_steps:
            loss_sum = torch.zeros((), device=device)
            for micro in range(accum):
                t_data = time.perf_counter()
                try:
                    x, y = next(data_it)
                except StopIteration:
                    stopped_by = "end of data"
                    break
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                data_s += time.perf_counter() - t_data
                sync = micro == accum - 1 or d.world_size == 1
                with (contextlib.nullcontext() if sync else model.no_sync()), amp:
                    _, loss = model(x, y)
                (loss / accum).backward()
                loss_sum += loss.detach()
            if stopped_by:
                break
            grad_norm = (torch.nn.utils.clip_grad_norm_(raw_model.parameters(), tc.grad_clip)
                         if tc.grad_clip > 0 else None)
            lr = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            steps_timed += 1
            logger.advance()
            if step % tc.log_every == 0 or step == tc.max_steps:
                if d.world_size > 1:
                    dist.all_reduce(loss_sum, op=dist.ReduceOp.AVG)
                loss_value = loss_sum.item() / accum  # .item() waits for the device: timing is true
                elapsed = time.perf_counter() - t_last - paused
                tok_s = tokens_per_step * steps_timed / elapsed
                losses[step] = loss_value
                logger.log(step, "train", {
                    "loss": loss_value, "lr": lr,
                    "grad_norm": float(grad_norm) if grad_norm is not None else None,
                    "tokens_per_s": tok_s, "data_frac": data_s / elapsed,
                    "mfu": mfu(flops_per_token, tok_s, device_name, d.world_size)})
                t_last, data_s, paused, steps_timed = time.perf_counter(), 0.0, 0.0, 0
            t_pause = time.perf_counter()
            if tc.eval_every and step % tc.eval_every == 0:
                run_eval(step)
            if stop.any_rank(d, device):
                stopped_by = stop.signal or "signal on another rank"
                break
            if tc.ckpt_every and step % tc.ckpt_every == 0:
                save(step)
                saved_at = step
            paused += time.perf_counter() - t_pause
        if stopped_by:
            logger.message(f"stopping at step {step}: {stopped_by}")
        if saved_at != step:
            save(step)
        if not tc.eval_every or step % tc.eval_every:
            run_eval(step)
    logger.close()
    png = None
    if d.main and (out_dir / "metrics.jsonl").exists():
        png = plot_loss_curve(out_dir / "metrics.jsonl", out_dir / "loss_curve.png")
    return {"step": step, "losses": losses, "stopped_by": stopped_by, "loss_curve": png,
            "out_dir": out_dir}
