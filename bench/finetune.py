"""GPT-1's two claims on this machine, on SST-2: pre-training helps (the same model fine-tuned from a
checkpoint pre-trained on real WebText vs from random initialisation, same steps), and the auxiliary
LM loss (λ = 0.5 vs 0), reported as SST-2 dev accuracy beside the majority class; fine-tuning tokens/s
(real tokens) against pre-training tokens/s (full block_size rows) of the same model in the same run
and thread count; then every other shipped task, a short run each from the same checkpoint, its dev
figures beside the majority-label baseline.

Without --pretrained it first pre-trains one with the long-cpu preset: a byte-level BPE (8,192 ids)
and the `train` command on the WebText documents of ../shared/realdata/text/webtext, for
--pretrain-steps steps or --pretrain-minutes, whichever ends first (cached in --work with its
figures in pretrain.json; reused on the next run). Everything runs on --threads torch threads; the
documented run used one core:

    OMP_NUM_THREADS=1 taskset -c 1 nice -n 5 .venv/bin/python bench/finetune.py --work runs/ft-bench
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.tokens import bpe  # noqa: E402
from training import checkpoint as ckpt  # noqa: E402
from training.cli import main as train_main  # noqa: E402
from training.finetune import metrics as glue  # noqa: E402
from training.finetune.config import load_finetune_config  # noqa: E402
from training.finetune.loop import finetune_optimizer, run_finetune, train_step  # noqa: E402
from training.finetune.setup import prepare  # noqa: E402
from training.finetune.tasks import load_task_data  # noqa: E402
from training.finetune.transform import encode_items, epoch_batches, make_batch  # noqa: E402

REALDATA = Path(os.environ.get("WEBMIX_REALDATA", REPO.parent / "shared" / "realdata"))
WEBTEXT = REALDATA / "text" / "webtext"


# run name -> (row of the table, from scratch, λ)
RUNS = {"pre-lm0.5": ("pre-trained", False, 0.5), "pre-lm0": ("pre-trained", False, 0.0),
        "scratch-lm0.5": ("random init", True, 0.5), "scratch-lm0": ("random init", True, 0.0)}
# fine-tuning steps (batch 32) of the other shipped tasks: about 90 s of training each on one core (a
# step holds 420 real tokens on CoLA, 1,000-1,500 on SNLI / MNLI, 2,200-4,000 on the pair and
# multiple-choice tasks)
TASK_STEPS = {"cola": 150, "rte": 25, "mrpc": 20, "stsb": 30, "snli": 60, "mnli": 40, "storycloze": 20,
              "openbookqa": 25}


def webtext_corpus(folder: Path) -> list[str]:
    """Every WebText document here (train ids 0-1407 and the test splits) as one Parquet text source."""
    texts = []
    for path in sorted(WEBTEXT.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [f"webtext-{i}" for i in range(len(texts))], "text": texts}),
                   folder / "part-0.parquet", row_group_size=256)
    return texts


def pretrain(work: Path, steps: int, minutes: float) -> Path:
    """The `train` command on WebText (long-cpu, 8 rows x 512 tokens a step) for `steps` steps or
    `minutes` of wall time, whichever ends first: at the deadline a timer sends this process SIGTERM,
    which the trainer answers with a checkpoint after the current step (its own stop path)."""
    run = work / "pretrain"
    if ckpt.complete_checkpoints(run):
        print(f"pre-trained model: reusing {run}")
        return run
    tok_path = work / "tokenizer" / "tokenizer.json"
    if not tok_path.exists() or not (work / "webtext" / "part-0.parquet").exists():
        texts = webtext_corpus(work / "webtext")
        tok_path = Path(bpe.save(bpe.train_bpe(texts, vocab_size=8192), str(work / "tokenizer")))
    mix = work / "webtext_mix.yaml"
    mix.write_text(f"seed: 1\ntoken_budget: 1B\ntokenizer: {tok_path}\nvalidation_fraction: 0.02\n"
                   f"root: {work}\nsources:\n  - {{name: webtext, path: webtext, weight: 1.0}}\n")
    deadline = threading.Timer(minutes * 60, os.kill, (os.getpid(), signal.SIGTERM)) if minutes else None
    t0 = time.perf_counter()
    if deadline:
        deadline.start()
    try:
        rc = train_main(["--mixture", str(mix), "--model", "long-cpu", "--out", str(run), f"max_steps={steps}",
                         "batch_size=8", "lr=1e-3", "warmup_steps=40", "eval_every=100", "ckpt_every=100",
                         "keep_last=2", "log_every=20", "progress=log"])
    finally:
        if deadline:
            deadline.cancel()
    if rc:
        raise SystemExit(f"pre-training failed ({rc})")
    (work / "pretrain.json").write_text(json.dumps(
        {**pretrain_figures(run), "wall_s": time.perf_counter() - t0, "limit_steps": steps, "limit_minutes": minutes}))
    return run


def pretrain_figures(run: Path) -> dict:
    """Steps, tokens and the last train / validation losses of a `train` run, from its metrics.jsonl."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    train = [r for r in rows if r.get("kind") == "train"]
    val = [r for r in rows if r.get("kind") == "val"]
    config = json.loads((run / "config.json").read_text())
    step = max(r["step"] for r in rows)
    return {"steps": step, "tokens": step * config["train"]["batch_size"] * config["model"]["block_size"],
            "train_loss": train[-1]["loss"] if train else None,
            "val_loss": {k: v for k, v in val[-1].items() if k.startswith("loss")} if val else None}


def throughput(checkpoint: Path, lm_coef: float, rounds: int = 5, ft_steps: int = 6,
               pre_rows: int = 8) -> tuple[float, float]:
    """(fine-tuning real tokens/s, pre-training tokens/s) of one model in this process, at this
    process's thread count: `rounds` of ft_steps SST-2 fine-tuning steps (batch 32, length-sorted,
    building each batch included, as the loop does) then one pre-training step of pre_rows full
    block_size rows (the bench's pre-training batch), both with clipping and AdamW. Interleaved so a
    busy machine slows both alike; each side is the median over rounds. A warm-up round is not timed."""
    task, settings = load_finetune_config(str(REPO / "conf/finetune/sst2.yaml"), [f"lm_coef={lm_coef}"])
    p = prepare(checkpoint, task, settings, torch.device("cpu"))
    items = load_task_data(task, settings).train
    enc = encode_items(task, items[: 32 * (rounds + 1) * ft_steps], p.tokenizer, p.specials, p.max_len)
    batches = epoch_batches(enc, 32, seed=0, epoch=0)
    optimizer = finetune_optimizer(p.model, settings)
    constant = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    gpt, T = p.model.gpt, p.model.gpt.config.block_size
    g = torch.Generator().manual_seed(0)
    x, y = (torch.randint(0, gpt.config.vocab_size, (pre_rows, T), generator=g) for _ in range(2))
    p.model.train()

    def pretrain_step():
        _, loss = gpt(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(p.model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    ft_speed, pre_speed = [], []
    for r in range(rounds + 1):
        tokens, t = 0, time.perf_counter()
        for i in range(ft_steps):
            batch = make_batch(enc, batches[(r * ft_steps + i) % len(batches)], p.pad_id, regression=False)
            train_step(p.model, batch, lm_coef, optimizer, constant, 1.0, contextlib.nullcontext())
            tokens += batch.real_tokens
        ft_s, t = time.perf_counter() - t, time.perf_counter()
        pretrain_step()
        if r:
            ft_speed.append(tokens / ft_s)
            pre_speed.append(pre_rows * T / (time.perf_counter() - t))
    return statistics.median(ft_speed), statistics.median(pre_speed)


def finetune(checkpoint: Path, task_file: Path, out: Path, from_scratch: bool, lm_coef: float, steps: int,
             args) -> dict:
    if (out / "results.json").exists():
        return json.loads((out / "results.json").read_text())
    task, settings = load_finetune_config(str(task_file), [
        f"lm_coef={lm_coef}", f"max_steps={steps}", f"max_train={args.max_train}",
        f"max_select={args.max_select}", f"eval_every={args.eval_every}", "progress=log", "log_every=10",
        f"lr={args.lr}", f"seed={args.seed}"])
    return run_finetune(checkpoint, task, settings, out, from_scratch=from_scratch)


def majority_baseline(task_file: Path, args) -> dict[str, float]:
    """The task's metrics on dev for a constant guess: train's most frequent label (multiple choice:
    its most frequent answer position; regression: the train mean, correlation 0 by definition)."""
    task, settings = load_finetune_config(str(task_file), [f"max_train={args.max_train}"])
    data = load_task_data(task, settings)
    if task.target == "regression":
        guess = statistics.fmean(item.label for item in data.train)
    else:
        guess = Counter(item.label for item in data.train).most_common(1)[0][0]
    gold = [item.label for item in data.dev]
    return glue.compute(task.metrics, [guess] * len(gold), gold)


def other_tasks(pre: Path, work: Path, args) -> dict[str, dict]:
    """Every shipped task but SST-2, fine-tuned from the pre-trained checkpoint (λ = 0.5) for its
    TASK_STEPS (or --task-steps), dev figures beside the majority baseline."""
    out = {}
    for name in args.tasks.split(","):
        task_file = REPO / "conf" / "finetune" / f"{name}.yaml"
        steps = args.task_steps or TASK_STEPS[name]
        result = finetune(pre, task_file, work / f"task-{name}", False, 0.5, steps, args)
        task, _ = load_finetune_config(str(task_file), [])
        out[name] = {"steps": steps, "dev": result["dev"], "majority": majority_baseline(task_file, args),
                     "chance_accuracy": 1 / len(task.labels) if task.labels else None,
                     "items": result["items"], "tokens_per_s": result["train_tokens_per_s"],
                     "wall_s": result["wall_s"]}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--pretrained", help="a pre-trained checkpoint (default: pre-train one in --work)")
    p.add_argument("--work", default=str(REPO / "runs" / "bench-finetune"))
    p.add_argument("--pretrain-steps", type=int, default=800,
                   help="pre-training steps of 8 rows x 512 tokens (the cosine schedule's horizon)")
    p.add_argument("--pretrain-minutes", type=float, default=40,
                   help="stop pre-training (with a checkpoint) after this many minutes (0: no limit)")
    p.add_argument("--threads", type=int, default=1, help="torch threads of every run and measurement")
    p.add_argument("--steps", type=int, default=200, help="fine-tuning steps of every run (batch 32)")
    p.add_argument("--max-train", type=int, default=6400, help="training items used of every task")
    p.add_argument("--max-select", type=int, default=500, help="selection-split sentences evaluated")
    p.add_argument("--eval-every", type=int, default=0, help="selection evaluations every N steps (0: at the end)")
    p.add_argument("--only", choices=("all", "pretrain", *RUNS, "throughput"), default="all",
                   help="one fine-tuning run (cached in --work, so several can run side by side and `all` "
                        "then reuses them; a from-scratch run needs only the checkpoint's shape and "
                        "tokenizer), or only the throughput comparison")
    p.add_argument("--lr", type=float, default=4e-4,
                   help="fine-tuning lr of every run (GPT-1's 6.25e-5 is for 117M parameters and 3 epochs; "
                        "on SST-2, 80 steps from a 100-step checkpoint: 1e-4 0.509, 4e-4 0.537, 1e-3 0.509)")
    p.add_argument("--tasks", default=",".join(TASK_STEPS),
                   help="the other tasks fine-tuned from the pre-trained checkpoint (empty: none)")
    p.add_argument("--task-steps", type=int, default=0, help="steps of each other task (0: TASK_STEPS)")
    p.add_argument("--seed", type=int, default=1337,
                   help="fine-tuning seed (training subset, head, batch order, a from-scratch model's weights)")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput comparison")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    pre = Path(args.pretrained) if args.pretrained else pretrain(work, args.pretrain_steps, args.pretrain_minutes)
    if args.only == "pretrain":
        return 0
    summary: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": args.threads,
                     "seed": args.seed,
                     "pretrained": str(pre)}
    if (work / "pretrain.json").exists():
        summary["pretraining"] = json.loads((work / "pretrain.json").read_text())
    sst2 = REPO / "conf" / "finetune" / "sst2.yaml"
    results = {}
    for name, (init, scratch, lam) in RUNS.items():
        if args.only in ("all", name):
            results[(init, lam)] = finetune(pre, sst2, work / f"sst2-{name}", scratch, lam, args.steps, args)
    measure = args.only in ("all", "throughput") and not args.no_throughput
    speeds = {lam: throughput(pre, lam) for lam in (0.5, 0.0)} if measure else {}
    for lam, (ft, pt) in speeds.items():
        print(f"throughput λ={lam}: fine-tuning {ft:.0f} real tokens/s, pre-training {pt:.0f} tokens/s, "
              f"ratio {ft / pt:.2f}x ({args.threads} thread(s), interleaved in one process, medians)")
    if args.only != "all":
        return 0
    majority = majority_baseline(sst2, args)["accuracy"]
    print(f"\nSST-2 dev accuracy ({args.steps} steps x 32 sentences from {args.max_train} training sentences, "
          f"lr {args.lr}; pre-trained model {pre}); majority class {majority:.4f}, chance 0.5")
    print(f"{'init':<12} {'λ=0.5':>8} {'λ=0':>8}")
    for init in ("pre-trained", "random init"):
        print(f"{init:<12} " + " ".join(f"{results[(init, lam)]['dev']['accuracy']:>8.4f}" for lam in (0.5, 0.0)))
    gain = {lam: results[("pre-trained", lam)]["dev"]["accuracy"] / results[("random init", lam)]["dev"]["accuracy"]
            for lam in (0.5, 0.0)}
    print("pre-trained / random init: " + ", ".join(f"λ={lam} {r:.3f}x" for lam, r in gain.items()))
    tasks = other_tasks(pre, work, args) if args.tasks else {}
    if tasks:
        print("\nother tasks, from the pre-trained checkpoint, λ=0.5 (dev; majority = train's most frequent label)")
        for name, t in tasks.items():
            figures = ", ".join(f"{k} {v:.4f} (majority {t['majority'][k]:.4f})" for k, v in t["dev"].items())
            chance = f"; chance accuracy {t['chance_accuracy']:.3f}" if t["chance_accuracy"] else ""
            print(f"{name:<11} {t['steps']:>4} steps: {figures}{chance}")
    summary |= {"sst2": {f"{init} λ={lam}": r["dev"] for (init, lam), r in results.items()},
                "sst2_majority": majority, "tasks": tasks,
                "tokens_per_s": {f"λ={lam}": {"finetune": ft, "pretrain": pt, "ratio": ft / pt}
                                 for lam, (ft, pt) in speeds.items()}}
    (work / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
