"""The ingest Job: one kind of curated source -> Parquet in the document schema + `_stats.json`."""
from __future__ import annotations

import argparse
import re
from typing import Any

from pipeline.core.config import ConfigError, InputError
from pipeline.core.job import Job
from pipeline.core.schema import KEPT
from pipeline.readers import corpus
from pipeline.readers.read_plan import ReadPlan, row_plan

KINDS = ("wikipedia", "books", "wikitext2", "jsonl", "parquet", "text", "raw_pages")
DEFAULT_SOURCE = {"wikipedia": "wikipedia", "books": "books", "wikitext2": "wikitext2"}
GENERIC_FORMATS = {"jsonl": ("jsonl",), "parquet": ("parquet", "docs"), "text": ("txt",)}
OVERRIDE = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)+=")

EXAMPLES = """
examples:
  spark-submit pipeline/ingest.py --kind wikipedia --input enwiki-pages-articles-multistream.xml.bz2 \\
      --output curated/wikipedia ingest.wikipedia_min_chars=1000
  spark-submit pipeline/ingest.py --kind books --input gutenberg/ --output curated/books \\
      --chunk-words 2000
  spark-submit pipeline/ingest.py --kind wikitext2 --input wiki.valid.tokens --output curated/wikitext2
  spark-submit pipeline/ingest.py --kind jsonl --input 'openwebtext/*.jsonl.gz' --source webtext \\
      --output curated/webtext --text-field text --id-field id --url-field url
  spark-submit pipeline/ingest.py --kind text --input notes/ --source notes --txt-mode blocks \\
      --output curated/notes
  spark-submit pipeline/ingest.py --kind raw_pages --input 'cc_raw/*.jsonl.zst' 'cs336/*.txt' \\
      --source commoncrawl --output curated/cc_raw
"""


class IngestJob(Job):
    name = "ingest"
    description = (
        "Turn a curated source into Parquet in the document schema, with _stats.json beside it: "
        "MediaWiki XML dumps (wikipedia), plain-text books with Project Gutenberg boilerplate removed "
        "(books), WikiText-2/-103 token files (wikitext2), generic JSONL / Parquet / .txt corpora, or "
        "raw CommonCrawl pages (raw_pages: local HPLT .jsonl.zst records, HTML through the extractor, "
        "and CS336 dumps, pipeline/quality/raw_pages.py). "
        "Bad input (truncated bz2, unparsable page, non-UTF-8 file, empty file, bad JSON line) is "
        "counted under a named reason and skipped.\n" + EXAMPLES)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", required=True, choices=KINDS, help="what the inputs are")
        parser.add_argument("--input", required=True, nargs="+", action="extend", metavar="SPEC",
                            help="files, folders or globs (local, s3://, …); repeatable")
        parser.add_argument("--output", required=True, help="output folder (Parquet, document schema)")
        parser.add_argument("--source", help="the documents' `source` (default: the kind for "
                            "wikipedia/books/wikitext2; required for jsonl/parquet/text)")
        parser.add_argument("--text-field", help="shorthand for ingest.text_field")
        parser.add_argument("--id-field", help="shorthand for ingest.id_field")
        parser.add_argument("--url-field", help="shorthand for ingest.url_field")
        parser.add_argument("--txt-mode", choices=("file", "blocks"), help="shorthand for ingest.txt_mode")
        parser.add_argument("--chunk-words", type=int, help="shorthand for ingest.books_chunk_words")

    def flag_overrides(self, args: argparse.Namespace) -> list[str]:
        # `--input a b key=value`: argparse gives trailing overrides to --input; take them back.
        overrides = [s for s in args.input if OVERRIDE.match(s)]
        args.input = [s for s in args.input if not OVERRIDE.match(s)]
        flags = {"text_field": args.text_field, "id_field": args.id_field,
                 "url_field": args.url_field, "txt_mode": args.txt_mode,
                 "books_chunk_words": args.chunk_words}
        return [f"ingest.{k}={v}" for k, v in flags.items() if v is not None] + overrides

    def validate(self, args: argparse.Namespace, config: dict) -> None:
        section = config["ingest"]
        if not args.input:
            raise InputError("--input names no input")
        if args.source is None and args.kind not in DEFAULT_SOURCE:
            raise InputError(f"--source is required for --kind {args.kind}")
        for key in ("wikipedia_min_chars", "books_chunk_words", "books_min_chars", "min_chars",
                    "wikitext2_min_chars"):
            if section[key] < 0:
                raise ConfigError(f"config key 'ingest.{key}' must be >= 0, got {section[key]}")
        for key in ("batch_rows", "split_bytes", "wikipedia_split_bytes"):
            if section[key] <= 0:
                raise ConfigError(f"config key 'ingest.{key}' must be > 0, got {section[key]}")
        if section["txt_mode"] not in ("file", "blocks"):
            raise ConfigError(f"config key 'ingest.txt_mode' must be file or blocks, "
                              f"got {section['txt_mode']!r}")
        self.inputs = self._plan(args, section)

    def _plan(self, args, section: dict) -> list[str]:
        """Resolve the inputs (missing ones and wrong field names fail here, before Spark)."""
        if args.kind == "wikipedia":
            from pipeline.curated.wikipedia import list_dumps
            return [path for path, _, _ in list_dumps(args.input)]
        if args.kind == "raw_pages":
            from pipeline.quality.raw_pages import raw_page_files
            try:
                return raw_page_files(args.input)
            except ValueError as exc:
                raise InputError(f"--input {exc}") from None
        formats = GENERIC_FORMATS.get(args.kind, ("txt",))
        tasks = corpus.list_tasks(args.input, section["split_bytes"], kinds=formats)
        if args.kind in GENERIC_FORMATS:
            corpus.check_fields(tasks, section["text_field"], section["id_field"],
                                section["url_field"], section["date_field"])
        return sorted({t.path for t in tasks})

    def fingerprint_inputs(self, args: argparse.Namespace, config: dict) -> list[str]:
        return self.inputs

    def plan(self, args: argparse.Namespace, config: dict) -> ReadPlan:
        source = args.source or DEFAULT_SOURCE[args.kind]
        if args.kind == "wikipedia":
            from pipeline.curated.wikipedia import plan_wikipedia
            return plan_wikipedia(args.input, source, config)
        if args.kind == "books":
            from pipeline.curated.books import plan_books
            return plan_books(args.input, source, config)
        if args.kind == "wikitext2":
            from pipeline.curated.wikitext2 import plan_wikitext2
            return plan_wikitext2(args.input, source, config)
        section = config["ingest"]
        if args.kind == "raw_pages":   # one task per file: the files are small local samples
            from pipeline.quality.raw_pages import page_rows
            return row_plan(self.inputs, lambda path: page_rows(path, source), section["batch_rows"])
        return corpus.plan_corpus(
            args.input, source, config, text_field=section["text_field"],
            id_field=section["id_field"], url_field=section["url_field"],
            date_field=section["date_field"], txt_mode=section["txt_mode"],
            formats=GENERIC_FORMATS[args.kind])

    def run(self, spark, args: argparse.Namespace, config: dict) -> dict[str, Any]:
        from pipeline.core.stats import funnel

        # The tasks write the documents themselves (pyarrow), and count every row's reason as they
        # go: no row crosses into the JVM (measured in bench/ingest.py).
        written = self.plan(args, config).write(spark, args.output)
        counts = written["reasons"]
        steps = (["read", args.kind] if args.kind in DEFAULT_SOURCE
                 else ["read", "extract"] if args.kind == "raw_pages" else ["read"])
        return {
            "kind": args.kind, "source": args.source or DEFAULT_SOURCE[args.kind],
            "inputs": args.input, "documents_in": sum(counts.values()),
            "documents_out": counts.get(KEPT, 0), "chars_out": written["chars"],
            "drop_reasons": {r: n for r, n in sorted(counts.items()) if r != KEPT},
            "funnel": funnel(counts, steps), "files": len(written["files"]),
        }
