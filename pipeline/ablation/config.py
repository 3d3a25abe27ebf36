"""The ablation's YAML (`webmix ablate --config`): variants as data, checked before anything runs.

    train_tokens: 400K          # equal for every variant; <= max_epochs x the smallest variant's tokens
    max_epochs: 4               # a run above it is refused (it would compare memorisation)
    model: tiny-ablation        # a preset under conf/model/, the same for every variant
    seeds: [1, 2]
    threads: 2                  # torch threads of every train / eval process (fixed: determinism)
    vocab_size: 8192            # the one tokenizer, trained once on the union of the variants
    train: {batch_size: 8}      # `train` overrides shared by every variant
    commoncrawl:                # the CommonCrawl source: text files ingested, WARC files extracted
      - {kind: jsonl, input: [text/cc_raw/dolma*.jsonl.gz], text_field: text}
      - {kind: warc, input: ['warc/commoncrawl/*.warc.gz']}
    heldout:                    # evaluation-only text; every variant is decontaminated against it
      - {name: webtext_heldout, webtext: [text/webtext/*.jsonl]}   # the WebText hold-out slice
      - {name: wikitext_valid, task: wikitext2}                    # a task under conf/eval/
      - {name: book, book: text/books/gutenberg_11-0.txt}          # cut into passages
    eval_limit: 200             # documents scored per held-out set
    variants:
      raw_cc:     {commoncrawl: {steps: [extract]}}
      heuristics: {commoncrawl: {steps: [extract, langid, heuristics]}}
      classifier: {commoncrawl: {steps: [extract, langid, heuristics, quality]}}

A variant reads `commoncrawl` (the source above) or `documents` (its own text inputs, same form).
Steps: extract is always first; langid and heuristics are quality_filter's steps (switched off with
`langid.languages=[]` / `heuristics.enabled=false` when absent); quality scores with `model`
(default: the shipped classifier) and keeps by GPT-3's Pareto rule. `dedup: true` adds the dedup stage.
Relative inputs are under `data_root` (default ../shared/realdata next to the repository).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.config import ConfigError, parse_model, read_yaml
from pipeline.tokens.mixture import _count

STEPS = ("extract", "langid", "heuristics", "quality")
REPO_ROOT = Path(__file__).resolve().parents[2]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextInput(Strict):
    kind: Literal["jsonl", "text", "books", "warc"]
    input: list[str] = Field(min_length=1)
    text_field: str = "text"
    name: Optional[str] = None          # the extracted folder's name (default: kind + position)


class Source(Strict):
    steps: list[str] = ["extract"]
    model: str = "default"              # the classifier of the `quality` step
    alpha: Optional[float] = None       # its Pareto shape (default: quality_filter.alpha)
    dedup: bool = False
    input: list[TextInput] = []         # only for `documents`

    @field_validator("steps")
    @classmethod
    def _known_steps(cls, steps: list[str]) -> list[str]:
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise ValueError(f"unknown step {unknown[0]!r}; steps: {', '.join(STEPS)}")
        if not steps or steps[0] != "extract" or len(set(steps)) != len(steps):
            raise ValueError("must start with extract and name each step once")
        return sorted(steps, key=STEPS.index)


class Variant(Strict):
    commoncrawl: Optional[Source] = None
    documents: Optional[Source] = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.commoncrawl is None) == (self.documents is None):
            raise ValueError("give exactly one of commoncrawl or documents")
        if self.documents is not None and not self.documents.input:
            raise ValueError("documents needs input: [...]")
        return self

    @property
    def source(self) -> Source:
        return self.commoncrawl or self.documents


class Heldout(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    webtext: list[str] = []             # files whose hold-out slice (pipeline.quality.heldout) is used
    jsonl: list[str] = []               # every document of these files
    book: Optional[str] = None          # a plain-text book cut into passages
    task: Optional[str] = None          # an existing perplexity task (conf/eval/<task>.yaml)
    text_field: str = "text"

    @model_validator(mode="after")
    def _one_kind(self):
        if sum(map(bool, (self.webtext, self.jsonl, self.book, self.task))) != 1:
            raise ValueError("give exactly one of webtext, jsonl, book or task")
        return self


class AblationConfig(Strict):
    train_tokens: int
    max_epochs: float = Field(4.0, gt=0)
    model: str = "tiny-ablation"
    seeds: list[int] = Field(min_length=1)
    threads: int = Field(2, ge=1)
    vocab_size: int = Field(8192, ge=300)
    train: dict[str, object] = {}
    commoncrawl: list[TextInput] = []
    heldout: list[Heldout] = Field(min_length=1)
    eval_limit: Optional[int] = Field(None, gt=0)
    bootstrap: int = Field(1000, ge=100)
    data_root: Optional[str] = None
    variants: dict[str, Variant] = Field(min_length=2)
    baseline: Optional[str] = None      # the variant the others are compared to (default: the first)

    @field_validator("train_tokens", mode="before")
    @classmethod
    def _token_count(cls, value):
        return _count(value)    # the mixture files' rule: 240K, 4M, 3e6

    @field_validator("variants")
    @classmethod
    def _names(cls, variants: dict) -> dict:
        bad = [n for n in variants if not n.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"variant name {bad[0]!r}: letters, digits and _ only")
        return variants

    @model_validator(mode="after")
    def _consistent(self):
        if self.baseline is not None and self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not a variant")
        if any(v.commoncrawl for v in self.variants.values()) and not self.commoncrawl:
            raise ValueError("a variant reads commoncrawl but the config has no commoncrawl inputs")
        return self

    @property
    def baseline_name(self) -> str:
        return self.baseline or next(iter(self.variants))

    def resolve(self, path: str) -> str:
        """An input path: absolute, or under data_root (the config's folder for ./ paths)."""
        if Path(path).is_absolute():
            return path
        root = Path(self.data_root) if self.data_root else REPO_ROOT.parent / "shared" / "realdata"
        return str((root if not path.startswith("./") else REPO_ROOT) / path)


def load_config(path: str, overrides: dict | None = None) -> AblationConfig:
    """The YAML file validated; any mistake raises ConfigError naming the key, one line."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys")
    data.update(overrides or {})
    return parse_model(AblationConfig, data, "ablation")
