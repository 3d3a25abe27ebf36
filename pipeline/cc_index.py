"""Any WARC files -> a CommonCrawl-style columnar URL index (the cc-index table's columns:
url_surtkey, url, fetch_time, fetch_status, content_mime_type, warc_filename, warc_record_offset,
warc_record_length, crawl, subset), so WebText fetching reads a local crawl and CommonCrawl alike."""
import sys

from pipeline.webtext.index_job import CcIndexJob

if __name__ == "__main__":
    sys.exit(CcIndexJob().main())
