"""The one special-token helper: tokens that fine-tuning (GPT-1's start / delimiter / extract) and
chat formats add to a pre-trained tokenizer and model, and the tokenizer identity a checkpoint keeps.

A tokenizer with added tokens is no longer byte-identical to the one the token shards were made
with, so a checkpoint records the *base* tokenizer's SHA-256 plus the added tokens; compatibility
checks (resume, mixing pre-training data into PPO-ptx) compare the base hash.
"""
from __future__ import annotations

from tokenizers import AddedToken, Tokenizer

from training.checkpoint import CheckpointError


def add_special_tokens(tokenizer: Tokenizer, tokens: list[str]) -> dict[str, int]:
    """Add `tokens` as special tokens (never split, never merged; idempotent); return their ids."""
    missing = [t for t in tokens if tokenizer.token_to_id(t) is None]
    if missing:
        tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in missing])
    return {t: tokenizer.token_to_id(t) for t in tokens}


def extend_model_vocab(model, tokenizer: Tokenizer, generator=None) -> None:
    """Give `model` rows for every id of `tokenizer` (new rows N(0, 0.02), see GPT.resize_vocab)."""
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    if size > model.config.vocab_size:
        model.resize_vocab(size, generator=generator)


def tokenizer_identity(base_sha256: str, added: list[str]) -> dict:
    """What a checkpoint records of its tokenizer: the base file's hash and the tokens added to it."""
    return {"base_sha256": base_sha256, "added_tokens": list(added)}


def check_tokenizer_compatible(saved: dict, base_sha256: str, where: str) -> None:
    """One-line CheckpointError when `saved` (a tokenizer_identity) was built on another base tokenizer."""
    if saved.get("base_sha256") != base_sha256:
        raise CheckpointError(f"{where}: tokenizer differs (base sha256 {str(saved.get('base_sha256'))[:12]} "
                              f"vs {base_sha256[:12]})")
