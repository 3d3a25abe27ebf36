"""Real text end to end without Spark: a BPE trained on Tiny Shakespeare and a Gutenberg book,
token shards of their paragraphs, and the stream decoding back to the original text."""
from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.tokens import bpe
from pipeline.tokens.tokenize_job import tokenize_local

pytestmark = pytest.mark.realdata


def _paragraphs(path, name):
    text = path.read_text(encoding="utf-8-sig")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 200]
    return pa.table({"id": [f"{name}#{i}" for i in range(len(paragraphs))], "text": paragraphs})


def test_real_text_through_tokenizer_shards_and_stream(realdata, tmp_path):
    import yaml

    from training.data import MixtureLoader
    from pipeline.tokens.mixture import load_mixture

    shakespeare = _paragraphs(realdata / "text/books/tinyshakespeare.txt", "shakespeare")
    alice = _paragraphs(realdata / "text/books/gutenberg_11-0.txt", "alice")
    tok = bpe.train_bpe(shakespeare.column("text").to_pylist()[:400], vocab_size=1000)
    tokenizer = bpe.save(tok, str(tmp_path / "tok"))
    sample = " ".join(alice.column("text").to_pylist()[:50])
    ids = tok.encode(sample).ids
    assert tok.decode(ids) == sample  # byte level: exact on unseen text
    assert len(sample.encode()) / len(ids) > 2  # it compresses English (bytes are 1 per token)
    for name, table in (("shakespeare", shakespeare), ("alice", alice)):
        tokenize_local(table, str(tmp_path / name), tokenizer, source=name, shards=2, row_group_tokens=20000,
                       validation_fraction=0.05)
    (tmp_path / "mix.yaml").write_text(yaml.safe_dump({"seed": 1, "token_budget": "1M", "sources": [
        {"name": "shakespeare", "path": str(tmp_path / "shakespeare"), "weight": 0.7},
        {"name": "alice", "path": str(tmp_path / "alice"), "weight": 0.3}]}))
    mixture = load_mixture(str(tmp_path / "mix.yaml"))
    texts = set(shakespeare.column("text").to_pylist()) | set(alice.column("text").to_pylist())
    x, _ = next(iter(MixtureLoader(mixture, block_size=512, batch_size=4)))
    whole = [inner for row in x.tolist()
             for inner in tok.decode(row, skip_special_tokens=False).split(bpe.EOT)[1:-1]]
    assert whole and all(inner in texts for inner in whole)  # paragraphs between two separators
