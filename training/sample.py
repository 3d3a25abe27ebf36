"""Generation from a checkpoint: `train sample --checkpoint RUN_OR_CKPT --prompt "..."`."""
from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer

from training import checkpoint as ckpt
from training.config import RunConfig
from training.model import GPT


def load_model(checkpoint: str | Path, device: str = "cpu") -> tuple[GPT, dict, Path]:
    """The model of a checkpoint folder (or of a run folder's newest complete checkpoint)."""
    path = ckpt.resolve(checkpoint)
    meta = ckpt.read_config(path)
    config = RunConfig.from_dict(meta["run"])
    config.model.attn_impl = "sdpa" if device == "cpu" else "auto"
    model = GPT(config.model)
    try:
        model.load_state_dict(ckpt.load_model_state(path))
    except RuntimeError as exc:
        raise ckpt.CheckpointError(f"checkpoint {path}: weights do not match its config.json "
                                   f"({str(exc).splitlines()[0]})") from None
    return model.to(device).eval(), meta, path


def load_tokenizer(path: Path) -> Tokenizer:
    file = Path(path) / ckpt.TOKENIZER_FILE
    if not file.is_file():
        raise ckpt.CheckpointError(f"checkpoint {path} has no {ckpt.TOKENIZER_FILE}")
    return Tokenizer.from_file(str(file))


def sample(checkpoint: str | Path, prompt: str, max_tokens: int = 100, temperature: float = 0.8,
           top_k: int | None = 200, seed: int = 1337, num_samples: int = 1,
           device: str = "cpu", chat: bool = False) -> list[str]:
    model, meta, path = load_model(checkpoint, device)
    tokenizer = load_tokenizer(path)
    if chat:  # the prompt as a user turn of the chat format; the reply up to its <|end|>
        from training.instruct.chat import ChatFormat

        fmt = ChatFormat.attach(tokenizer)
        idx = torch.tensor([fmt.prompt_ids([("user", prompt)])] * num_samples, dtype=torch.long, device=device)
        generator = torch.Generator(device=device).manual_seed(seed)
        out = model.generate(idx, max_tokens, temperature=temperature, top_k=top_k, generator=generator,
                             eos_id=fmt.end, use_cache=idx.size(1) + max_tokens <= model.config.block_size)
        return [fmt.decode_response(row[idx.size(1):].tolist()) for row in out]
    ids = tokenizer.encode(prompt).ids if prompt else []
    if not ids:  # an empty prompt starts a new document
        ids = [meta.get("eot_id") or 0]
    idx = torch.tensor([ids] * num_samples, dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    out = model.generate(idx, max_tokens, temperature=temperature, top_k=top_k, generator=generator)
    return [tokenizer.decode(row.tolist()) for row in out]
