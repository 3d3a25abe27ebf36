"""The trainer's configuration: a model preset (conf/model/<name>.yaml or a YAML path), the training
settings below, and `key=value` overrides from the command line.

An override names `model.<key>`, `train.<key>`, or a bare key that exactly one of the two has. A key
that neither has, or a value of the wrong type, raises ConfigError: one line naming the key.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pipeline.core.config import ConfigError, parse_override, read_yaml
from training.model import GPTConfig

MODEL_DIR = Path(__file__).resolve().parents[1] / "conf" / "model"


@dataclass
class TrainConfig:
    seed: int = 1337
    batch_size: int = 8              # rows per micro-step per process
    tokens_per_step: int = 0         # global tokens per optimizer step; 0: one micro-step per process
    max_steps: int = 0               # 0: the mixture's token_budget / tokens per step
    schedule_steps: int = 0          # horizon of the cosine decay; 0: max_steps (set it to stop early)
    warmup_steps: int = 20
    lr: float = 6e-4
    min_lr_ratio: float = 0.1        # cosine decays to lr * min_lr_ratio (GPT-3: 10%)
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0           # 0: no clipping
    decay_embeddings: bool = False   # biases and norms are never decayed
    log_every: int = 10
    eval_every: int = 100            # 0: only at the end
    eval_batches: int = 4            # validation batches per source
    ckpt_every: int = 100            # 0: only at the end and on SIGTERM/SIGINT
    keep_last: int = 3
    compile: bool = False
    device: str = "auto"             # auto (cuda if present) | cpu | cuda | cuda:N
    dtype: str = "auto"              # auto (bfloat16 on CUDA, float32 on CPU) | float32 | bfloat16
    num_workers: int = 0             # data-loading worker processes per rank
    progress: str = "auto"           # auto (a bar on a terminal) | bar | log

    def validate(self) -> None:
        for key in ("batch_size", "log_every", "keep_last", "eval_batches"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"train.{key} must be positive, got {getattr(self, key)}")
        for key in ("max_steps", "tokens_per_step", "schedule_steps", "warmup_steps", "eval_every", "ckpt_every",
                    "num_workers", "grad_clip", "weight_decay"):
            if getattr(self, key) < 0:
                raise ConfigError(f"train.{key} must not be negative, got {getattr(self, key)}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError(f"train.min_lr_ratio must lie in [0, 1], got {self.min_lr_ratio}")
        choices = {"dtype": ("auto", "float32", "bfloat16"), "progress": ("auto", "bar", "log")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ConfigError(f"train.{key}={getattr(self, key)!r}; use one of {', '.join(allowed)}")


@dataclass
class RunConfig:
    model: GPTConfig = field(default_factory=GPTConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {"model": dataclasses.asdict(self.model), "train": dataclasses.asdict(self.train)}

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        return cls(model=_build(GPTConfig, data.get("model", {}), "model"),
                   train=_build(TrainConfig, data.get("train", {}), "train"))


def _coerce(key: str, default: Any, value: Any) -> Any:
    """`value` in the type of `default` where that is lossless, else ConfigError naming the key."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        if isinstance(value, str):  # YAML 1.1 reads 3e-4 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, list):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"config key '{key}' must be a {type(default).__name__}, got {value!r}")
    return value


def _build(cls, values: dict, section: str):
    defaults = cls()
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown config key '{section}.{key}' (known: {', '.join(sorted(known))})")
        kwargs[key] = _coerce(f"{section}.{key}", getattr(defaults, key), value)
    return cls(**kwargs)


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


def load_run_config(model: str = "tiny", overrides: Iterable[str] = (),
                    vocab_size: int | None = None) -> RunConfig:
    """The preset, then each override; the vocabulary size comes from the mixture's tokenizer."""
    values = {"model": dict(read_yaml(preset_path(model))), "train": {}}
    sections = {"model": {f.name for f in dataclasses.fields(GPTConfig)},
                "train": {f.name for f in dataclasses.fields(TrainConfig)}}
    for text in overrides:
        path, value = parse_override(text)
        if len(path) == 1:
            owners = [name for name, keys in sections.items() if path[0] in keys]
            if len(owners) != 1:
                raise ConfigError(f"unknown config key '{path[0]}' (see `train --help` for the keys)")
            path = [owners[0], path[0]]
        if len(path) != 2 or path[0] not in sections:
            raise ConfigError(f"unknown config key '{'.'.join(path)}' (use model.<key> or train.<key>)")
        values[path[0]][path[1]] = value
    if vocab_size is not None:
        values["model"]["vocab_size"] = vocab_size
    config = RunConfig.from_dict(values)
    try:
        config.model.validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config.train.validate()
    return config
