"""`webmix sample OUT_DIR`: write the embedded sample data set (see docs/sample_data.md)."""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="webmix sample", description=(
            "Write the embedded sample data set: a labelled crawl as WARC files, a Pushshift-style "
            "Reddit dump linking its pages, curated Wikipedia-like articles and books, and a tiny "
            "evaluation set. Deterministic: the same seed gives byte-identical files (on one Python "
            "version, whose docstrings are the prose)."))
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every choice (default 0)")
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply the number of pages and posts (default 1: ~500 crawl pages)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    from pipeline.sample import generate

    manifest = generate(args.out_dir, seed=args.seed, scale=args.scale)
    counts = manifest["counts"]
    print(f"sample written to {args.out_dir}: {counts['crawl_responses']} crawl responses "
          f"({counts['expected_keep']} expected to pass the quality filter), "
          f"{counts['reddit_submissions']} Reddit submissions, {counts['wikipedia']['articles']} Wikipedia "
          f"articles, {counts['books']['books']} books, {counts['eval_examples']} eval examples")
    print(json.dumps(manifest["paths"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
