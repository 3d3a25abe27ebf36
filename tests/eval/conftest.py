"""A tiny dense GPT trained in seconds on planted sentences (the way tests/trainer trains its models),
shared by the evaluation tests (one intra-op thread: tests/conftest.py)."""
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from pipeline.tokens import bpe
from training.cli import main

WORDS = ("apple river stone cloud tiger violin harbor candle meadow rocket pillow garden lantern "
         "mirror forest castle bottle pencil window ladder marble spider velvet dragon").split()
N_SENTENCES = 10


def planted_sentences(seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    sentences, openings = [], set()
    while len(sentences) < N_SENTENCES:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 12))]
        if tuple(words[:3]) not in openings:
            openings.add(tuple(words[:3]))
            sentences.append(words)
    return sentences


@pytest.fixture(scope="session")
def planted_run(tmp_path_factory):
    """{run, sentences}: tiny-dense trained on documents of the planted sentences in random order."""
    root = tmp_path_factory.mktemp("eval_model")
    sentences = planted_sentences()
    rng = random.Random(3)
    docs = [". ".join(" ".join(s) for s in rng.sample(sentences, len(sentences))) + "." for _ in range(300)]
    (root / "docs").mkdir()
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(docs))], "text": docs}),
                   root / "docs" / "part-0.parquet")
    tok = bpe.save(bpe.train_bpe(docs, vocab_size=320), str(root / "tok"))
    mix = root / "mix.yaml"
    mix.write_text(f"seed: 1\ntoken_budget: 2M\ntokenizer: {tok}\nvalidation_fraction: 0.05\nroot: {root}\n"
                   "sources:\n  - {name: planted, path: docs, weight: 1.0}\n")
    torch.set_num_threads(1)
    args = ["--mixture", str(mix), "--model", "tiny-dense", "--out", str(root / "run"), "batch_size=8",
            "max_steps=150", "eval_every=1000", "ckpt_every=1000", "log_every=40", "lr=1e-2", "progress=log"]
    assert main(args) == 0
    return {"run": root / "run", "sentences": sentences, "root": root}
