"""`train`: train a GPT on a mixture, sample from a checkpoint, export one to Hugging Face.

  train --mixture conf/gpt3_mix.yaml [--model tiny|gpt2-124m|gpt3-125m|gpt3-350m|PATH]
        [--out DIR] [--resume auto|CKPT] [--config FILE] [key=value ...]
  train sample --checkpoint RUN_OR_CKPT --prompt "..." [--temperature T --top-k K --max-tokens N]
  train export --checkpoint RUN_OR_CKPT --hf DIR

A configuration or checkpoint mistake prints one line and exits 2, never a traceback. `train sample`
and `train export` take no --config: the checkpoint carries the run's configuration.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from pipeline.core.config import ConfigError, InputError, parse_override, read_yaml
from pipeline.tokens.mixture import MixtureError
from training.checkpoint import CheckpointError
from training.config import SECTIONS, RunConfig

EXIT_USAGE = 2


def _keys_help() -> str:
    defaults = RunConfig()
    lines = []
    for section in ("model", "train"):
        obj = getattr(defaults, section)
        names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else list(type(obj).model_fields)
        keys = ", ".join(f"{name}={getattr(obj, name)}" for name in names)
        note = " (the --model preset sets the shape)" if section == "model" else ""
        lines.append(f"  {section}{note}: {keys}")
    return "\n".join(lines)


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a GPT on a streaming weighted mixture of token sources.",
        epilog="subcommands:\n  train sample --help   generate text from a checkpoint\n"
               "  train export --help   write a Hugging Face GPT-2 / GPT-Neo folder\n"
               "  train eval --help     zero-/few-shot tasks and bits per byte (conf/eval/)\n"
               "  train finetune --help  GPT-1 fine-tuning on a labelled task (conf/finetune/)\n"
               "  train sft|rm|ppo --help  InstructGPT: SFT, reward model, PPO-ptx (docs/instruct.md)\n\n"
               "overrides (key=value; model.KEY, train.KEY, mixture.KEY, or a bare KEY that is "
               "unambiguous), defaults:\n" + _keys_help() +
               "\n\n--config FILE: a YAML file with sections model, train and mixture (mixture keys override "
               "the --mixture file's), applied after the preset and before key=value overrides"
               "\n\nexamples:\n  train --mixture conf/gpt3_mix.yaml --model tiny max_steps=100\n"
               "  train --mixture conf/gpt3_mix.yaml --out runs/a --resume auto\n"
               "  torchrun --nproc_per_node 8 -m training.cli --mixture conf/gpt3_mix.yaml "
               "--model gpt3-125m tokens_per_step=524288")
    p.add_argument("--mixture", required=True, help="mixture YAML (sources, weights, token budget, seed)")
    p.add_argument("--model", default="tiny", help="preset name under conf/model/ or a YAML path (default: tiny)")
    p.add_argument("--out", default="runs/train", help="run folder: checkpoints, metrics, plots (default: runs/train)")
    p.add_argument("--resume", default=None,
                   help="'auto' for the newest complete checkpoint in --out, or a checkpoint folder")
    p.add_argument("--config", help="a YAML file with sections model, train, mixture")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    return p


def sample_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train sample", description="Generate text from a checkpoint.")
    p.add_argument("--checkpoint", required=True, help="a checkpoint folder, or a run folder (its newest)")
    p.add_argument("--prompt", default="", help="text to continue (empty: start a new document)")
    p.add_argument("--max-tokens", type=int, default=100)
    p.add_argument("--temperature", type=float, default=0.8, help="0 for greedy decoding")
    p.add_argument("--top-k", type=int, default=200, help="sample among the k likeliest tokens (0: all)")
    p.add_argument("--num-samples", type=int, default=1)
    p.add_argument("--chat", action="store_true",
                   help="the prompt is a user turn of the chat format (SFT/PPO checkpoints); print the reply")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default="cpu")
    return p


def export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train export",
                                description="Write a Hugging Face folder from a checkpoint: GPT2LMHeadModel "
                                            "(dense) or GPTNeoForCausalLM (banded layers).")
    p.add_argument("--checkpoint", required=True, help="a checkpoint folder, or a run folder (its newest)")
    p.add_argument("--hf", required=True, help="output folder (model.safetensors, config.json, tokenizer.json)")
    return p


def read_run_file(path: str | None) -> tuple[dict, dict]:
    """A --config file: its `model`/`train` sections, and its `mixture` section as overrides."""
    data = read_yaml(path) if path else {}
    unknown = sorted(set(data) - {*SECTIONS, "mixture"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section in {path} (use model, train, mixture)")
    mixture = data.pop("mixture", None) or {}
    if not isinstance(mixture, dict):
        raise ConfigError(f"mixture: must be a mapping of mixture keys in {path}")
    return data, mixture


def run_train(args) -> int:
    import os

    from pipeline.tokens.mixture import format_table, load_mixture, resolve_table
    from training.config import load_run_config
    from training.train import train

    run_file, mixture_overrides = read_run_file(args.config)
    for text in (o for o in args.overrides if o.startswith("mixture.")):
        path, value = parse_override(text)
        mixture_overrides[".".join(path[1:])] = value
    trainer_overrides = [o for o in args.overrides if not o.startswith("mixture.")]
    load_run_config(args.model, trainer_overrides, config_file=run_file)  # mistakes fail before data is read
    mixture = load_mixture(args.mixture, mixture_overrides)
    config = load_run_config(args.model, trainer_overrides, vocab_size=mixture.vocab_size, config_file=run_file)
    if int(os.environ.get("RANK", "0")) == 0:
        print(format_table(resolve_table(mixture), mixture.token_budget))
    result = train(config, mixture, args.out, resume=args.resume)
    import torch.distributed as dist
    if dist.is_initialized():
        dist.destroy_process_group()
    if result["loss_curve"]:
        print(f"loss curve: {result['loss_curve']}")
    return 0


def run_sample(args) -> int:
    from training.sample import sample

    texts = sample(args.checkpoint, args.prompt, max_tokens=args.max_tokens,
                   temperature=args.temperature, top_k=args.top_k or None, seed=args.seed,
                   num_samples=args.num_samples, device=args.device, chat=args.chat)
    for i, text in enumerate(texts):
        if i:
            print("-" * 40)
        print(text)
    return 0


def run_export(args) -> int:
    from training.export import export_hf

    print(f"exported: {export_hf(args.checkpoint, args.hf)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"sample": (sample_parser, run_sample), "export": (export_parser, run_export)}
    from training.eval.cli import eval_parser, run_eval
    commands["eval"] = (eval_parser, run_eval)
    from training.finetune.cli import finetune_parser, run_finetune_command
    commands["finetune"] = (finetune_parser, run_finetune_command)
    from training.instruct.cli import instruct_commands
    commands.update(instruct_commands())
    if argv and argv[0] in commands:
        make_parser, run = commands[argv[0]]
        argv = argv[1:]
    else:
        make_parser, run = train_parser, run_train
    parser = make_parser()
    args = parser.parse_intermixed_args(argv)  # overrides may sit before or after the options
    try:
        return run(args)
    except (ConfigError, InputError, CheckpointError, MixtureError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
