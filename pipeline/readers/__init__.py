"""Readers: which files a job reads and how they become rows.

inputs.py          input specs (files, folders, globs, CommonCrawl listings; local, s3://, https://)
warc.py            one WARC/WET/ARC file streamed record by record (warcio), with file outcomes
warc_documents.py  WARC files -> staged documents through the document steps (pipeline/steps), a task per file
warc_write.py      HTML pages -> WARC response records (benchmark crawls, test fixtures)
corpus.py          curated text (Parquet, JSONL, plain-text folders), owned by the classifier stage
"""
