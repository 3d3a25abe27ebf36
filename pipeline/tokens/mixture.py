"""Mixture files: which sources, in which proportions, for how many tokens — and GPT-3's Table 2.2.

A mixture YAML (conf/gpt3_mix.yaml) names its sources with a weight each: the fraction of training
tokens drawn from that source (GPT-3: "the fraction of examples during training that are drawn from
a given dataset"; our rows are all block_size + 1 tokens, so examples and tokens agree). Everything a
run could trip over later is checked here, before training, with one line per mistake.

    python -m pipeline.tokens.mixture conf/gpt3_mix.yaml [root=runs/demo] [token_budget=1e9]   # the table

The format lives here, below both the stages (build_mixture) and the trainer (training/data.py), and
imports no torch: a mixture file is read by the one config loader's rules (pipeline/core/config.py).
Every path it names (the file itself, `root`, the sources, the tokenizer) is local or any fsspec URL
(s3://, gs://, file://): they are checked and read through pipeline/core/output.py.
"""
from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from typing import Annotated, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pipeline.core.config import ConfigError, Float, InputError, parse_model, parse_override, read_yaml, set_key
from pipeline.core.output import exists, join, under
from pipeline.tokens import bpe
from pipeline.tokens.packing import SourceSpec, index_source
from pipeline.tokens.shards import TRAIN, read_manifest

log = logging.getLogger("webmix.mixture")

# GPT-3 (Brown et al. 2020) Table 2.2: tokens, weight in the training mix, epochs at 300B tokens.
GPT3_TABLE = [
    {"name": "commoncrawl", "tokens": 410e9, "weight": 0.60, "paper_epochs": 0.44},
    {"name": "webtext2", "tokens": 19e9, "weight": 0.22, "paper_epochs": 2.9},
    {"name": "books1", "tokens": 12e9, "weight": 0.08, "paper_epochs": 1.9},
    {"name": "books2", "tokens": 55e9, "weight": 0.08, "paper_epochs": 0.43},
    {"name": "wikipedia", "tokens": 3e9, "weight": 0.03, "paper_epochs": 3.4},
]
GPT3_BUDGET = 300e9


class MixtureError(InputError, ConfigError):
    """A mixture that cannot be trained on; the message is one line."""


@dataclass
class Source:
    name: str
    path: str
    weight: float                  # normalised: the weights of a Mixture sum to 1
    tokens: int = 0                # training tokens in one epoch, <|endoftext|> separators included
    documents: int = 0
    kind: str = "tokens"           # tokens (token shards) | text (tokenized on the fly)


@dataclass
class Mixture:
    sources: list[Source]
    token_budget: int
    seed: int
    tokenizer: str                 # path to tokenizer.json
    tokenizer_hash: str
    vocab_size: int
    eot_id: int
    validation_fraction: float = 0.001   # used only for folders without a manifest
    warnings: list[str] = field(default_factory=list)

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        raise MixtureError(f"mixture has no source '{name}' (it has: {', '.join(s.name for s in self.sources)})")


def _count(value) -> int:
    """A token count: 300000000000, 3e11, '300B', '1.5M' (ValueError otherwise: pydantic's rule)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([KMBT]?)\s*", str(value), re.IGNORECASE)
    if isinstance(value, bool) or not match:
        raise ValueError("must be a token count like 300B or 3e11")
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


def parse_count(value, key: str) -> int:
    try:
        return _count(value)
    except ValueError as exc:
        raise MixtureError(f"mixture.{key}: {exc}, got {value!r}") from None


class SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str
    weight: Float = Field(ge=0, allow_inf_nan=False)   # relative; normalised over the sources kept
    optional: bool = False                              # a missing path leaves the source out


class MixtureFile(BaseModel):
    """The mixture YAML as written (conf/gpt3_mix.yaml)."""
    model_config = ConfigDict(extra="forbid")

    seed: int = 1234
    token_budget: Annotated[int, BeforeValidator(_count), Field(gt=0)]
    tokenizer: Optional[str] = None    # default: the tokenizer copy in the first source's manifest
    root: Optional[str] = None         # folder or URL (s3://...) the relative paths are under (default: .)
    validation_fraction: Float = Field(0.001, ge=0, lt=1)   # used only for folders without a manifest
    sources: list[SourceEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self):
        names = [s.name for s in self.sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"source '{twice[0]}' is listed twice")
        return self


def read_mixture_file(path: str, overrides: dict | None = None) -> MixtureFile:
    """The file, then each override {dotted key: value} (`sources.<name>.<key>` for one source)."""
    try:
        raw = read_yaml(path)
        for key, value in (overrides or {}).items():
            raw = set_key(raw, key.split("."), value)
        return parse_model(MixtureFile, raw, "mixture")
    except ConfigError as exc:
        raise MixtureError(str(exc).replace("config file", "mixture file")) from None


def _sources(spec: MixtureFile, root: str, warnings: list[str]) -> list[tuple[str, str, float]]:
    kept, dropped = [], []
    for entry in spec.sources:
        path = under(root, entry.path)
        if not exists(path):
            if entry.optional:
                dropped.append(entry.name)
                continue
            raise MixtureError(f"mixture source '{entry.name}': path {path} does not exist")
        if entry.weight == 0:
            warnings.append(f"source '{entry.name}' has weight 0 and is left out")
            continue
        kept.append((entry.name, path, entry.weight))
    if dropped:
        warnings.append(f"sources not found and left out, the other weights renormalised: {', '.join(dropped)}")
    if not kept:
        raise MixtureError("mixture weights sum to zero: no source left to draw from")
    return kept


def _tokenizer_of(spec: MixtureFile, root: str, paths: list[tuple[str, str]]) -> str:
    if spec.tokenizer:
        return bpe.resolve_path(under(root, spec.tokenizer))
    for _, path in paths:  # a token folder carries a copy of the tokenizer it was made with
        manifest = read_manifest(path)
        if manifest is not None:
            return bpe.resolve_path(join(path, manifest["tokenizer"]["file"]))
    raise MixtureError("mixture needs a 'tokenizer' (no source has a manifest to take it from)")


def load_mixture(path: str, overrides: dict | None = None) -> Mixture:
    """Read, check and resolve a mixture YAML: paths exist, weights are sane (normalised to sum 1),
    every source has training tokens and was tokenized with the mixture's tokenizer."""
    spec = read_mixture_file(path, overrides)
    root = spec.root or "."
    warnings: list[str] = []
    entries = _sources(spec, root, warnings)
    seed, validation_fraction, budget = spec.seed, spec.validation_fraction, spec.token_budget
    try:
        tokenizer = _tokenizer_of(spec, root, [(n, p) for n, p, _ in entries])
        tok = bpe.load(tokenizer)
        digest, eot = bpe.tokenizer_hash(tokenizer), bpe.eot_id(tok)
    except InputError as exc:
        raise MixtureError(str(exc)) from None
    total = sum(w for _, _, w in entries)
    sources = []
    for name, src_path, weight in entries:
        manifest = read_manifest(src_path)
        if manifest is not None:
            theirs = manifest["tokenizer"]["sha256"]
            if theirs != digest:
                raise MixtureError(f"source '{name}' was tokenized with tokenizer {theirs[:12]}, the mixture "
                                   f"uses {digest[:12]} ({tokenizer}): retokenize it or change 'tokenizer'")
        try:
            spec = index_source(name, src_path, TRAIN, seed=seed, validation_fraction=validation_fraction,
                                tokenizer=tokenizer, eot_id=eot)
        except InputError as exc:
            raise MixtureError(str(exc)) from None
        if spec.tokens == 0:
            raise MixtureError(f"source '{name}' has no training tokens ({src_path})")
        if manifest is None and spec.kind == "tokens":
            warnings.append(f"source '{name}' has no manifest.json: its tokenizer cannot be checked")
        sources.append(Source(name, src_path, weight / total, spec.tokens,
                              sum(u.documents for u in spec.units), spec.kind))
    for line in warnings:
        log.warning("mixture %s: %s", path, line)
    return Mixture(sources, budget, seed, tokenizer, digest, tok.get_vocab_size(), eot,
                   validation_fraction, warnings)


def source_specs(mixture: Mixture, split: str) -> list[SourceSpec]:
    """Each source's documents of `split`, indexed (what the trainer streams and build_mixture writes)."""
    return [index_source(s.name, s.path, split, seed=mixture.seed,
                         validation_fraction=mixture.validation_fraction,
                         tokenizer=mixture.tokenizer, eot_id=mixture.eot_id) for s in mixture.sources]


def resolve_table(mixture_or_rows, token_budget: float | None = None) -> list[dict]:
    """GPT-3 Table 2.2 for a run: per source the tokens available, the (normalised) weight, the
    tokens drawn for the budget and the epochs that makes. Takes a Mixture, or rows
    [{name, tokens, weight}] plus `token_budget`."""
    if isinstance(mixture_or_rows, Mixture):
        rows = [{"name": s.name, "tokens": s.tokens, "weight": s.weight} for s in mixture_or_rows.sources]
        budget = token_budget if token_budget is not None else mixture_or_rows.token_budget
    else:
        rows, budget = [dict(r) for r in mixture_or_rows], token_budget
        if budget is None:
            raise ValueError("resolve_table needs token_budget with plain rows")
    total = sum(r["weight"] for r in rows)
    if total <= 0:
        raise MixtureError("mixture weights sum to zero")
    table = []
    for r in rows:
        weight = r["weight"] / total
        drawn = budget * weight
        table.append({**r, "weight": weight, "drawn": drawn,
                      "epochs": drawn / r["tokens"] if r["tokens"] else float("inf")})
    return table


def _human(n: float) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.0f}"


def format_table(table: list[dict], token_budget: float | None = None) -> str:
    budget = token_budget if token_budget is not None else sum(r["drawn"] for r in table)
    header = ["source", "tokens", "weight", f"drawn ({_human(budget)} budget)", "epochs"]
    lines = [[r["name"], _human(r["tokens"]), f"{100 * r['weight']:.1f}%", _human(r["drawn"]),
              f"{r['epochs']:.2f}"] for r in table]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(next(line.strip() for line in __doc__.splitlines() if line.strip().startswith("python -m")))
        print("    python -m pipeline.tokens.mixture --gpt3       # GPT-3's own Table 2.2 as the resolver computes it")
        return 0 if argv else 2
    if argv[0] == "--gpt3":
        print(format_table(resolve_table(GPT3_TABLE, GPT3_BUDGET), GPT3_BUDGET))
        return 0
    overrides = dict((".".join(path), value) for path, value in map(parse_override, argv[1:]))
    try:
        mixture = load_mixture(argv[0], overrides)
    except MixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in mixture.warnings:
        print(f"warning: {line}")
    print(format_table(resolve_table(mixture), mixture.token_budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
