"""The GPT-3 quality classifier on real data, for each feature form (raw / l2 / idf).

Positives: WikiText-2 validation articles (detokenised by pipeline/curated/wikitext2.py) and the
Project Gutenberg books of ../shared/realdata/text/books (header/footer stripped, ~500-word chunks).
Negatives: real CommonCrawl text - the HTML responses of the CC WARC excerpts (through the project's
extractor) and the CC documents of text/cc_extracted. With --other-crawls, the raw pages of the
non-CC web crawls (archive.org 2008, wget 2024) are added to the negatives.

Each feature form is trained by the real job (TrainClassifierJob, Spark local[2]) on the same
deterministic balance and split; the script prints the held-out ROC AUC, then the ROC AUC of
`quality_score` against the 218 DCLM human quality labels beside the AUC of plain word count on the
same labels, each with a bootstrap 95% interval.

    .venv/bin/python bench/classifier_eval.py [--realdata ../shared/realdata] [--work /tmp/clf-bench]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.curated.books import chunk_words, strip_gutenberg  # noqa: E402
from pipeline.curated.wikitext2 import article_text, split_articles  # noqa: E402
from pipeline.quality.classifier import ExportedModel, FEATURE_FORMS  # noqa: E402
from pipeline.quality.evaluation import auc_interval  # noqa: E402


def positives(realdata: Path, chunk: int) -> list[dict]:
    rows = []
    wikitext = (realdata / "text/wikipedia/wikitext-2_valid.tokens.txt").read_text(encoding="utf-8")
    for line, title, body in split_articles(wikitext):
        rows.append({"id": f"wikitext2@{line}", "text": article_text(title, body), "source": "wikipedia"})
    for path in sorted((realdata / "text/books").glob("gutenberg_*.txt")):
        body, _ = strip_gutenberg(path.read_text(encoding="utf-8", errors="replace"))
        for i, text in enumerate(chunk_words(body, chunk)):
            if len(text.split()) >= chunk // 2:
                rows.append({"id": f"{path.stem}#{i}", "text": text, "source": "books"})
    return rows


def warc_pages(paths: list[Path]) -> list[dict]:
    from warcio.archiveiterator import ArchiveIterator

    from pipeline.text.extract import extract_text

    rows = []
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = record.http_headers.get_header("Content-Type") or ""
                if record.http_headers.get_statuscode() != "200" or "html" not in content_type:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                text = extract_text(record.content_stream().read(), url)
                if len(text.split()) >= 20:
                    rows.append({"id": record.rec_headers.get_header("WARC-Record-ID") or f"{path.name}:{url}",
                                 "text": text, "source": path.parent.name})
    return rows


def negatives(realdata: Path, other_crawls: bool) -> list[dict]:
    rows = warc_pages(sorted((realdata / "warc/commoncrawl").glob("*.warc.gz")))
    for path in sorted((realdata / "text/cc_extracted").glob("*.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                record = json.loads(line)
                if record.get("text", "").strip():
                    rows.append({"id": f"{path.name}@{n}", "text": record["text"], "source": "cc_extracted"})
    if other_crawls:
        rows += warc_pages(sorted((realdata / "warc/other_crawls").glob("*.warc.gz")))
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def fmt(ci: dict) -> str:
    return f"{ci['auc']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]" if ci["auc"] is not None else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"))
    parser.add_argument("--work", default="/tmp/webmix-classifier-bench")
    parser.add_argument("--chunk-words", type=int, default=500)
    parser.add_argument("--other-crawls", action="store_true",
                        help="add the non-CommonCrawl raw web crawls to the negatives")
    parser.add_argument("overrides", nargs="*", help="classifier.key=value passed to every training run")
    args = parser.parse_args()
    realdata, work = Path(args.realdata), Path(args.work)
    if not realdata.is_dir():
        print(f"real data not found at {realdata}")
        return 2
    work.mkdir(parents=True, exist_ok=True)
    pos, neg = positives(realdata, args.chunk_words), negatives(realdata, args.other_crawls)
    write_jsonl(work / "positives.jsonl", pos)
    write_jsonl(work / "negatives.jsonl", neg)
    by_source = Counter(r["source"] for r in neg)
    print(f"positives: {len(pos)} ({sum(r['source'] == 'wikipedia' for r in pos)} WikiText-2 articles, "
          f"{sum(r['source'] == 'books' for r in pos)} book chunks); negatives: {len(neg)} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(by_source.items()))})")

    from pipeline.core.spark import get_spark
    from pipeline.quality.train_job import TrainClassifierJob

    get_spark("webmix-classifier-bench", master="local[2]", conf={"spark.ui.enabled": "false",
                                                                   "spark.ui.showConsoleProgress": "false"})
    human = [json.loads(line) for line in
             (realdata / "text/quality_labeled/dclm_human_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    labels = np.array([int(r["label"]) for r in human])
    texts = [r["text"] for r in human]
    results = {}
    for form in FEATURE_FORMS:
        out = work / f"model_{form}"
        code = TrainClassifierJob().main([
            "--positives", str(work / "positives.jsonl"), "--negatives", str(work / "negatives.jsonl"),
            "--output", str(out), "--features", form, "classifier.compare_features=false",
            "ingest.id_field=id", "--force", *args.overrides])
        if code:
            return code
        report = json.loads((out / "report.json").read_text())
        scores = ExportedModel.load(str(out)).score_texts(texts)
        results[form] = {"held_out": report["held_out"]["roc_auc"], "human": auc_interval(labels, scores),
                         "counts": report["counts"]}
    word_count = auc_interval(labels, np.array([len(t.split()) for t in texts]))
    counts = results[FEATURE_FORMS[0]]["counts"]
    print(f"\nbalanced per class ~{counts['per_class_target']}, train {counts['train']}, held out "
          f"{counts['held_out']}; human labels: {len(labels)} ({labels.sum()} high quality)")
    print(f"{'features':<10}{'held-out ROC AUC [95% CI]':<30}{'human-label ROC AUC [95% CI]':<30}")
    for form, r in results.items():
        print(f"{form:<10}{fmt(r['held_out']):<30}{fmt(r['human']):<30}")
    print(f"{'words':<10}{'':<30}{fmt(word_count):<30}   (plain word count as the score)")
    (work / "results.json").write_text(json.dumps({"forms": results, "word_count": word_count}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
