"""Tiny checkpoints and planted tasks for the fine-tuning tests, in a module of its own: test files
cannot import `conftest` by name when several test folders have one."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from pipeline.tokens import bpe
from training import checkpoint as ckpt
from training.config import load_run_config
from training.model import GPT

WORDS = ("the a cat dog bird sat ran flew on over under mat tree roof and then good bad happy sad "
         "very quite not it was is this that movie film story plot").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_checkpoint(root: Path, preset: str = "tiny-dense", seed: int = 0) -> Path:
    """A complete checkpoint folder as `train` writes it, with random weights."""
    rng = random.Random(seed)
    texts = [sentence(rng, 30) for _ in range(400)]
    tok_path = bpe.save(bpe.train_bpe(texts, vocab_size=400), str(root / "tok"))
    tok = bpe.load(tok_path)
    cfg = load_run_config(preset, [], vocab_size=tok.get_vocab_size())
    torch.manual_seed(seed)
    model = GPT(cfg.model)
    meta = {"run": cfg.to_dict(), "step": 0, "tokenizer_hash": bpe.tokenizer_hash(tok_path),
            "eot_id": bpe.eot_id(tok)}
    return ckpt.save_checkpoint(root / "pre", 0, model.state_dict(), {}, meta, tok_path, keep_last=1)


def write_planted_task(root: Path, n_train: int = 600, n_dev: int = 200, seed: int = 1) -> Path:
    """Label 1 iff the sentence holds 'good' (else it holds 'bad'): separable by one token."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("dev", n_dev)):
        lines = ["sentence\tlabel"]
        for i in range(n):
            label = rng.randint(0, 1)
            words = sentence(rng, rng.randint(4, 12)).replace("good", "the").replace("bad", "the").split()
            words.insert(rng.randint(1, len(words)), "good" if label else "bad")  # never first: " good" is one token, "good" another
            lines.append(f"{' '.join(words)}\t{label}")
        (root / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    task = root / "planted.yaml"
    task.write_text(f"name: planted\nkind: classification\n"
                    f"data: {{format: tsv, root: {root}, train: train.tsv, dev: dev.tsv}}\n"
                    "fields: {text: sentence, label: label}\nlabels: ['0', '1']\nmetrics: [accuracy]\n")
    return task
