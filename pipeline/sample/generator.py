"""`generate(out_dir, seed, scale)`: the whole embedded sample data set, deterministic per seed."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from pipeline.core.hashing import file_sha256
from pipeline.sample import crawl, curated, reddit_dump
from pipeline.sample.documents import deal, rng_for

FORMAT_VERSION = 1
EVAL_FROM_PAGES = 6         # evaluation examples copied from crawl articles (contamination)
EVAL_PASSAGE_WORDS = 40


def _jsonl(path: Path, rows) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


def _eval_set(pages: list[crawl.Page], reddit_rows: list[dict], eval_docs, seed: int) -> list[dict]:
    """A tiny benchmark: passages copied from some sample articles (half of them linked from
    Reddit, so WebText carries them too) and passages found nowhere in the sample."""
    rng = rng_for(seed, "eval")
    linked = {r["url"] for r in reddit_rows if r["_expect"] == "link"}
    articles = [p for p in pages if p.kind == "article"]
    picks = (rng.sample([p for p in articles if p.url in linked], EVAL_FROM_PAGES // 2)
             + rng.sample([p for p in articles if p.url not in linked], EVAL_FROM_PAGES - EVAL_FROM_PAGES // 2))
    rows = []
    for page in picks:
        words = page.text.split()
        start = rng.randrange(max(1, len(words) - EVAL_PASSAGE_WORDS))
        page.in_eval = True
        rows.append({"text": " ".join(words[start:start + EVAL_PASSAGE_WORDS]), "contaminated": True})
    for doc in eval_docs[: 2 * EVAL_FROM_PAGES]:
        words = doc.text.split()
        rows.append({"text": " ".join(words[:EVAL_PASSAGE_WORDS]), "contaminated": False})
    rng.shuffle(rows)
    return [{"id": f"sample-eval-{i:03d}", **row} for i, row in enumerate(rows)]


def generate(out_dir, seed: int = 0, scale: int = 1) -> dict:
    """Write the sample under `out_dir` and return its manifest (also written as manifest.json)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    out = Path(out_dir)
    for sub in ("crawl", "reddit", "curated/wikipedia", "curated/books", "eval"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    parts = deal(seed)
    pages = crawl.plan_pages(parts["crawl"], seed, scale)
    reddit_rows = reddit_dump.submissions(pages, seed, scale)
    eval_rows = _eval_set(pages, reddit_rows, parts["eval"], seed)

    warc_names, labels = crawl.write_warcs(out / "crawl", pages, seed, n_files=4 * scale)
    with gzip.GzipFile(out / "crawl" / "warc.paths.gz", "wb", mtime=0) as fh:
        fh.write("".join(f"crawl/{name}\n" for name in warc_names).encode())
    _jsonl(out / "crawl" / "labels.jsonl", labels)
    reddit_names = reddit_dump.write_dump(out / "reddit", reddit_rows)
    _jsonl(out / "reddit" / "labels.jsonl",
           [{"id": r["id"], "url": r["url"], "expect": r["_expect"]} for r in reddit_rows])
    wiki = curated.write_wikipedia(out / "curated" / "wikipedia", parts["wikipedia"], seed)
    books = curated.write_books(out / "curated" / "books", parts["books"], seed)
    _jsonl(out / "eval" / "sample_eval.jsonl", [{"id": r["id"], "text": r["text"]} for r in eval_rows])
    _jsonl(out / "eval" / "labels.jsonl", [{"id": r["id"], "contaminated": r["contaminated"]} for r in eval_rows])

    kinds: dict[str, int] = {}
    for row in labels:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "format_version": FORMAT_VERSION, "seed": seed, "scale": scale,
        "paths": {"warcs": [f"crawl/{n}" for n in warc_names], "warc_paths": "crawl/warc.paths.gz",
                  "crawl_labels": "crawl/labels.jsonl", "reddit": [f"reddit/{n}" for n in reddit_names],
                  "reddit_labels": "reddit/labels.jsonl", "wikipedia_text": "curated/wikipedia/text",
                  "wikipedia_dump": "curated/wikipedia/dump/enwiki-sample-pages-articles.xml.bz2",
                  "books": "curated/books", "eval": "eval/sample_eval.jsonl", "eval_labels": "eval/labels.jsonl"},
        "counts": {"crawl_responses": len(labels), "crawl_kinds": dict(sorted(kinds.items())),
                   "expected_keep": sum(r["expected_keep"] for r in labels),
                   "reddit_submissions": len(reddit_rows), "wikipedia": wiki, "books": books,
                   "eval_examples": len(eval_rows)},
        "sha256": {p.relative_to(out).as_posix(): file_sha256(str(p)) for p in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
