"""Held-out bits per byte (comparable across tokenizers) and token perplexity of documents.

Each document is <|endoftext|> followed by its tokens, so the first token is conditioned on the
document boundary. Windows of block_size inputs advance by `stride` (default block_size / 2); each
window scores only the tokens no earlier window scored, so every token is scored once, with at least
block_size - stride tokens of context after the first window. The windows are ordinary scoring
requests (context = the window's already-scored part, continuation = its new tokens).

  bits per byte = sum over documents, tokens of -ln p(x_t | x_<t) / (ln 2 * sum of UTF-8 bytes)
"""
from __future__ import annotations

from training.eval.scoring import Request, score_requests


def windows(ids: list[int], block_size: int, stride: int) -> list[Request]:
    """The requests that score ids[1:] given ids[0] (<|endoftext|>) in rolling windows."""
    if not 0 < stride <= block_size:
        raise ValueError(f"stride {stride} must be in 1..block_size {block_size}")
    last = len(ids) - 1            # targets are ids[1..last]
    requests, start, scored = [], 0, 0
    while scored < last:
        end = min(start + block_size, last)
        requests.append(Request(tuple(ids[start:scored + 1]), tuple(ids[scored + 1:end + 1])))
        scored = end
        start += stride
    return requests


def document_nats(model, tokenizer, texts: list[str], eot_id: int, stride: int | None = None,
                  max_batch_tokens: int = 16384) -> tuple[list[dict], int]:
    """Per document: {nats, tokens, bytes}; and the stride used."""
    block = model.config.block_size
    stride = stride or block // 2
    encoded = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    requests, owner = [], []
    for d, ids in enumerate(encoded):
        doc_windows = windows([eot_id] + ids, block, stride)
        requests.extend(doc_windows)
        owner.extend([d] * len(doc_windows))
    scores = score_requests(model, requests, max_batch_tokens=max_batch_tokens)
    nats = [0.0] * len(texts)
    for d, score in zip(owner, scores):
        nats[d] -= score.logprob
    docs = [{"nats": nats[d], "tokens": len(encoded[d]), "bytes": len(text.encode("utf-8"))}
            for d, text in enumerate(texts)]
    return docs, stride
