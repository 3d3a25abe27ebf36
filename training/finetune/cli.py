"""`train finetune`: GPT-1 fine-tuning of a pre-trained checkpoint on a task defined in YAML.

  train finetune --checkpoint RUN_OR_CKPT --task conf/finetune/sst2.yaml --out runs/ft-sst2 [key=value ...]
"""
from __future__ import annotations

import argparse
import json

from training.finetune.config import FinetuneSettings


def finetune_parser() -> argparse.ArgumentParser:
    keys = ", ".join(f"{name}={field.default}" for name, field in FinetuneSettings.model_fields.items())
    p = argparse.ArgumentParser(
        prog="train finetune", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fine-tune a pre-trained GPT on a labelled task with GPT-1's input transformations "
                    "(<s> text <e>, <s> a <$> b <e>, both orders for similarity, one row per option).",
        epilog=f"overrides (key=value), defaults:\n  {keys}\n  task.<key>=... sets a key of the task "
               "file (e.g. task.data.root=/data)\n\nexamples:\n"
               "  train finetune --checkpoint runs/pretrain --task conf/finetune/sst2.yaml --out runs/ft-sst2\n"
               "  train finetune --checkpoint runs/pretrain --task conf/finetune/rte.yaml --out runs/ft-rte "
               "lm_coef=0 epochs=2\n"
               "  train finetune --checkpoint runs/pretrain --task conf/finetune/sst2.yaml --out runs/scratch "
               "--from-scratch\n\nwrites <out>/results.json (dev metrics of the chosen checkpoint), "
               "<out>/best (the checkpoint chosen on the selection split), <out>/checkpoints (resumable)")
    p.add_argument("--checkpoint", required=True, help="pre-trained checkpoint folder, or a run folder (its newest)")
    p.add_argument("--task", required=True, help="task YAML (conf/finetune/<task>.yaml)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--from-scratch", action="store_true",
                   help="the checkpoint's shape and tokenizer, randomly initialised (GPT-1's comparison)")
    p.add_argument("--resume", default=None, help="'auto' for the newest complete checkpoint in --out, or a folder")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="setting overrides")
    return p


def run_finetune_command(args) -> int:
    from training.finetune.config import load_finetune_config
    from training.finetune.loop import run_finetune

    task, settings = load_finetune_config(args.task, args.overrides)
    result = run_finetune(args.checkpoint, task, settings, args.out, from_scratch=args.from_scratch,
                          resume=args.resume)
    print(json.dumps({k: result.get(k) for k in ("task", "dev", "select_best", "best_step", "skipped",
                                                  "truncated", "stopped_by")}))
    return 0
