"""GPT-1's two claims on this machine, on SST-2: pre-training helps (the same model fine-tuned from a
checkpoint pre-trained on real WebText vs from random initialisation, same steps), and the auxiliary
LM loss (λ = 0.5 vs 0), reported as SST-2 dev accuracy; then fine-tuning tokens/s (real tokens)
against pre-training tokens/s (full block_size rows) of the same model in the same run.

Without --pretrained it first pre-trains one with the long-cpu preset: a byte-level BPE (8,192 ids)
and the `train` command on the WebText documents of ../shared/realdata/text/webtext, for
--pretrain-steps steps (cached in --work; reused on the next run).

    nice -n 10 .venv/bin/python bench/finetune.py [--pretrained CKPT] [--steps 300] [--max-train 9600]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.tokens import bpe  # noqa: E402
from training import checkpoint as ckpt  # noqa: E402
from training.cli import main as train_main  # noqa: E402
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


def pretrain(work: Path, steps: int) -> Path:
    run = work / "pretrain"
    if ckpt.complete_checkpoints(run):
        print(f"pre-trained model: reusing {run}")
        return run
    texts = webtext_corpus(work / "webtext")
    tok_path = bpe.save(bpe.train_bpe(texts, vocab_size=8192), str(work / "tokenizer"))
    mix = work / "webtext_mix.yaml"
    mix.write_text(f"seed: 1\ntoken_budget: 1B\ntokenizer: {tok_path}\nvalidation_fraction: 0.02\n"
                   f"root: {work}\nsources:\n  - {{name: webtext, path: webtext, weight: 1.0}}\n")
    t0 = time.perf_counter()
    rc = train_main(["--mixture", str(mix), "--model", "long-cpu", "--out", str(run), f"max_steps={steps}",
                     "batch_size=8", "lr=1e-3", "warmup_steps=20", "eval_every=0", "ckpt_every=40",
                     "keep_last=3", "log_every=10", "progress=log"])
    if rc:
        raise SystemExit(f"pre-training failed ({rc})")
    print(f"pre-training: {steps} steps in {time.perf_counter() - t0:.0f} s")
    return run


def throughput(checkpoint: Path, lm_coef: float, rounds: int = 2, ft_steps: int = 4,
               pre_rows: int = 2) -> tuple[float, float]:
    """(fine-tuning real tokens/s, pre-training tokens/s) of one model, measured alternately in this
    process (rounds of ft_steps SST-2 fine-tuning steps, batch 32, then one pre-training step of
    pre_rows full block_size rows, both with clipping and AdamW), so a busy machine slows both alike.
    The first step of each kind is a warm-up and not timed."""
    task, settings = load_finetune_config(str(REPO / "conf/finetune/sst2.yaml"), [f"lm_coef={lm_coef}"])
    p = prepare(checkpoint, task, settings, torch.device("cpu"))
    items = load_task_data(task, settings).train
    enc = encode_items(task, items[: 32 * (rounds * ft_steps + 1)], p.tokenizer, p.specials, p.max_len)
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

    ft_tokens = ft_s = pre_s = 0.0
    for r in range(rounds + 1):
        for i in range(ft_steps if r else 1):
            batch = make_batch(enc, batches[(r * ft_steps + i) % len(batches)], p.pad_id, regression=False)
            t = time.perf_counter()
            train_step(p.model, batch, lm_coef, optimizer, constant, 1.0, contextlib.nullcontext())
            if r:
                ft_s += time.perf_counter() - t
                ft_tokens += batch.real_tokens
        t = time.perf_counter()
        pretrain_step()
        pre_s += (time.perf_counter() - t) if r else 0.0
    return ft_tokens / ft_s, rounds * pre_rows * T / pre_s


def finetune(checkpoint: Path, out: Path, from_scratch: bool, lm_coef: float, args) -> dict:
    if (out / "results.json").exists():
        return json.loads((out / "results.json").read_text())
    task, settings = load_finetune_config(str(REPO / "conf/finetune/sst2.yaml"), [
        f"lm_coef={lm_coef}", f"max_steps={args.steps}", f"max_train={args.max_train}",
        f"max_select={args.max_select}", f"eval_every={args.eval_every}", "progress=log", "log_every=10",
        f"lr={args.lr}"])
    return run_finetune(checkpoint, task, settings, out, from_scratch=from_scratch)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--pretrained", help="a pre-trained checkpoint (default: pre-train one in --work)")
    p.add_argument("--work", default=str(REPO / "runs" / "bench-finetune"))
    p.add_argument("--pretrain-steps", type=int, default=120, help="x 8 rows x 512 tokens")
    p.add_argument("--steps", type=int, default=150, help="fine-tuning steps of every run (batch 32)")
    p.add_argument("--max-train", type=int, default=4800, help="SST-2 training sentences used")
    p.add_argument("--max-select", type=int, default=500, help="selection-split sentences evaluated")
    p.add_argument("--eval-every", type=int, default=0, help="selection evaluations every N steps (0: at the end)")
    p.add_argument("--only", choices=("all", *RUNS, "throughput"), default="all",
                   help="one fine-tuning run (cached in --work, so several can run side by side and `all` "
                        "then reuses them; a from-scratch run needs only the checkpoint's shape and "
                        "tokenizer), or only the throughput comparison")
    p.add_argument("--lr", type=float, default=1e-4,
                   help="fine-tuning lr of every run (GPT-1's 6.25e-5 is for 117M parameters and 3 epochs)")
    args = p.parse_args(argv)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    pre = Path(args.pretrained) if args.pretrained else pretrain(work, args.pretrain_steps)
    results = {}
    for name, (init, scratch, lam) in RUNS.items():
        if args.only in ("all", name):
            results[(init, lam)] = finetune(pre, work / f"sst2-{name}", scratch, lam, args)
    speeds = {lam: throughput(pre, lam) for lam in (0.5, 0.0)} if args.only in ("all", "throughput") else {}
    for lam, (ft, pt) in speeds.items():
        print(f"throughput λ={lam}: fine-tuning {ft:.0f} real tokens/s, pre-training {pt:.0f} tokens/s, "
              f"ratio {ft / pt:.2f}x (measured alternately in one process)")
    if args.only != "all":
        return 0
    print(f"\nSST-2 dev accuracy ({args.steps} steps x 32 sentences from {args.max_train} training sentences, "
          f"lr {args.lr}; pre-trained model {pre})")
    print(f"{'init':<12} {'λ=0.5':>8} {'λ=0':>8}")
    for init in ("pre-trained", "random init"):
        print(f"{init:<12} " + " ".join(f"{results[(init, lam)]['dev']['accuracy']:>8.4f}" for lam in (0.5, 0.0)))
    summary = {f"{init} λ={lam}": r["dev"] for (init, lam), r in results.items()}
    summary["tokens_per_s"] = {f"λ={lam}": {"finetune": ft, "pretrain": pt, "ratio": ft / pt}
                               for lam, (ft, pt) in speeds.items()}
    (work / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
