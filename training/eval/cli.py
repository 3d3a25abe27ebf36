"""`train eval`: the command line of the evaluation harness (training.eval.runner)."""
from __future__ import annotations

import argparse

from pipeline.core.config import ConfigError


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative integers, got {text!r}")
    return values


def eval_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train eval", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Zero-, one- and few-shot evaluation (GPT-2 / GPT-3) and held-out bits per byte of a "
                    "checkpoint or a Hugging Face GPT-2 / GPT-Neo folder.",
        epilog="tasks: names under conf/eval/ (lambada, hellaswag, piqa, storycloze, openbookqa, boolq, cb, "
               "wic, wsc, wikitext2) or YAML paths; a new task of a known kind is one YAML file.\n"
               "outputs: OUT/results.json, OUT/items/<task>.<k>shot.jsonl, OUT/report/ (section.html, "
               "table.md, accuracy_vs_k.png for the run report)\n\nexamples:\n"
               "  train eval --checkpoint runs/demo/train --tasks lambada,piqa --shots 0,1,8 --out runs/eval\n"
               "  train eval --checkpoint hf_folder --tasks wikitext2 --out runs/eval_hf\n"
               "  train eval --checkpoint runs/demo/train --tasks lambada --out runs/eval_clean "
               "--clean-only runs/demo/decontaminated")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder, run folder (its newest), or HF folder")
    p.add_argument("--tasks", required=True, help="comma-separated task names or YAML paths")
    p.add_argument("--shots", type=_ints, default=[0], help="comma-separated k values (default 0)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N items of each task")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--clean-only", default=None, metavar="REPORT",
                   help="score only items that `decontaminate --eval TASK.yaml` found clean (its output "
                        "folder, or a _eval_flags/<task>.jsonl file)")
    p.add_argument("--seed", type=int, default=1234, help="few-shot draws and bootstrap (default 1234)")
    p.add_argument("--data-root", default=None,
                   help="root of the task data files (default $WEBMIX_EVAL_DATA or ../shared/realdata)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-tokens", type=int, default=16384, help="padded tokens per forward pass")
    return p


def run_eval(args) -> int:
    from training.eval.report import format_table
    from training.eval.runner import evaluate

    if args.limit is not None and args.limit <= 0:
        raise ConfigError(f"--limit must be positive, got {args.limit}")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    document = evaluate(args.checkpoint, tasks, args.shots, args.limit, args.out, seed=args.seed,
                        clean_only=args.clean_only, data_root=args.data_root, device=args.device,
                        max_batch_tokens=args.batch_tokens)
    print(format_table(document))
    print(f"results: {args.out}/results.json")
    return 0
