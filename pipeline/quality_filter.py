"""GPT-3's CommonCrawl quality filter: read WARC/WET files (or already-extracted documents), extract
the main text, identify the language, apply the Gopher/C4 heuristics, score each document with the
saved logistic-regression classifier and keep it iff a Lomax(alpha) draw from (seed, id) exceeds
1 - score. Writes Parquet documents and _stats.json. See docs/quality_filter.md."""
import sys

from pipeline.quality.filter_job import QualityFilterJob

if __name__ == "__main__":
    sys.exit(QualityFilterJob().main())
