"""Exact and fuzzy (MinHash LSH) deduplication of document folders, within each source and then
across sources in priority order; writes the kept documents per source, a table of removed ids with
their cluster and survivor, and _stats.json."""
import sys

from pipeline.neardup.dedup_job import DedupJob

if __name__ == "__main__":
    sys.exit(DedupJob().main())
