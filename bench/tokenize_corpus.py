"""Benchmark of tokenize_corpus's per-task work: documents/s and tokens/s of one core.

Real text (the extraction gold sets' human-written main text, ../shared/realdata, repeated to
--docs documents), a byte-level BPE of --vocab trained on it, then in one process:

  (a) baseline: `tokenizers`' own `encode_batch` over the texts (the Rust encoder alone);
  (b) `tokenize_local`: what a tokenize_corpus task does (order keys, encode, uint16 shards with
      row groups, manifest), the ratio (b)/(a) is what the job's own work costs on top.

One process is one core: docs/scale.md multiplies these per-core figures out.

  .venv/bin/python bench/tokenize_corpus.py [--docs 20000] [--vocab 50257]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RAYON_NUM_THREADS", "1")   # tokenizers' batch encoder: one core, as in a Spark task slot

import pyarrow as pa  # noqa: E402

from pipeline.report import scale  # noqa: E402
from pipeline.tokens import bpe  # noqa: E402
from pipeline.tokens.tokenize_job import tokenize_local  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"


def gold_texts(realdata: Path) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((realdata / "html/extraction_gold").glob("*/gold/*.txt"))]
    return [t for t in texts if t.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--realdata", default=str(REALDATA))
    parser.add_argument("--record", metavar="RUN", help=scale.RECORD_HELP)
    args = parser.parse_args()
    texts = gold_texts(Path(args.realdata))
    if not texts:
        print(f"error: no extraction gold texts under {args.realdata}", file=sys.stderr)
        return 2
    docs = [texts[i % len(texts)] for i in range(args.docs)]
    with tempfile.TemporaryDirectory() as work:
        tokenizer = bpe.save(bpe.train_bpe(texts, vocab_size=args.vocab), os.path.join(work, "tok"))
        tok = bpe.load(tokenizer)
        start = time.perf_counter()
        tokens = sum(len(e.ids) for e in tok.encode_batch(docs))
        base = time.perf_counter() - start
        table = pa.table({"id": [f"bench/{i:07d}" for i in range(len(docs))], "text": docs})
        start = time.perf_counter()
        result = tokenize_local(table, os.path.join(work, "tokens"), tokenizer)
        job = time.perf_counter() - start
    print(f"{len(docs)} documents ({len(texts)} distinct), {tokens:,} tokens, vocab {tok.get_vocab_size()}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"(a) encode_batch   : {len(docs) / base:8.0f} docs/s  {tokens / base / 1e6:6.2f} M tokens/s  ({base:.1f}s)")
    print(f"(b) tokenize_local : {len(docs) / job:8.0f} docs/s  {sum(result['tokens'].values()) / job / 1e6:6.2f} M tokens/s  "
          f"({job:.1f}s)  ratio (b)/(a) = {base / job:.2f}")
    if args.record:
        scale.record(args.record, "tokenize_corpus", items=sum(result["tokens"].values()), seconds=job, cores=1,
                     bench=scale.command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
