"""The tokenizer: GPT-2-style byte-level BPE that transformers loads, <|endoftext|> special, and
GPT-2's own vocab.json + merges.txt usable instead."""
from __future__ import annotations

import pytest

from pipeline.core.config import InputError
from pipeline.tokens import bpe

TEXTS = ["The quick brown fox jumps over the lazy dog. " * 3, "Ünïcödé — and emoji 🙂 survive bytes.",
         "Pack my box with five dozen liquor jugs!\n\nNew paragraph,   spaces."] * 30


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tok")
    bpe.save(bpe.train_bpe(TEXTS, vocab_size=400), str(folder))
    return folder


def test_byte_level_bpe_round_trips_any_text(tokenizer_dir):
    tok = bpe.load(str(tokenizer_dir))
    assert 257 <= tok.get_vocab_size() <= 400
    for text in ["never seen: Ωmega ∮ 𝔘nicode\ttabs", TEXTS[1]]:
        assert tok.decode(tok.encode(text).ids) == text  # byte level: no unknown token
    eot = bpe.eot_id(tok)
    ids = tok.encode("a<|endoftext|>b").ids
    assert eot in ids and len(ids) == 3  # the special token is one token, never split


def test_transformers_loads_it(tokenizer_dir):
    transformers = pytest.importorskip("transformers")
    tok = bpe.load(str(tokenizer_dir))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_dir / "tokenizer.json"))
    auto = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    for text in TEXTS[:3]:
        assert fast.encode(text) == auto.encode(text) == tok.encode(text).ids
    assert auto.eos_token == bpe.EOT and auto.eos_token_id == bpe.eot_id(tok)


def test_gpt2_vocab_and_merges_files_are_used_as_is(tokenizer_dir, tmp_path):
    trained = bpe.load(str(tokenizer_dir))
    vocab, merges = trained.model.save(str(tmp_path), "gpt2")  # the same two files GPT-2 ships
    tok = bpe.from_gpt2_files(vocab, merges)
    for text in TEXTS[:3]:
        assert tok.encode(text).ids == trained.encode(text).ids
    assert bpe.eot_id(tok) == bpe.eot_id(trained)
    with pytest.raises(InputError, match="not found"):
        bpe.from_gpt2_files(str(tmp_path / "missing.json"), merges)


def test_token_dtype_fits_the_vocabulary():
    assert bpe.token_dtype(50257).name == "uint16"
    assert bpe.token_dtype(65536).name == "uint16"
    assert bpe.token_dtype(100277).name == "int32"
