"""A tiny mixture on disk (two token folders, no Spark) for the tests that run build_mixture
somewhere other than the shared session's local disk."""
from __future__ import annotations

import random

import pyarrow as pa
import pytest
import yaml

from pipeline.core.schema import DOC_ARROW_SCHEMA, docs_to_arrow, empty_doc
from pipeline.tokens import bpe
from pipeline.tokens.tokenize_job import tokenize_local

WORDS = "north south river hill stone bridge market tower garden lamp door window".split()


@pytest.fixture(scope="module")
def tiny_mixture(tmp_path_factory):
    """A folder with tokens/webtext, tokens/wikipedia (pyarrow path of tokenize_corpus) and mix.yaml."""
    root = tmp_path_factory.mktemp("mixture")
    tokenizer = bpe.save(bpe.train_bpe(WORDS * 50, vocab_size=290), str(root / "tok"))
    for seed, source in enumerate(("webtext", "wikipedia")):
        rng = random.Random(seed)
        docs = [empty_doc(id=f"{source}/{i:04d}", source=source, digest=str(i),
                          text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 90)))) for i in range(60)]
        tokenize_local(pa.Table.from_batches([docs_to_arrow(docs, DOC_ARROW_SCHEMA)]), str(root / "tokens" / source),
                       tokenizer, source=source, row_group_tokens=400)
    mix = {"seed": 3, "token_budget": 1500, "sources": [
        {"name": "webtext", "path": "tokens/webtext", "weight": 0.7},
        {"name": "wikipedia", "path": "tokens/wikipedia", "weight": 0.3}]}
    (root / "mix.yaml").write_text(yaml.safe_dump(mix))
    return root
