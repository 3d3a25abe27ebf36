"""Readers for the raw CommonCrawl formats the generic corpus reader does not know, read on the
driver (they are small samples) and returned as (id, text) rows plus counts of what was skipped.

- HPLT warc2text-runner records (`*.jsonl.zst`, raw HTML in field `h`, URL in `u`): the HTML goes
  through the project's extractor (pipeline.text.extract), so the negatives look like the pages the
  filter sees. Decoded line by line: a line that is not valid UTF-8 is skipped as `read:bad_utf8`.
  The same 100 pages also exist as pre-extracted text (`hplt_sample100_CC_warc2text.jsonl.gz`):
  read only one of the two.
- CS336 CC-MAIN-2025-18 dumps (`*.txt` whose first line is exactly 32 dashes): a record is the
  text after the line `text: ` that follows a dash line; the `LABEL:`/`LANGUAGE:` header lines are
  a student's filter output and are ignored, never used as labels.

The classifier reads them on the driver (read_raw_pages); `ingest --kind raw_pages` (the ablation's
CommonCrawl source) reads one file per Spark task through the same readers (page_rows).
"""
from __future__ import annotations

import glob
import io
import json
import logging
from collections import Counter
from pathlib import Path

log = logging.getLogger("webmix.classifier")

CS336_SEPARATOR = "-" * 32
CS336_TEXT_PREFIX = "text: "


def is_hplt_html(path: str) -> bool:
    return path.endswith(".jsonl.zst") and _first_hplt_record(path)


def _first_hplt_record(path: str) -> bool:
    import zstandard

    with open(path, "rb") as fh:
        line = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh)).readline()
    try:
        return "h" in json.loads(line)
    except ValueError:
        return False


def is_cs336_dump(path: str) -> bool:
    if not path.endswith(".txt"):
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.readline().rstrip("\n") == CS336_SEPARATOR


def is_raw_page_file(path: str) -> bool:
    """True for a local file in one of this module's formats."""
    return Path(path).is_file() and (is_hplt_html(path) or is_cs336_dump(path))


def read_hplt_html(path: str, counts: Counter) -> list[dict]:
    import zstandard

    from pipeline.text.extract import extract_page

    rows = []
    with open(path, "rb") as fh:
        lines = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
        for n, raw in enumerate(lines):
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                counts["read:bad_utf8"] += 1
                continue
            except ValueError:
                counts["read:bad_json"] += 1
                continue
            html = record.get("h")
            if not isinstance(html, str) or not html:
                counts["read:missing_html"] += 1
                continue
            text, reason = extract_page(html.encode("utf-8", "surrogatepass"), record.get("u") or "")
            if reason:
                counts[f"extract:{reason}"] += 1
                continue
            rows.append({"id": f"{Path(path).name}@{n}", "text": text})
    return rows


def read_cs336_dump(path: str, counts: Counter) -> list[dict]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        blocks = fh.read().split(f"\n{CS336_SEPARATOR}\n")
    rows = []
    for n, block in enumerate(blocks):
        lines = block.strip("\n").split("\n")
        start = next((i for i, line in enumerate(lines) if line.startswith(CS336_TEXT_PREFIX)), None)
        if start is None:
            continue    # the empty space between a closing and an opening dash line
        text = "\n".join([lines[start][len(CS336_TEXT_PREFIX):], *lines[start + 1:]]).strip()
        if text:
            rows.append({"id": f"{Path(path).name}#{n}", "text": text})
        else:
            counts["read:missing_text"] += 1
    return rows


def raw_page_files(specs: list[str]) -> list[str]:
    """The local files of these paths or globs, sorted; ValueError names a spec that matches nothing
    or a file in neither format (a config mistake, not bad input)."""
    files = []
    for spec in specs:
        matched = sorted(glob.glob(spec))
        if not matched:
            raise ValueError(f"{spec}: no such file")
        odd = next((f for f in matched if not is_raw_page_file(f)), None)
        if odd is not None:
            raise ValueError(f"{odd}: neither an HPLT .jsonl.zst with raw HTML nor a CS336 dump")
        files += matched
    return sorted(set(files))


def page_rows(path: str, source: str) -> list[dict]:
    """One file's pages as documents, and one dropped row per skipped record under its reason."""
    from pipeline.readers.corpus import document, dropped

    counts: Counter = Counter()
    rows = read_hplt_html(path, counts) if is_hplt_html(path) else read_cs336_dump(path, counts)
    name = Path(path).name
    skipped = [dropped(f"{name}!{reason}#{i}", reason, source)
               for reason, n in sorted(counts.items()) for i in range(n)]
    return [document(r["id"], r["text"], source) for r in rows] + skipped


def read_raw_pages(paths: list[str]) -> tuple[list[dict], dict]:
    """Rows of every file (in the order given) and the counts of skipped records by reason."""
    counts: Counter = Counter()
    rows: list[dict] = []
    for path in paths:
        rows += read_hplt_html(path, counts) if is_hplt_html(path) else read_cs336_dump(path, counts)
    for reason, n in sorted(counts.items()):
        log.info("raw pages: %d records skipped (%s)", n, reason)
    return rows, dict(counts)
