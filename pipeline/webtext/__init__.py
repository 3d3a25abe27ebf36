"""WebText (GPT-2): Reddit links -> URL table -> pages (CommonCrawl index ranges or a polite
crawler) as WARC -> documents through the one WARC reader and extractor."""
