"""The GPT-3 corpus chain as data: which entry script runs after which, with which arguments.

`make demo` (pipeline/demo.py) and the Airflow DAG (dags/gpt3_corpus.py) both build from this one
list, so the chain is the same whichever way it is started. Standard library only: the DAG imports
it inside Airflow's own environment, which has no pyspark of ours.

One step runs once per shard of the crawl: `split_crawl` lists each shard's files and prints the
shards' arguments, `extract_commoncrawl` runs once per shard (Airflow: dynamic task mapping; the
demo: one after another) and `gather_commoncrawl` commits the shards as one document folder
(pipeline/readers/crawl_shards.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

# Curated sources in dedup priority order: a lower one loses its near-duplicates of a higher one
# (GPT-3: WebText fuzzily removed from CommonCrawl).
SOURCES = ("wikipedia", "books", "webtext", "commoncrawl")


@dataclass(frozen=True)
class Inputs:
    run: str            # every output goes under this folder
    crawl: str          # CommonCrawl WARC/WET files: a folder, a glob or a warc.paths.gz listing
    reddit: str         # Reddit submission dumps (Pushshift NDJSON .zst/.xz/...)
    wikipedia: str      # a MediaWiki pages-articles XML dump (.bz2)
    books: str          # a folder of plain-text books
    evals: str          # an evaluation set (JSONL) to decontaminate against
    mixture: str = "conf/gpt3_mix.yaml"
    model: str = "tiny"
    export_tokens: str = "0"   # tokens build_mixture exports (0: min(token budget, tokens on disk))
    train_overrides: tuple[str, ...] = ()
    classifier_overrides: tuple[str, ...] = ()
    crawl_shards: str = "4"    # CommonCrawl extraction jobs, each over its share of the crawl's files


@dataclass(frozen=True)
class Step:
    task_id: str
    kind: str                  # "spark": spark-submit pipeline/<target>.py; else the program `train` or `webmix`
    target: str                # the entry script, or the program's subcommand ("" for none)
    args: tuple[str, ...]
    upstream: tuple[str, ...] = ()
    # Run once per shard: the step named here prints the shards' argument lists (shard_arguments);
    # `args` then say what the runs do together.
    shards_from: str = ""
    stdout: str = ""           # a file the command's standard output is written to

    @property
    def script(self) -> str:
        return f"pipeline/{self.target}.py"

    @property
    def command(self) -> tuple[str, ...]:
        """The command line of a step that is not a Spark job (its program found on PATH)."""
        return (self.kind, *((self.target,) if self.target else ()), *self.args)


def shard_arguments(output: str) -> list[list[str]]:
    """A splitting step's output -> one argument list per shard (the JSON on its last line)."""
    return json.loads(output.strip().splitlines()[-1])


def steps(p: Inputs) -> list[Step]:
    run = p.run.rstrip("/")
    docs, dedup, curated = f"{run}/docs", f"{run}/dedup", f"{run}/curated"
    tokenizer = f"{run}/models/tokenizer"
    cc_raw, listings = f"{docs}/cc_raw", f"{run}/crawl_shards"
    chain = [
        Step("reddit_links", "spark", "reddit_links",
             ("--input", p.reddit, "--output", f"{run}/webtext/urls", "--preset", "gpt2")),
        Step("cc_index", "spark", "cc_index", ("--input", p.crawl, "--output", f"{run}/webtext/index")),
        Step("fetch_pages", "spark", "fetch_pages",
             ("--via", "ccindex", "--urls", f"{run}/webtext/urls", "--index", f"{run}/webtext/index",
              "--output", f"{run}/webtext/pages"), ("reddit_links", "cc_index")),
        Step("extract_webtext", "spark", "extract_webtext",
             ("--pages", f"{run}/webtext/pages", "--urls", f"{run}/webtext/urls", "--output", f"{docs}/webtext"),
             ("fetch_pages",)),
        # CommonCrawl extraction, one job per shard of the crawl (cc_raw/shard=NNNNN), committed as one folder.
        Step("split_crawl", "webmix", "shards",
             ("split", "--input", p.crawl, "--shards", p.crawl_shards, "--listings", listings, "--documents", cc_raw)),
        Step("extract_commoncrawl", "spark", "quality_filter", ("--input", p.crawl, "--output", cc_raw),
             ("split_crawl",), shards_from="split_crawl"),
        Step("gather_commoncrawl", "webmix", "shards", ("gather", cc_raw, "--listings", listings),
             ("extract_commoncrawl",)),
        Step("ingest_wikipedia", "spark", "ingest",
             ("--kind", "wikipedia", "--input", p.wikipedia, "--source", "wikipedia", "--output", f"{docs}/wikipedia")),
        Step("ingest_books", "spark", "ingest",
             ("--kind", "books", "--input", p.books, "--source", "books", "--output", f"{docs}/books")),
        Step("train_classifier", "spark", "train_classifier",
             ("--positives", f"{docs}/webtext", f"{docs}/wikipedia", f"{docs}/books",
              "--negatives", cc_raw, "--output", f"{run}/models/classifier", *p.classifier_overrides),
             ("extract_webtext", "ingest_wikipedia", "ingest_books", "gather_commoncrawl")),
        Step("quality_filter", "spark", "quality_filter",
             ("--input", cc_raw, "--model", f"{run}/models/classifier", "--output", f"{docs}/commoncrawl"),
             ("train_classifier",)),
        Step("dedup", "spark", "dedup",
             (*[a for s in SOURCES for a in ("--input", f"{s}={docs}/{s}")],
              "--priority", ",".join(SOURCES), "--output", dedup),
             ("quality_filter", "extract_webtext", "ingest_wikipedia", "ingest_books")),
        Step("decontaminate", "spark", "decontaminate",
             (*[a for s in SOURCES for a in ("--input", f"{s}={dedup}/{s}")],
              "--eval", f"sample={p.evals}", "--output", curated), ("dedup",)),
        Step("train_tokenizer", "spark", "train_tokenizer",
             ("--input", *[f"{curated}/{s}" for s in SOURCES], "--output", tokenizer), ("decontaminate",)),
    ]
    for source in SOURCES:
        chain.append(Step(f"tokenize_{source}", "spark", "tokenize_corpus",
                          ("--input", f"{curated}/{source}", "--tokenizer", f"{tokenizer}/tokenizer.json",
                           "--source", source, "--output", f"{run}/tokens/{source}"), ("train_tokenizer",)))
    tokenized = tuple(f"tokenize_{s}" for s in SOURCES)
    chain += [
        # An export for other trainers; ours streams tokens/ directly, so `train` does not wait on it.
        Step("build_mixture", "spark", "build_mixture",
             ("--mixture", p.mixture, "--root", run, "--output", f"{run}/mixture",
              f"build_mixture.tokens={p.export_tokens}"), tokenized),
        Step("train", "train", "",
             ("--mixture", p.mixture, f"mixture.root={run}", "--model", p.model, "--out", f"{run}/train",
              "--resume", "auto", *p.train_overrides), tokenized),
        Step("sample", "train", "sample",
             ("--checkpoint", f"{run}/train", "--prompt", "The", "--max-tokens", "60", "--num-samples", "3"),
             ("train",), stdout=f"{run}/train/samples.txt"),
        Step("report", "webmix", "report", (run,), ("build_mixture", "sample")),
    ]
    return chain
