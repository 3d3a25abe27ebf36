"""The WebText URL table -> WARC files of the pages: through a CommonCrawl-style columnar index
(`--via ccindex`: best capture per URL, read by byte range from local, s3:// or https:// WARCs) or
a polite crawler (`--via http`: robots.txt, per-host delay, timeouts, size caps, address checks).
Both write WARC and a per-URL fetch log; a rerun skips what is already fetched."""
import sys

from pipeline.webtext.fetch_job import FetchPagesJob

if __name__ == "__main__":
    sys.exit(FetchPagesJob().main())
