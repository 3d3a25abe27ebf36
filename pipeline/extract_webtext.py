"""Fetched WebText pages -> documents (source = webtext): the one WARC reader and extractor
(read -> extract -> langid -> heuristics), Reddit karma, submissions, subreddits and first-seen time
joined into `meta`, and near-empty, "enable JavaScript" and "are you a robot" pages dropped."""
import sys

from pipeline.webtext.extract_job import ExtractWebtextJob

if __name__ == "__main__":
    sys.exit(ExtractWebtextJob().main())
