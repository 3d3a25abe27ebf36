"""An ablation config -> the Spark stage runs that make every variant's corpus, in order.

Variants share stage outputs wherever their recipes agree: one extraction per input, one filter
run per distinct (source, steps, classifier) — `raw_cc` and `heuristics` are two quality_filter runs
over the same extracted documents. Every stage is an ordinary `pipeline/<stage>.py` job, so a rerun
skips a stage whose output is complete for the same fingerprint (pipeline/core/job.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pipeline.ablation.config import AblationConfig, Source, TextInput

# A step absent from a variant's list is switched off through quality_filter's own settings.
STEP_OFF = {"langid": "langid.languages=[]", "heuristics": "heuristics.enabled=false"}


@dataclass(frozen=True)
class StageRun:
    name: str                   # unique within the ablation, the log's name
    script: str                 # pipeline/<script>.py
    args: tuple[str, ...]
    output: str
    upstream: tuple[str, ...] = ()


@dataclass
class Plan:
    stages: list[StageRun] = field(default_factory=list)
    corpus: dict[str, str] = field(default_factory=dict)          # variant -> its document folder
    lineage: dict[str, list[str]] = field(default_factory=dict)   # variant -> the stages it needs

    def add(self, stage: StageRun) -> StageRun:
        if all(s.name != stage.name for s in self.stages):
            self.stages.append(stage)
        return stage


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


def extract_stage(cfg: AblationConfig, run: str, source: str, position: int, spec: TextInput) -> StageRun:
    name = f"extract_{source}_{spec.name or f'{spec.kind}{position}'}"
    out = f"{run}/stages/{name}"
    inputs = [cfg.resolve(p) for p in spec.input]
    if spec.kind == "warc":   # extraction only: the variants' own filter runs apply their steps
        return StageRun(name, "quality_filter", ("--input", *inputs, "--output", out, *STEP_OFF.values()), out)
    args = ("--kind", spec.kind, "--input", *inputs, "--source", source, "--output", out)
    return StageRun(name, "ingest", args + (("--text-field", spec.text_field) if spec.kind == "jsonl" else ()), out)


def filter_args(source: Source) -> tuple[str, ...]:
    args = [STEP_OFF[s] for s in STEP_OFF if s not in source.steps]
    if "quality" in source.steps:
        args += ["--model", source.model] + (["--alpha", str(source.alpha)] if source.alpha else [])
    return tuple(args)


def build_plan(cfg: AblationConfig, run: str) -> Plan:
    plan = Plan()
    for variant, spec in cfg.variants.items():
        source = spec.source
        name = "commoncrawl" if spec.commoncrawl else variant
        inputs = cfg.commoncrawl if spec.commoncrawl else source.input
        extracted = [plan.add(extract_stage(cfg, run, name, i, t)) for i, t in enumerate(inputs)]
        args = filter_args(source)
        key = f"{name}_{'_'.join(source.steps)}_{_key(args)}"
        filtered = plan.add(StageRun(
            f"filter_{key}", "quality_filter",
            ("--input", *[s.output for s in extracted], "--output", f"{run}/stages/filter_{key}", *args),
            f"{run}/stages/filter_{key}", tuple(s.name for s in extracted)))
        last, folder = filtered, filtered.output
        if source.dedup:
            last = plan.add(StageRun(f"dedup_{key}", "dedup",
                                     ("--input", f"{name}={filtered.output}", "--priority", name,
                                      "--output", f"{run}/stages/dedup_{key}"),
                                     f"{run}/stages/dedup_{key}", (filtered.name,)))
            folder = f"{last.output}/{name}"
        plan.corpus[variant] = folder
        plan.lineage[variant] = [s.name for s in extracted] + [filtered.name] + ([last.name] if source.dedup else [])
    return plan


def corpus_stages(plan: Plan, run: str, heldout_files: list[str], tasks: list[str], vocab_size: int) -> None:
    """Decontamination of every variant against every held-out set, the one tokenizer (trained on the
    union of the decontaminated variants, so on nothing held out) and each variant's token folder."""
    clean = f"{run}/stages/decontaminated"
    evals = [a for f in heldout_files for a in ("--eval", f)] + [a for t in tasks for a in ("--eval", t)]
    plan.add(StageRun("decontaminate", "decontaminate",
                      (*[a for v, d in plan.corpus.items() for a in ("--input", f"{v}={d}")], *evals,
                       "--output", clean), clean))
    tokenizer = f"{run}/tokenizer"
    plan.add(StageRun("train_tokenizer", "train_tokenizer",
                      ("--input", *[f"{clean}/{v}" for v in plan.corpus], "--output", tokenizer,
                       f"tokenizer.vocab_size={vocab_size}"), tokenizer, ("decontaminate",)))
    for variant in plan.corpus:
        plan.add(StageRun(f"tokenize_{variant}", "tokenize_corpus",
                          ("--input", f"{clean}/{variant}", "--tokenizer", f"{tokenizer}/tokenizer.json",
                           "--source", variant, "--output", f"{run}/tokens/{variant}"),
                          f"{run}/tokens/{variant}", ("train_tokenizer",)))
        plan.lineage[variant] += ["decontaminate", "train_tokenizer", f"tokenize_{variant}"]
