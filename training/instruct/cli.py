"""`train sft`, `train rm`, `train ppo`: the three InstructGPT steps (docs/instruct.md).

  train sft --checkpoint PRETRAINED --data FILE... --out DIR [--resume auto] [key=value ...]
  train rm  --checkpoint SFT --pairs FILE... --out DIR [--demos FILE...] [key=value ...]
  train ppo --policy SFT --reward RM --prompts FILE... --out DIR [--ptx MIXTURE] [--judge RM2] [key=value ...]
"""
from __future__ import annotations

import argparse

from training.instruct.config import PPOSettings, RMSettings, SFTSettings


def _keys(cls) -> str:
    return ", ".join(f"{name}={field.default}" for name, field in cls.model_fields.items())


def _parser(prog: str, description: str, settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description,
                                epilog=f"settings (key=value), defaults: {_keys(settings)}")
    p.add_argument("--out", required=True, help="run folder: checkpoints, metrics.jsonl, reports")
    p.add_argument("--resume", default=None, help="'auto' (newest complete checkpoint in --out) or a checkpoint")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="settings overrides")
    return p


def sft_parser() -> argparse.ArgumentParser:
    p = _parser("train sft", "Supervised fine-tuning on demonstrations (loss on response tokens).", SFTSettings)
    p.add_argument("--checkpoint", required=True, help="the pre-trained checkpoint (or run folder)")
    p.add_argument("--data", nargs="+", required=True, help="demonstration files (.json / .jsonl)")
    return p


def rm_parser() -> argparse.ArgumentParser:
    p = _parser("train rm", "Reward model on ranked responses, from an SFT checkpoint.", RMSettings)
    p.add_argument("--checkpoint", required=True, help="the SFT checkpoint (or run folder)")
    p.add_argument("--pairs", nargs="+", required=True, help="preference files (hh-rlhf .jsonl[.gz], OpenAssistant trees)")
    p.add_argument("--demos", nargs="*", default=None,
                   help="demonstrations that should score 0 on average (default: the best training responses)")
    return p


def ppo_parser() -> argparse.ArgumentParser:
    p = _parser("train ppo", "PPO-ptx of an SFT policy against a reward model.", PPOSettings)
    p.add_argument("--policy", required=True, help="the SFT checkpoint")
    p.add_argument("--reward", required=True, help="the reward model checkpoint (train rm)")
    p.add_argument("--prompts", nargs="+", required=True, help="prompt files (.jsonl)")
    p.add_argument("--ptx", default=None, help="pre-training mixture YAML for PPO-ptx (sets ptx_mixture)")
    p.add_argument("--judge", default=None, help="a second reward model (disjoint preferences) for the win rate")
    return p


def _take_overrides(args, *lists: str) -> None:
    """key=value words that argparse gave to a file list (nargs="+" swallows what follows it)."""
    for name in lists:
        files = getattr(args, name) or []
        moved = [w for w in files if "=" in w and w.split("=", 1)[0].replace(".", "_").isidentifier()]
        if moved:
            setattr(args, name, [w for w in files if w not in moved])
            args.overrides = list(args.overrides) + moved


def run_sft(args) -> int:
    from training.instruct.config import parse_settings
    from training.instruct.sft import train_sft

    _take_overrides(args, "data")
    settings = parse_settings(SFTSettings, args.overrides, "sft")
    result = train_sft(args.checkpoint, args.data, args.out, settings, resume=args.resume)
    print(f"sft: {result['step']} steps, held-out loss {result['heldout_loss']}")
    return 0


def run_rm(args) -> int:
    from training.instruct.config import parse_settings
    from training.instruct.rm import train_rm

    _take_overrides(args, "pairs", "demos")
    settings = parse_settings(RMSettings, args.overrides, "rm")
    result = train_rm(args.checkpoint, args.pairs, args.out, settings, resume=args.resume, demos=args.demos)
    acc = result["heldout"]
    if acc["accuracy"] is not None:
        print(f"rm: held-out pairwise accuracy {acc['accuracy']:.3f} [{acc['low']:.3f}, {acc['high']:.3f}] "
              f"on {acc['pairs']} pairs")
    return 0


def run_ppo(args) -> int:
    from training.instruct.config import parse_settings
    from training.instruct.ppo import train_ppo

    _take_overrides(args, "prompts")
    overrides = list(args.overrides) + ([f"ptx_mixture={args.ptx}"] if args.ptx else [])
    settings = parse_settings(PPOSettings, overrides, "ppo")
    result = train_ppo(args.policy, args.reward, args.prompts, args.out, settings, resume=args.resume,
                       judge_ckpt=args.judge)
    for name, value in (result.get("win_rate") or {}).items():
        if isinstance(value, dict):
            print(f"ppo: win rate vs SFT judged by {name}: {value['win_rate']:.3f} [{value['low']:.3f}, {value['high']:.3f}]")
    return 0


def instruct_commands() -> dict:
    return {"sft": (sft_parser, run_sft), "rm": (rm_parser, run_rm), "ppo": (ppo_parser, run_ppo)}
