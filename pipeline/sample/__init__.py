"""The embedded sample data set that `make demo` and many tests run on, generated on demand from
text every Python installation has (standard-library docstrings and pydoc's topics) plus small
hand-written banks of web junk and non-English sentences; no network, no real data.

    from pipeline.sample import generate
    manifest = generate("runs/sample", seed=0)      # or: webmix sample runs/sample

Writes (see docs/sample_data.md): crawl/*.warc.gz (a labelled crawl: articles, web junk, non-English
pages, duplicates, non-HTML and non-200 responses) with crawl/labels.jsonl and crawl/warc.paths.gz;
reddit/RS_2017-0[67].zst (Pushshift NDJSON linking crawl pages); curated/wikipedia/{text,dump}/ and
curated/books/ (positives for the classifier); eval/sample_eval.jsonl (decontamination); manifest.json.
"""
from pipeline.sample.generator import generate

__all__ = ["generate"]
