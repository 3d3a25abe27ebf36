"""GPT-2-style byte-level BPE with Hugging Face `tokenizers`: train, load, identify.

A tokenizer is one `tokenizer.json` file (what `transformers.PreTrainedTokenizerFast` loads), with
`<|endoftext|>` as its only special token. Its identity everywhere (token manifests, mixtures,
checkpoints) is the SHA-256 of that file.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Iterable

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from pipeline.core.config import InputError
from pipeline.core.hashing import file_sha256
from pipeline.core.output import fs_path, join, read_bytes

EOT = "<|endoftext|>"
TOKENIZER_FILE = "tokenizer.json"
# Beside tokenizer.json so that `AutoTokenizer.from_pretrained(folder)` works too.
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


def _byte_level(model: models.BPE) -> Tokenizer:
    """GPT-2's pipeline around a BPE model: bytes as unicode, its regex split, no prefix space."""
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def train_bpe(texts: Iterable[str], vocab_size: int = 50257, min_frequency: int = 2) -> Tokenizer:
    """Train a byte-level BPE on `texts`; `<|endoftext|>` is a special token (never merged)."""
    tok = _byte_level(models.BPE())
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def from_gpt2_files(vocab_json: str, merges_txt: str) -> Tokenizer:
    """GPT-2's own `vocab.json` + `merges.txt` (the user's copy; nothing is downloaded)."""
    for path in (vocab_json, merges_txt):
        if not os.path.isfile(path):
            raise InputError(f"GPT-2 vocabulary file not found: {path}")
    tok = _byte_level(models.BPE.from_file(vocab_json, merges_txt))
    tok.add_special_tokens([EOT])
    return tok


def save(tok: Tokenizer, folder: str) -> str:
    """Write tokenizer.json (+ tokenizer_config.json) into `folder`; return the tokenizer.json path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, TOKENIZER_FILE)
    tok.save(path)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": EOT, "eos_token": EOT,
              "unk_token": EOT, "model_max_length": 1024, "add_prefix_space": False}
    with open(os.path.join(folder, TOKENIZER_CONFIG_FILE), "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2)
    return path


def resolve_path(path: str) -> str:
    """A tokenizer given as its file or as the folder holding tokenizer.json (local or any fsspec URL)."""
    fs, where = fs_path(path)
    if fs.isdir(where):
        path, where = join(path, TOKENIZER_FILE), join(where, TOKENIZER_FILE)
    if not fs.isfile(where):
        raise InputError(f"tokenizer not found: {path}")
    return path


def tokenizer_hash(path: str) -> str:
    return file_sha256(resolve_path(path))


@lru_cache(maxsize=4)
def load(path: str) -> Tokenizer:
    """The tokenizer at `path`, loaded once per process (Spark worker, DataLoader worker); read
    through fsspec because `Tokenizer.from_file` opens local files only."""
    return load_from_string(read_bytes(resolve_path(path)).decode("utf-8"))


@lru_cache(maxsize=4)
def load_from_string(text: str) -> Tokenizer:
    """A tokenizer shipped as its JSON text (a Spark broadcast), parsed once per worker process."""
    return Tokenizer.from_str(text)


def eot_id(tok: Tokenizer) -> int:
    token_id = tok.token_to_id(EOT)
    if token_id is None:
        raise InputError(f"tokenizer has no {EOT} token")
    return token_id


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 while the vocabulary fits (GPT-2's 50257 does), else int32 (what Spark can hold)."""
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.int32)


def encode_batch(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of each text, without special tokens (the stream adds `<|endoftext|>`)."""
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)  # no offsets: faster
    return [enc.ids for enc in encode(texts, add_special_tokens=False)]
