"""Tiny corpora for the stream's tests: a BPE trained on a few KB, three token folders written as
tokenize_corpus writes them, and a mixture over them (all made once per session, in tmp)."""
from __future__ import annotations

import random

import pyarrow as pa
import pytest
import yaml

from pipeline.tokens import bpe
from pipeline.tokens.tokenize_job import tokenize_local
from pipeline.tokens.mixture import load_mixture

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which "
         "river stone light garden window market letter summer winter north").split()
WEIGHTS = {"a": 0.5, "b": 0.3, "c": 0.2}


def make_docs(prefix: str, n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) + rng.choice(["", "s", "ed", "."]) for _ in range(rng.randint(3, 150)))
             for _ in range(n)]
    return pa.table({"id": [f"{prefix}-{i:05d}" for i in range(n)], "text": texts})


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    tok = bpe.train_bpe(make_docs("tok", 200, 0).column("text").to_pylist(), vocab_size=300)
    tokenizer = bpe.save(tok, str(root / "tokenizer"))
    docs = {}
    for i, (name, n) in enumerate((("a", 300), ("b", 200), ("c", 150))):
        docs[name] = make_docs(name, n, i + 1)
        tokenize_local(docs[name], str(root / "tokens" / name), tokenizer, source=name, shards=2,
                       row_group_tokens=1500, validation_fraction=0.1)
    mix = {"seed": 7, "token_budget": "1M", "sources": [
        {"name": n, "path": f"tokens/{n}", "weight": w} for n, w in WEIGHTS.items()]}
    (root / "mix.yaml").write_text(yaml.safe_dump(mix))
    return {"root": root, "tokenizer": tokenizer, "docs": docs, "mix": str(root / "mix.yaml"), "weights": WEIGHTS}


@pytest.fixture(scope="session")
def mixture(corpus):
    return load_mixture(corpus["mix"], {"root": str(corpus["root"])})
