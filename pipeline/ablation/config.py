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
      - {kind: raw_pages, input: [text/cc_raw/*.jsonl.zst, text/cc_raw/cs336_*/*.txt]}   # raw HTML, CS336
    heldout:                    # evaluation-only text; every variant is decontaminated against it
      - {name: webtext_heldout, webtext: [text/webtext/*.jsonl]}   # the WebText hold-out slice
      - {name: wikitext_valid, task: wikitext2}                    # a task under conf/eval/
      - {name: book, book: text/books/gutenberg_11-0.txt}          # cut into passages
    eval_limit: 200             # documents scored per held-out set
    variants:
      raw_cc:     {commoncrawl: {steps: [extract]}}
      heuristics: {commoncrawl: {steps: [extract, langid, heuristics]}}
      classifier: {commoncrawl: {steps: [extract, langid, heuristics, quality]}}
      gpt3_mix:                 # GPT-3 Table 2.2: the mixture file's weights over corpora made here
        mixture: conf/gpt3_mix.yaml
        sources:                # mixture source name -> another variant's corpus, or text ingested as is
          commoncrawl: {variant: classifier}
          webtext2: {text: {kind: jsonl, input: [text/webtext/*train*.jsonl], drop_heldout: true}}

A variant reads `commoncrawl` (the source above) or `documents` (its own text inputs, same form), or is
a `mixture`: the mixture file gives only the weights (its budget, seed and root are the ablation's);
an optional source left out of `sources` is dropped and the others renormalised (a required one is
an error), and the build_mixture stage materialises the rows training streams.
Steps: extract is always first; langid and heuristics are quality_filter's steps (switched off with
`langid.languages=[]` / `heuristics.enabled=false` when absent); quality scores with `model`
(default: the shipped classifier) and keeps by GPT-3's Pareto rule. `dedup: true` adds the dedup stage.
Kind raw_pages reads HPLT raw-HTML records (`.jsonl.zst`, through the project's extractor) and CS336
dumps (pipeline/quality/raw_pages.py, the classifier's reader); its files are checked before any stage (not for `--list-variants`, which needs no data).
Relative inputs are under `data_root` (default ../shared/realdata next to the repository).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.config import ConfigError, parse_model, read_yaml
from pipeline.tokens.mixture import MixtureError, _count, read_mixture_file

STEPS = ("extract", "langid", "heuristics", "quality")
REPO_ROOT = Path(__file__).resolve().parents[2]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextInput(Strict):
    kind: Literal["jsonl", "text", "books", "wikipedia", "warc", "raw_pages"]
    input: list[str] = Field(min_length=1)
    text_field: str = "text"
    name: Optional[str] = None          # the extracted folder's name (default: kind + position)
    drop_heldout: bool = False          # leave out the WebText hold-out slice (pipeline.quality.heldout)

    @model_validator(mode="after")
    def _heldout_jsonl(self):
        if self.drop_heldout and self.kind != "jsonl":
            raise ValueError("drop_heldout needs kind: jsonl")
        return self


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


class MixtureSource(Strict):
    """One source of a mixture variant: another variant's corpus, or text ingested as it is (GPT-3
    filtered only CommonCrawl; its curated sources went in unfiltered)."""
    variant: Optional[str] = None
    text: Optional[TextInput] = None

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.variant is None) == (self.text is None):
            raise ValueError("give exactly one of variant or text")
        return self


class Variant(Strict):
    commoncrawl: Optional[Source] = None
    documents: Optional[Source] = None
    mixture: Optional[str] = None       # a mixture YAML: the weights of `sources`, by name
    sources: dict[str, MixtureSource] = {}

    @model_validator(mode="after")
    def _one_source(self):
        if sum(x is not None for x in (self.commoncrawl, self.documents, self.mixture)) != 1:
            raise ValueError("give exactly one of commoncrawl, documents or mixture")
        if self.documents is not None and not self.documents.input:
            raise ValueError("documents needs input: [...]")
        if (self.mixture is None) != (not self.sources):
            raise ValueError("mixture and sources go together")
        return self

    @property
    def source(self) -> Optional[Source]:
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

    @property
    def mixtures(self) -> dict[str, Variant]:
        return {n: v for n, v in self.variants.items() if v.mixture}

    def resolve(self, path: str) -> str:
        """An input path: absolute, or under data_root (the config's folder for ./ paths)."""
        if Path(path).is_absolute():
            return path
        root = Path(self.data_root) if self.data_root else REPO_ROOT.parent / "shared" / "realdata"
        return str((root if not path.startswith("./") else REPO_ROOT) / path)


def mixture_path(path: str) -> Path:
    """A mixture file: absolute, or under the repository (conf/gpt3_mix.yaml)."""
    return Path(path) if Path(path).is_absolute() else REPO_ROOT / path


def mixture_weights(cfg: AblationConfig, name: str) -> dict[str, float]:
    """The mixture variant's sources with a corpus here -> weight, in the file's order (relative:
    the trainer and build_mixture normalise them over the sources kept)."""
    variant = cfg.variants[name]
    spec = read_mixture_file(str(mixture_path(variant.mixture)))
    return {s.name: s.weight for s in spec.sources if s.name in variant.sources and s.weight > 0}


def check_mixtures(cfg: AblationConfig) -> None:
    """What pydantic cannot see: the mixture file, its source names, the variants a source reads."""
    for name, variant in cfg.mixtures.items():
        key = f"ablation.variants.{name}"
        path = mixture_path(variant.mixture)
        if not path.is_file():
            raise ConfigError(f"{key}.mixture: no file {path}")
        try:
            spec = read_mixture_file(str(path))
        except MixtureError as exc:
            raise ConfigError(f"{key}.mixture: {exc}") from None
        known = {s.name: s for s in spec.sources}
        for source, given in variant.sources.items():
            if source not in known:
                raise ConfigError(f"{key}.sources.{source}: not a source of {variant.mixture} "
                                  f"(it has: {', '.join(known)})")
            other = cfg.variants.get(given.variant) if given.variant else None
            if given.variant and (other is None or other.mixture):
                raise ConfigError(f"{key}.sources.{source}.variant: {given.variant!r} is not a "
                                  "commoncrawl or documents variant")
        missing = [s.name for s in spec.sources if s.name not in variant.sources and not s.optional]
        if missing:
            raise ConfigError(f"{key}.sources: no corpus for {missing[0]!r} (not optional in {variant.mixture})")
        if not mixture_weights(cfg, name):
            raise ConfigError(f"{key}.sources: every source given has weight 0 in {variant.mixture}")


def check_raw_pages(cfg: AblationConfig) -> None:
    """Every `kind: raw_pages` input names local files in one of raw_pages.py's formats."""
    from pipeline.quality.raw_pages import raw_page_files

    given = [(f"ablation.commoncrawl.{i}", t) for i, t in enumerate(cfg.commoncrawl)]
    given += [(f"ablation.variants.{n}.documents.input.{i}", t) for n, v in cfg.variants.items()
              if v.documents for i, t in enumerate(v.documents.input)]
    given += [(f"ablation.variants.{n}.sources.{s}.text", m.text) for n, v in cfg.mixtures.items()
              for s, m in v.sources.items() if m.text]
    for key, spec in given:
        if spec.kind == "raw_pages":
            try:
                raw_page_files([cfg.resolve(p) for p in spec.input])
            except ValueError as exc:
                raise ConfigError(f"{key}.input: {exc}") from None


def block_size(cfg: AblationConfig) -> int:
    """The training rows' length - 1: the `train` override, else the model preset's."""
    if "model.block_size" in cfg.train:
        return int(cfg.train["model.block_size"])
    preset = Path(cfg.model) if cfg.model.endswith(".yaml") else REPO_ROOT / "conf" / "model" / f"{cfg.model}.yaml"
    return int(read_yaml(str(preset))["block_size"])


def load_config(path: str, overrides: dict | None = None) -> AblationConfig:
    """The YAML file validated; any mistake raises ConfigError naming the key, one line."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys")
    data.update(overrides or {})
    cfg = parse_model(AblationConfig, data, "ablation")
    check_mixtures(cfg)
    return cfg
