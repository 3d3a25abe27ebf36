"""From a pre-trained checkpoint to a task model: its GPT (or the same shape freshly initialised, for
GPT-1's from-scratch comparison), its tokenizer with <s> <$> <e> added, new embedding rows N(0, 0.02),
and the head. Also what a fine-tuned checkpoint records so `train sample`, `train export` and
`train eval` load it as any other: the GPT's weights alone in model.safetensors, the raised
vocab_size in its config, the extended tokenizer.json, and the tokenizer's identity (base hash plus
added tokens); the head lives in train_state.pt."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer

from pipeline.core.hashing import file_sha256
from training import checkpoint as ckpt
from training.config import RunConfig
from training.finetune.config import FinetuneSettings, TaskSpec
from training.finetune.head import TaskModel
from training.finetune.transform import DELIM, EXTRACT, SPECIAL_TOKENS, START, Specials
from training.model import GPT
from training.sample import load_tokenizer
from training.special_tokens import add_special_tokens, extend_model_vocab, tokenizer_identity


@dataclass
class Prepared:
    model: TaskModel
    tokenizer: Tokenizer
    specials: Specials
    run_config: RunConfig            # the GPT's config as fine-tuned (vocab raised, dropout set)
    base_sha256: str
    eot_id: int | None
    pretrained: Path
    max_len: int

    @property
    def pad_id(self) -> int:
        # Any id will do: pads are never attended by real tokens and never a target.
        return self.specials.extract


def base_tokenizer_sha(meta: dict, path: Path) -> str:
    """The base tokenizer of a checkpoint: recorded identity, else the pre-training hash, else the file's."""
    identity = meta.get("tokenizer")
    if isinstance(identity, dict) and identity.get("base_sha256"):
        return identity["base_sha256"]
    return meta.get("tokenizer_hash") or file_sha256(str(Path(path) / ckpt.TOKENIZER_FILE))


def prepare(checkpoint: str | Path, task: TaskSpec, settings: FinetuneSettings, device: torch.device,
            from_scratch: bool = False) -> Prepared:
    path = ckpt.resolve(checkpoint)
    meta = ckpt.read_config(path)
    run = RunConfig.from_dict(meta["run"])
    run.model.attn_impl = "sdpa" if device.type == "cpu" else "auto"
    if settings.model_dropout >= 0:
        run.model.dropout = settings.model_dropout
    tokenizer = load_tokenizer(path)
    torch.manual_seed(settings.seed)  # a from-scratch GPT is initialised from the run's seed
    gpt = GPT(run.model)
    if not from_scratch:
        try:
            gpt.load_state_dict(ckpt.load_model_state(path))
        except RuntimeError as exc:
            raise ckpt.CheckpointError(f"checkpoint {path}: weights do not match its config.json "
                                       f"({str(exc).splitlines()[0]})") from None
    ids = add_special_tokens(tokenizer, SPECIAL_TOKENS)
    generator = torch.Generator().manual_seed(settings.seed)
    extend_model_vocab(gpt, tokenizer, generator=generator)
    model = TaskModel(gpt, task, settings.head_dropout, generator=generator).to(device)
    max_len = min(settings.max_len or run.model.block_size, run.model.block_size)
    return Prepared(model, tokenizer, Specials(ids[START], ids[DELIM], ids[EXTRACT]), run,
                    base_tokenizer_sha(meta, path), meta.get("eot_id"), path, max_len)


def checkpoint_meta(p: Prepared, task: TaskSpec, settings: FinetuneSettings, step: int,
                    from_scratch: bool) -> dict:
    run = p.run_config.to_dict()
    run["model"] = dataclasses.asdict(p.model.gpt.config)  # vocab_size as raised by the new tokens
    return {"run": run, "step": step, "tokenizer_hash": p.base_sha256,
            "tokenizer": tokenizer_identity(p.base_sha256, SPECIAL_TOKENS), "eot_id": p.eot_id,
            "finetune": {"task": task.model_dump(), "settings": settings.model_dump(),
                         "pretrained": None if from_scratch else str(p.pretrained),
                         "special_ids": dataclasses.asdict(p.specials)}}
