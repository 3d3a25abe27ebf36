"""The trainer's configuration (RunConfig: `model` and `train`), built by the one loader's rules
(pipeline/core/config.py): a model preset (conf/model/<name>.yaml or a YAML path), then a `--config`
file (sections `model` and `train`), then `key=value` overrides; validated by pydantic.

An override names `model.<key>`, `train.<key>`, or a bare key that exactly one of the two has. A key
that neither has, or a value of the wrong type, raises ConfigError: one line naming the key.
GPTConfig stays a plain dataclass (training/model.py); pydantic validates its fields as they are.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from pipeline.core.config import ConfigError, Float, merge, parse_model, parse_override, read_yaml, set_key
from training.model import GPTConfig

MODEL_DIR = Path(__file__).resolve().parents[1] / "conf" / "model"
SECTIONS = ("model", "train")


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 1337
    batch_size: PositiveInt = 8              # rows per micro-step per process
    tokens_per_step: NonNegativeInt = 0      # global tokens per optimizer step; 0: one micro-step per process
    max_steps: NonNegativeInt = 0            # 0: the mixture's token_budget / tokens per step
    schedule_steps: NonNegativeInt = 0       # horizon of the cosine decay; 0: max_steps (set it to stop early)
    warmup_steps: NonNegativeInt = 20
    lr: Float = 6e-4
    min_lr_ratio: Float = Field(0.1, ge=0, le=1)   # cosine decays to lr * min_lr_ratio (GPT-3: 10%)
    weight_decay: NonNegativeFloat = 0.1
    beta1: Float = 0.9
    beta2: Float = 0.95
    eps: Float = 1e-8
    grad_clip: NonNegativeFloat = 1.0        # 0: no clipping
    decay_embeddings: bool = False           # biases and norms are never decayed
    log_every: PositiveInt = 10
    eval_every: NonNegativeInt = 100         # 0: only at the end
    eval_batches: PositiveInt = 4            # validation batches per source
    ckpt_every: NonNegativeInt = 100         # 0: only at the end and on SIGTERM/SIGINT
    keep_last: PositiveInt = 3
    compile: bool = False
    device: str = "auto"                     # auto (cuda if present) | cpu | cuda | cuda:N
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"   # auto: bfloat16 on CUDA, float32 on CPU
    num_workers: NonNegativeInt = 0          # data-loading worker processes per rank
    # CPU intra-op threads; 0: torch's default (one per core). A small model's ops are too short to
    # share: on two cores the tiny preset trains 26x faster on 1 thread while another process is busy.
    threads: NonNegativeInt = 0
    progress: Literal["auto", "bar", "log"] = "auto"          # auto: a bar on a terminal


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: GPTConfig = Field(default_factory=GPTConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {"model": dataclasses.asdict(self.model), "train": self.train.model_dump()}

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        return parse_model(cls, data, "")


def preset_path(model: str) -> Path:
    """A preset name (conf/model/<name>.yaml) or a path to a YAML file."""
    path = Path(model)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"model file not found: {model}")
        return path
    named = MODEL_DIR / f"{model}.yaml"
    if not named.is_file():
        names = ", ".join(sorted(p.stem for p in MODEL_DIR.glob("*.yaml")))
        raise ConfigError(f"unknown model preset '{model}' (presets: {names}; or a YAML path)")
    return named


def section_keys() -> dict[str, set[str]]:
    return {"model": {f.name for f in dataclasses.fields(GPTConfig)}, "train": set(TrainConfig.model_fields)}


def qualify(path: list[str]) -> list[str]:
    """A bare key becomes `model.<key>` or `train.<key>`, whichever section has it."""
    if len(path) != 1:
        return path
    owners = [name for name, keys in section_keys().items() if path[0] in keys]
    if len(owners) != 1:
        raise ConfigError(f"{path[0]}: unknown key (use model.<key> or train.<key>; see `train --help`)")
    return [owners[0], path[0]]


def load_run_config(model: str = "tiny", overrides: Iterable[str] = (), vocab_size: int | None = None,
                    config_file: dict | None = None) -> RunConfig:
    """The preset, then the `model`/`train` sections of a --config file, then each override; the
    vocabulary size comes from the mixture's tokenizer."""
    values = merge({"model": read_yaml(preset_path(model)), "train": {}}, config_file or {})
    for text in overrides:
        path, value = parse_override(text)
        path = qualify(path)
        if path[0] not in SECTIONS:
            raise ConfigError(f"{'.'.join(path)}: unknown key (use model.<key> or train.<key>)")
        values = set_key(values, path, value)
    if vocab_size is not None:
        values["model"]["vocab_size"] = vocab_size
    config = RunConfig.from_dict(values)
    try:
        config.model.validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return config
