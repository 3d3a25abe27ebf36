"""Fine-tuning settings (GPT-1's defaults, each overridable as key=value) and the task file schema.

A task file (conf/finetune/<task>.yaml) says where the rows are and what they mean; nothing about a
task lives in code. Overrides: a bare key sets a FinetuneSettings field (`lr=1e-4 lm_coef=0`);
`task.<key>[.<key>]` sets a key of the task file (`task.data.root=/data`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from pipeline.core.config import ConfigError, parse_model, parse_override, read_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
REALDATA_ENV = "WEBMIX_REALDATA"
KIND_FIELDS = {
    "classification": ("text", "label"),
    "entailment": ("premise", "hypothesis", "label"),
    "similarity": ("a", "b", "label"),
    "multiple_choice": ("context", "options", "label"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FinetuneSettings(_Strict):
    """GPT-1 §4.1: lr 6.25e-5, batch 32, 3 epochs, warm-up over 0.2% of training, linear decay,
    dropout 0.1 on the classifier, lm_coef (λ) 0.5, L2 weight 0.01."""
    lr: float = Field(6.25e-5, gt=0)
    batch_size: int = Field(32, gt=0)  # items (a multiple-choice item is all its options)
    epochs: int = Field(3, gt=0)
    max_steps: int = Field(0, ge=0)    # 0: epochs x batches per epoch; else stop there (schedule too)
    stop_after: int = Field(0, ge=0)   # >0: checkpoint and stop after this step (resume continues)
    warmup_fraction: float = Field(0.002, ge=0, lt=1)
    lm_coef: float = Field(0.5, ge=0)  # λ in L = L_task + λ L_LM; 0 switches the auxiliary loss off
    head_dropout: float = Field(0.1, ge=0, lt=1)
    model_dropout: float = Field(-1.0, lt=1)  # < 0: the pre-trained checkpoint's own dropout
    weight_decay: float = Field(0.01, ge=0)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0)
    grad_clip: float = Field(1.0, ge=0)  # 0: no clipping
    seed: int = 1337
    select_fraction: float = Field(0.1, ge=0, lt=1)  # share of train (by hash) that chooses the checkpoint
    max_train: int = Field(0, ge=0)    # 0: every training row; else a seeded subset of N
    max_select: int = Field(0, ge=0)   # 0: the whole selection split; else a seeded subset of N
    max_len: int = Field(0, ge=0)      # 0: the model's block_size
    eval_every: int = Field(0, ge=0)   # steps between selection evaluations; 0: at each epoch's end
    ckpt_every: int = Field(0, ge=0)   # steps between resumable checkpoints; 0: at each epoch's end
    keep_last: int = Field(1, gt=0)
    log_every: int = Field(20, gt=0)
    eval_batch_size: int = Field(64, gt=0)
    device: str = "auto"
    progress: Literal["auto", "bar", "log"] = "auto"


class DataSpec(_Strict):
    """Where the rows are. `train` + `dev` files, or one labelled `single` file split by hash into
    train and dev (`dev_fraction`). Paths are relative to `root` (default: $WEBMIX_REALDATA, else
    ../shared/realdata beside the repository)."""
    format: Literal["tsv", "json_records", "lines"]
    root: str | None = None
    train: str | None = None
    dev: str | None = None
    single: str | None = None
    dev_fraction: float = 0.2
    split_seed: int = 2018           # the dev / select hash splits; fixed so every run sees the same
    header: bool = True              # tsv: the first row names the columns (else `columns`)
    columns: list[str] | None = None
    quoting: Literal["minimal", "none"] = "minimal"   # MRPC and STS-B break csv's default quoting
    encoding: str = "utf-8"          # MRPC's header starts with a BOM: utf-8-sig

    @model_validator(mode="after")
    def _splits(self):
        if self.single and (self.train or self.dev):
            raise ValueError("give either `single` or `train` + `dev`, not both")
        if not self.single and not (self.train and self.dev):
            raise ValueError("needs `train` and `dev`, or one `single` file")
        if self.format == "tsv" and not self.header and not self.columns:
            raise ValueError("a tsv without a header needs `columns`")
        return self

    def base(self) -> Path:
        root = self.root or os.environ.get(REALDATA_ENV) or REPO_ROOT.parent / "shared" / "realdata"
        return Path(root)


class TaskSpec(_Strict):
    name: str
    kind: Literal["classification", "entailment", "similarity", "multiple_choice"]
    data: DataSpec
    target: Literal["class", "regression"] = "class"
    # role -> column. `context` may list several columns (joined by a space); `options` lists one
    # column per option, or names one column holding "(A) ... (B) ..." lettered choices.
    fields: dict[str, Union[str, list[str]]]
    labels: list[str] = Field(default_factory=list, validate_default=True)  # class values (or, multiple choice, the value naming option i)
    metrics: list[Literal["accuracy", "f1", "matthews", "pearson", "spearman"]] = ["accuracy"]

    @field_validator("target")
    @classmethod
    def _target(cls, value, info: ValidationInfo):
        if value == "regression" and info.data.get("kind") != "similarity":
            raise ValueError("regression is for similarity tasks only")
        return value

    @field_validator("fields")
    @classmethod
    def _roles(cls, value, info: ValidationInfo):
        need = KIND_FIELDS.get(info.data.get("kind"), ())
        missing, extra = [r for r in need if r not in value], [r for r in value if r not in need]
        if missing or extra:
            raise ValueError(f"a {info.data.get('kind')} task maps {', '.join(need)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(extra)}" if extra else ""))
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value, info: ValidationInfo):
        if info.data.get("target") == "class" and len(value) < 2:
            raise ValueError("a class target needs at least two label values")
        return value

    @property
    def n_outputs(self) -> int:
        """Head width: one score per row for multiple choice and regression, else one per class."""
        if self.kind == "multiple_choice" or self.target == "regression":
            return 1
        return len(self.labels)


def _set(tree: dict, path: list[str], value) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
        if not isinstance(tree, dict):
            raise ConfigError(f"override task.{'.'.join(path)}: {part} is not a section")
    tree[path[-1]] = value


def load_finetune_config(task_file: str, overrides: Iterable[str] = ()) -> tuple[TaskSpec, FinetuneSettings]:
    """The task file and the settings, each override applied; one ConfigError line on a mistake."""
    raw_task = read_yaml(task_file)
    settings: dict = {}
    for text in overrides:
        path, value = parse_override(text)
        if path[0] == "task" and len(path) > 1:
            _set(raw_task, path[1:], value)
        elif len(path) == 1 and path[0] in FinetuneSettings.model_fields:
            settings[path[0]] = value
        else:
            known = ", ".join(FinetuneSettings.model_fields)
            raise ConfigError(f"unknown finetune key '{'.'.join(path)}' (keys: {known}; or task.<key>)")
    return parse_model(TaskSpec, raw_task, f"{task_file}: task"), parse_model(FinetuneSettings, settings, "finetune")
