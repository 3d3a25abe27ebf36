"""The fine-tuning loop: AdamW (L2 0.01 on weights, GPT-1), linear warm-up then linear decay to zero,
L = L_task + λ L_LM, the selection split evaluated each epoch (or every eval_every steps) with the
best weights kept in <out>/best, dev evaluated once with them at the end (<out>/results.json).

Resumable exactly: a checkpoint holds the optimizer, schedule, RNG states, the head and the position
in the epoch; an epoch's batches are a pure function of (seed, epoch), so a resumed run skips the
batches already taken and continues with the same ones a straight run would."""
from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from pipeline.core.config import InputError
from training import checkpoint as ckpt
from training.finetune import metrics as glue
from training.finetune.config import FinetuneSettings, TaskSpec
from training.finetune.head import TaskModel
from training.finetune.setup import Prepared, checkpoint_meta, prepare
from training.finetune.tasks import load_task_data
from training.finetune.transform import Encoded, encode_items, epoch_batches, eval_batches, make_batch
from training.metrics import MetricsLogger
from training.train import Dist, StopFlag, find_resume, make_optimizer, pick_device

BEST_DIR = "best"
RESULTS_FILE = "results.json"


def lr_multiplier(step: int, warmup: int, total: int) -> float:
    """GPT-1's schedule: linear from 0 to 1 over `warmup` steps, then linear to 0 at `total`."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


@torch.no_grad()
def evaluate(model: TaskModel, enc: Encoded, task: TaskSpec, pad_id: int, batch_size: int,
             device, amp) -> dict[str, float]:
    """The task's metrics over `enc`, dropout off."""
    was_training = model.training
    model.eval()
    preds, golds = [], []
    regression = task.target == "regression"
    for indices in eval_batches(enc, batch_size):
        batch = make_batch(enc, indices, pad_id, regression).to(device)
        with amp:
            scores, _ = model(batch, with_lm=False)
        preds.append(model.predictions(scores, regression).cpu())
        golds.append(batch.labels.cpu())
    model.train(was_training)
    return glue.compute(task.metrics, torch.cat(preds).numpy(), torch.cat(golds).numpy())


def finetune_optimizer(model: TaskModel, settings: FinetuneSettings) -> torch.optim.AdamW:
    """AdamW with GPT-1's L2 on every weight matrix, embeddings included (never biases or gains)."""
    return make_optimizer(model, SimpleNamespace(
        lr=settings.lr, weight_decay=settings.weight_decay, beta1=settings.beta1, beta2=settings.beta2,
        eps=settings.eps, decay_embeddings=True))


def train_step(model: TaskModel, batch, lam: float, optimizer, scheduler, grad_clip: float, amp):
    """One optimizer step on L_task + λ L_LM (L_LM not computed at λ = 0); returns the three losses."""
    with amp:
        scores, lm_loss = model(batch, with_lm=lam > 0)
        task_loss = model.task_loss(scores, batch.labels)
        loss = task_loss + lam * lm_loss if lam > 0 else task_loss
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss, task_loss, lm_loss


def every(step: int, n: int) -> bool:
    return bool(n) and step % n == 0


def total_steps(n_items: int, settings: FinetuneSettings) -> int:
    per_epoch = math.ceil(n_items / settings.batch_size)
    return settings.max_steps or per_epoch * settings.epochs


def run_finetune(checkpoint: str | Path, task: TaskSpec, settings: FinetuneSettings, out_dir: str | Path,
                 from_scratch: bool = False, resume: str | None = None) -> dict:
    """Fine-tune; returns the results record (also written to <out>/results.json)."""
    out_dir = Path(out_dir)
    device = pick_device(settings.device, Dist())
    amp = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext())
    if not resume and ckpt.complete_checkpoints(out_dir):
        raise ckpt.CheckpointError(f"{out_dir} already holds checkpoints: continue with --resume auto, "
                                   "or choose another --out")
    data = load_task_data(task, settings)  # a task file naming absent columns stops here
    p = prepare(checkpoint, task, settings, device, from_scratch)
    enc = {name: encode_items(task, getattr(data, name), p.tokenizer, p.specials, p.max_len)
           for name in ("train", "select", "dev")}
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_path = out_dir / ckpt.TOKENIZER_FILE
    p.tokenizer.save(str(tokenizer_path))

    model, lam, regression = p.model, settings.lm_coef, task.target == "regression"
    optimizer = finetune_optimizer(model, settings)
    total = total_steps(len(enc["train"].rows), settings)
    warmup = max(1, math.ceil(settings.warmup_fraction * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_multiplier(s, warmup, total))
    state = {"step": 0, "epoch": 0, "position": 0, "best": None, "best_step": None}
    start = find_resume(out_dir, resume, print)
    if start:
        theirs = ckpt.read_config(start).get("finetune", {}).get("task", {}).get("name")
        if theirs != task.name:
            raise ckpt.CheckpointError(f"checkpoint {start} is not a fine-tuning checkpoint of task {task.name} "
                                       f"(it is {'of task ' + theirs if theirs else 'not a fine-tuning one'})")
        saved = ckpt.load_train_state(start)
        model.gpt.load_state_dict(ckpt.load_model_state(start))
        model.head.load_state_dict(saved["head"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        ckpt.set_rng_state(saved["rng"])
        state.update(saved["loop"])
    else:
        torch.manual_seed(settings.seed)  # dropout masks

    logger = MetricsLogger(out_dir, total, start_step=state["step"], progress=settings.progress)
    counts = {name: len(e.rows) for name, e in enc.items()}
    logger.message(f"finetune {task.name} ({task.kind}): {counts} items, truncated "
                   f"{ {n: e.truncated for n, e in enc.items()} }, skipped {dict(data.skipped)}; "
                   f"{total} steps, warm-up {warmup}, λ={lam}, "
                   f"{'from scratch' if from_scratch else 'pre-trained ' + str(p.pretrained)}")

    done = {"saved": state["step"] if start else None, "selected": None}

    def save(run_dir: Path, keep: int) -> Path:
        train_state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                       "rng": ckpt.rng_state(), "head": model.head.state_dict(), "loop": dict(state)}
        if run_dir == out_dir:
            done["saved"] = state["step"]
        return ckpt.save_checkpoint(run_dir, state["step"], model.gpt.state_dict(), train_state,
                                    checkpoint_meta(p, task, settings, state["step"], from_scratch),
                                    str(tokenizer_path), keep)

    def select() -> None:
        done["selected"] = state["step"]
        if not enc["select"].rows:  # nothing held out: the last weights are the chosen ones
            state["best_step"] = state["step"]
            save(out_dir / BEST_DIR, 1)
            return
        values = evaluate(model, enc["select"], task, p.pad_id, settings.eval_batch_size, device, amp)
        logger.log(state["step"], "val", {f"select/{k}": v for k, v in values.items()})
        score = values[task.metrics[0]]
        if state["best"] is None or score > state["best"]:
            state["best"], state["best_step"] = score, state["step"]
            save(out_dir / BEST_DIR, 1)

    model.train()
    tokens, timed, t0, stopped_by = 0, 0.0, time.perf_counter(), None
    with StopFlag() as stop:
        while state["step"] < total and not stopped_by:
            batches = epoch_batches(enc["train"], settings.batch_size, settings.seed, state["epoch"])
            while state["position"] < len(batches) and state["step"] < total:
                t_step = time.perf_counter()
                batch = make_batch(enc["train"], batches[state["position"]], p.pad_id, regression).to(device)
                lr = scheduler.get_last_lr()[0]
                loss, task_loss, lm_loss = train_step(model, batch, lam, optimizer, scheduler, settings.grad_clip, amp)
                state["step"] += 1
                state["position"] += 1
                tokens += batch.real_tokens
                logger.advance()
                log_now = state["step"] % settings.log_every == 0 or state["step"] == total
                if log_now:  # .item() waits for the device, so the step's time below is true
                    values = {"loss": loss.item(), "task_loss": task_loss.item(), "lr": lr,
                              "lm_loss": lm_loss.item() if lm_loss is not None else None}
                timed += time.perf_counter() - t_step
                if log_now:
                    logger.log(state["step"], "train", {**values, "tokens_per_s": tokens / timed})
                epoch_end = state["position"] == len(batches)
                if epoch_end:
                    state["epoch"], state["position"] = state["epoch"] + 1, 0
                if (epoch_end and not settings.eval_every) or every(state["step"], settings.eval_every):
                    select()
                if (epoch_end and not settings.ckpt_every) or every(state["step"], settings.ckpt_every):
                    save(out_dir, settings.keep_last)
                if stop.signal or state["step"] == settings.stop_after:
                    stopped_by = stop.signal or f"stop_after={settings.stop_after}"
                    break
                if epoch_end:
                    break
        if not stopped_by and done["selected"] != state["step"]:
            select()  # the last weights are candidates too
        if done["saved"] != state["step"]:
            save(out_dir, settings.keep_last)
    logger.close()
    result = {"task": task.name, "kind": task.kind, "step": state["step"], "total_steps": total,
              "stopped_by": stopped_by, "lm_coef": lam, "from_scratch": from_scratch,
              "items": counts, "rows_read": data.read, "skipped": dict(data.skipped),
              "truncated": {n: e.truncated for n, e in enc.items()},
              "train_tokens_per_s": tokens / timed if timed else None,
              "select_best": state["best"], "best_step": state["best_step"],
              "wall_s": time.perf_counter() - t0}
    if not stopped_by:
        result["dev"] = dev_metrics(out_dir, model, enc["dev"], task, p, settings, device, amp)
        (out_dir / RESULTS_FILE).write_text(json.dumps(result, indent=2))
    return result


def dev_metrics(out_dir: Path, model: TaskModel, enc: Encoded, task: TaskSpec, p: Prepared,
                settings: FinetuneSettings, device, amp) -> dict:
    """Dev, once, with the chosen weights."""
    best = ckpt.resolve(out_dir / BEST_DIR)
    model.gpt.load_state_dict(ckpt.load_model_state(best))
    model.head.load_state_dict(ckpt.load_train_state(best)["head"])
    return evaluate(model, enc, task, p.pad_id, settings.eval_batch_size, device, amp)
