"""An ablation config -> the Spark stage runs that make every variant's corpus, in order.

Variants share stage outputs wherever their recipes agree: one extraction per input, one filter
run per distinct (source, steps, classifier) — `raw_cc` and `heuristics` are two quality_filter runs
over the same extracted documents. A mixture variant's sources are corpora of their own (another
variant's, or text ingested as it is), decontaminated and tokenized like the variants, then
build_mixture writes the variant's rows. Every stage is an ordinary `pipeline/<stage>.py` job, so a rerun
skips a stage whose output is complete for the same fingerprint (pipeline/core/job.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pipeline.ablation.config import AblationConfig, Source, TextInput, mixture_weights

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
    # corpus -> its document folder: every plain variant, and each mixture source read as text
    corpus: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, list[str]] = field(default_factory=dict)   # variant or corpus -> the stages it needs
    mixtures: dict[str, dict[str, str]] = field(default_factory=dict)   # mixture variant -> source -> corpus
    # a JSONL file to write before the stages run -> (the input files, their text field): the WebText
    # inputs less the hold-out slice (drop_heldout)
    heldout_free: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def add(self, stage: StageRun) -> StageRun:
        if all(s.name != stage.name for s in self.stages):
            self.stages.append(stage)
        return stage


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


def extract_stage(plan: Plan, cfg: AblationConfig, run: str, source: str, position: int,
                  spec: TextInput) -> StageRun:
    name = f"extract_{source}_{spec.name or f'{spec.kind}{position}'}"
    out = f"{run}/stages/{name}"
    inputs = [cfg.resolve(p) for p in spec.input]
    if spec.drop_heldout:
        plan.heldout_free[f"{run}/inputs/{name}.jsonl"] = (inputs, spec.text_field)
        inputs, spec = [f"{run}/inputs/{name}.jsonl"], spec.model_copy(update={"text_field": "text"})
    if spec.kind == "warc":   # extraction only: the variants' own filter runs apply their steps
        args = ("--input", *inputs, "--output", out, *STEP_OFF.values())
        return plan.add(StageRun(name, "quality_filter", args, out))
    args = ("--kind", spec.kind, "--input", *inputs, "--source", source, "--output", out)
    text_field = ("--text-field", spec.text_field) if spec.kind == "jsonl" else ()
    return plan.add(StageRun(name, "ingest", args + text_field, out))


def filter_args(source: Source) -> tuple[str, ...]:
    args = [STEP_OFF[s] for s in STEP_OFF if s not in source.steps]
    if "quality" in source.steps:
        args += ["--model", source.model] + (["--alpha", str(source.alpha)] if source.alpha else [])
    return tuple(args)


def build_plan(cfg: AblationConfig, run: str) -> Plan:
    plan = Plan()
    for variant, spec in cfg.variants.items():
        source = spec.source
        if source is None:   # a mixture: its sources below, once every variant has its corpus
            continue
        name = "commoncrawl" if spec.commoncrawl else variant
        inputs = cfg.commoncrawl if spec.commoncrawl else source.input
        extracted = [extract_stage(plan, cfg, run, name, i, t) for i, t in enumerate(inputs)]
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
    for variant, spec in cfg.mixtures.items():
        plan.mixtures[variant] = {}
        for source, given in spec.sources.items():
            corpus = given.variant or f"{variant}__{source}"
            if given.text is not None:
                stage = extract_stage(plan, cfg, run, corpus, 0, given.text)
                plan.corpus[corpus], plan.lineage[corpus] = stage.output, [stage.name]
            plan.mixtures[variant][source] = corpus
    return plan


def mixture_spec(cfg: AblationConfig, plan: Plan, run: str, variant: str, seed: int) -> dict:
    """The mixture YAML `train` (and build_mixture) read for one variant and seed: the variant's
    token folder alone, or a mixture variant's sources with the weights of its mixture file."""
    weights = mixture_weights(cfg, variant) if variant in plan.mixtures else {variant: 1.0}
    corpus = plan.mixtures.get(variant, {variant: variant})
    return {"seed": seed, "token_budget": cfg.train_tokens, "root": run,
            "sources": [{"name": s, "path": f"tokens/{corpus[s]}", "weight": w} for s, w in weights.items()]}


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
    for corpus in plan.corpus:
        plan.add(StageRun(f"tokenize_{corpus}", "tokenize_corpus",
                          ("--input", f"{clean}/{corpus}", "--tokenizer", f"{tokenizer}/tokenizer.json",
                           "--source", corpus, "--output", f"{run}/tokens/{corpus}"),
                          f"{run}/tokens/{corpus}", ("train_tokenizer",)))
        plan.lineage[corpus] += ["decontaminate", "train_tokenizer", f"tokenize_{corpus}"]


def mixture_stages(plan: Plan, run: str, block: int, tokens: int) -> None:
    """build_mixture per mixture variant: the rows its first seed trains on (RUN/mixtures/<v>.yaml,
    written by the runner), Parquet, as `train` streams them; its manifest counts rows per source."""
    for variant, sources in plan.mixtures.items():
        out = f"{run}/stages/mixture_{variant}"
        stage = plan.add(StageRun(f"mixture_{variant}", "build_mixture",
                                  ("--mixture", f"{run}/mixtures/{variant}.yaml", "--output", out,
                                   f"build_mixture.block_size={block}", f"build_mixture.tokens={tokens}",
                                   "build_mixture.formats=[parquet]"),
                                  out, tuple(f"tokenize_{c}" for c in sources.values())))
        needed = [s for c in sources.values() for s in plan.lineage[c]]
        plan.lineage[variant] = list(dict.fromkeys(needed)) + [stage.name]
