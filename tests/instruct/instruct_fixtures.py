"""Tiny checkpoints and data files for the instruction-tuning tests, in a module of its own: test
files cannot import `conftest` by name when several test folders have one."""

from __future__ import annotations

import json

import torch

from pipeline.tokens import bpe
from training import checkpoint as ckpt
from training.config import load_run_config
from training.model import GPT

WORDS = ("the cat sat on a mat and the dog ran to the park while birds sang yes no good bad "
         "answer question please tell me about water fire earth air blue red green").split()


def corpus(n: int = 200) -> list[str]:
    g = torch.Generator().manual_seed(0)
    return [" ".join(WORDS[i] for i in torch.randint(0, len(WORDS), (12,), generator=g).tolist()) for _ in range(n)]


def make_base_checkpoint(folder, preset: str = "tiny-dense", seed: int = 0, **model) -> str:
    """A randomly initialised GPT saved like a pre-training checkpoint (step 0)."""
    tok = bpe.train_bpe(corpus(), vocab_size=300)
    tok_path = bpe.save(tok, str(folder / "tok"))
    cfg = load_run_config(preset, [f"model.{k}={v}" for k, v in model.items()], vocab_size=tok.get_vocab_size())
    torch.manual_seed(seed)
    gpt = GPT(cfg.model)
    meta = {"run": cfg.to_dict(), "step": 0, "tokenizer_hash": bpe.tokenizer_hash(tok_path),
            "eot_id": bpe.eot_id(tok)}
    ckpt.save_checkpoint(folder / "base", 0, gpt.state_dict(), {"step": 0}, meta, tok_path, keep_last=1)
    return str(folder / "base")


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)
