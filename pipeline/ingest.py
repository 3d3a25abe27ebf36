"""Curated sources into the document schema: MediaWiki XML dumps (Wikipedia), plain-text books with
Project Gutenberg's header and footer removed, WikiText-2 token files, and generic JSONL / Parquet /
.txt corpora -> Parquet documents with `_stats.json` (see docs/ingest.md)."""
import sys

from pipeline.curated.ingest_job import IngestJob

if __name__ == "__main__":
    sys.exit(IngestJob().main())
