import json

import pytest
from warcio.archiveiterator import ArchiveIterator


@pytest.fixture(scope="session")
def quality_sample(tmp_path_factory):
    """The embedded sample as two JSONL files (two read tasks, not one per text file): positives
    from its curated articles and book chapters, negatives from its crawl's HTML pages through
    the extractor (GPT-3's negatives are unfiltered CommonCrawl)."""
    from pipeline.sample import generate
    from pipeline.text.extract import extract_text

    root = tmp_path_factory.mktemp("quality-sample")
    generate(root / "sample", seed=0)
    rows = []
    for path in sorted((root / "sample" / "crawl").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                content_type = record.http_headers.get_header("Content-Type") if record.http_headers else ""
                if record.rec_type == "response" and record.http_headers.get_statuscode() == "200" \
                        and "html" in (content_type or ""):
                    text = extract_text(record.content_stream().read(), record.rec_headers.get_header("WARC-Target-URI"))
                    if text.strip():
                        rows.append({"id": record.rec_headers.get_header("WARC-Record-ID"), "text": text,
                                     "url": record.rec_headers.get_header("WARC-Target-URI")})
    negatives = root / "negatives.jsonl"
    negatives.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    curated = root / "sample" / "curated"
    docs = [{"id": p.name, "text": p.read_text(encoding="utf-8")}
            for p in sorted((curated / "wikipedia" / "text").glob("*.txt"))]
    for book in sorted((curated / "books").glob("*.txt")):
        for i, chapter in enumerate(book.read_text(encoding="utf-8").split("CHAPTER ")[1:]):
            docs.append({"id": f"{book.name}#{i}", "text": chapter})
    positives = root / "positives.jsonl"
    positives.write_text("".join(json.dumps(r) + "\n" for r in docs), encoding="utf-8")
    return root / "sample", positives, negatives
