"""Typed stage summaries: what the report shows of a stage, read from the `_stats.json` its job
writes. Each job has its own summary function, registered under the job's name with `@summary`
(one small function per job instead of an `if job == ...` chain); a job without one gets the
document-stage default (documents_in / documents_out, or its funnel). A new stage that writes
other fields adds one function here."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from pipeline.core.schema import KEPT
from pipeline.report.formats import human, num


@dataclass
class StageSummary:
    """Records into and out of a stage, every drop reason (`step:reason`) with its count, and a few
    words of what else it did."""
    unit: str = "documents"
    docs_in: int | None = None
    docs_out: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    facts: str = ""


Summarize = Callable[[dict, dict[str, int]], StageSummary]
_summaries: dict[str, Summarize] = {}


def summary(job: str) -> Callable[[Summarize], Summarize]:
    """Register the summary of a job's statistics (called with the stats and their drop reasons)."""
    def add(fn: Summarize) -> Summarize:
        _summaries[job] = fn
        return fn
    return add


def summarize(stats: dict) -> StageSummary:
    reasons = {k: v for k, v in (stats.get("drop_reasons") or {}).items() if k != KEPT and isinstance(v, int)}
    return _summaries.get(stats.get("job"), documents)(stats, reasons)


def documents(s: dict, reasons: dict[str, int]) -> StageSummary:
    """A document stage: documents_in / documents_out, else the ends of its funnel."""
    docs_in, docs_out = s.get("documents_in"), s.get("documents_out")
    funnel = s.get("funnel")
    if docs_in is None and isinstance(funnel, list) and funnel:
        docs_in, docs_out = funnel[0].get("in"), funnel[-1].get("out")
    return StageSummary("documents", docs_in, docs_out, reasons)


def _sum(*values) -> int | None:
    return sum(values) if all(isinstance(v, int) for v in values) else None


@summary("reddit_links")
def reddit_links(s: dict, reasons: dict[str, int]) -> StageSummary:
    funnel = s.get("funnel") or [{}]
    return StageSummary("submissions", funnel[0].get("in"), funnel[-1].get("out"), reasons,
                        f"{num(s.get('urls_out'))} URLs; {num(s.get('duplicate_submissions_merged'))} duplicate "
                        "submissions merged")


@summary("cc_index")
def cc_index(s: dict, reasons: dict[str, int]) -> StageSummary:
    statuses = ", ".join(f"{k}: {num(v)}" for k, v in (s.get("records_by_status") or {}).items())
    return StageSummary("index records", None, s.get("records"),
                        {k: v for k, v in (s.get("files_failed") or {}).items() if isinstance(v, int)},
                        f"{num(s.get('files'))} files; status {statuses}")


@summary("fetch_pages")
def fetch_pages(s: dict, reasons: dict[str, int]) -> StageSummary:
    return StageSummary("URLs", s.get("attempted"), s.get("fetched"), reasons,
                        f"via {s.get('via')}; {num(s.get('warc_files'))} WARC files")


@summary("classifier")
def classifier(s: dict, reasons: dict[str, int]) -> StageSummary:
    counts, auc = s.get("counts") or {}, s.get("held_out_roc_auc") or {}
    return StageSummary("documents", _sum(counts.get("positives_in"), counts.get("negatives_in")),
                        _sum(counts.get("train"), counts.get("held_out")), {},
                        f"{s.get('features')} features; ROC AUC {num(auc.get('auc'))} "
                        f"[{num(auc.get('low'))}, {num(auc.get('high'))}]")


@summary("quality_filter")
def quality_filter(s: dict, reasons: dict[str, int]) -> StageSummary:
    files = s.get("files") or {}
    facts = (f"alpha {num(s['alpha'])}, seed {num(s.get('seed'))}" if "alpha" in s
             else f"{num(files.get('files'))} WARC files, {num(files.get('records'))} records")
    return StageSummary(**{**documents(s, reasons).__dict__, "facts": facts})


@summary("ingest")
def ingest(s: dict, reasons: dict[str, int]) -> StageSummary:
    return StageSummary(**{**documents(s, reasons).__dict__,
                           "facts": f"{s.get('kind')}; {human(s.get('chars_out'))} characters"})


@summary("dedup")
def dedup(s: dict, reasons: dict[str, int]) -> StageSummary:
    return StageSummary(**{**documents(s, reasons).__dict__, "facts": f"removed {num(s.get('removed_total'))}; "
                                                                      f"LSH {(s.get('lsh') or {}).get('preset')}"})


@summary("decontaminate")
def decontaminate(s: dict, reasons: dict[str, int]) -> StageSummary:
    totals: Counter = Counter()
    for counts in (s.get("rows_by_reason") or {}).values():
        totals.update({k: v for k, v in counts.items() if isinstance(v, int)})
    pieces = sum((s.get("pieces_kept") or {}).values()) + totals.get("decontam:short_piece", 0)
    return StageSummary("documents", sum(totals.values()) - pieces if totals else None, totals.get(KEPT),
                        {k: v for k, v in sorted(totals.items()) if k != KEPT},
                        f"mode {s.get('mode')}; {num(s.get('eval_ngrams'))} eval n-grams")


@summary("tokenizer")
def tokenizer(s: dict, reasons: dict[str, int]) -> StageSummary:
    return StageSummary("documents", s.get("sample_documents"), None, {},
                        f"vocab {num(s.get('vocab_size'))}; {s.get('mode')}")


@summary("tokenize_corpus")
def tokenize_corpus(s: dict, reasons: dict[str, int]) -> StageSummary:
    tokens = s.get("tokens") or {}
    return StageSummary(**{**documents(s, reasons).__dict__, "facts": f"{human(tokens.get('train'))} train / "
                                                                      f"{human(tokens.get('validation'))} validation tokens"})


@summary("build_mixture")
def build_mixture(s: dict, reasons: dict[str, int]) -> StageSummary:
    return StageSummary("rows", None, s.get("rows"), {}, f"{human(s.get('tokens'))} tokens in {num(s.get('shards'))} shards")
