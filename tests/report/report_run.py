"""A small hand-made run folder in the formats the stages really write (_stats.json of each job,
models/classifier/report.json, mixture/manifest.json, tokens/<source>/manifest.json, train/
config.json + metrics.jsonl + samples.txt, Parquet document folders with a `lang` column)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _stage(run: Path, folder: str, stats: dict, seconds: float = 3.0) -> None:
    out = run / folder
    out.mkdir(parents=True, exist_ok=True)
    (out / "_SUCCESS").touch()
    (out / "_stats.json").write_text(json.dumps({**stats, "output": str(out), "seconds": seconds,
                                                 "fingerprint": "f" * 16, "config_hash": "c" * 16,
                                                 "version": "0.1.0"}))


def _docs(run: Path, folder: str, langs: list[str], texts: list[str] | None = None) -> None:
    out = run / folder
    out.mkdir(parents=True, exist_ok=True)
    (out / "_SUCCESS").touch()
    pq.write_table(pa.table({"id": [f"{folder}-{i}" for i in range(len(langs))], "lang": langs,
                             "url": [None] * len(langs), "text": texts or ["x"] * len(langs)}),
                   out / "part-00000.parquet")


def _funnel(first: int, steps: list[tuple[str, dict]]) -> list[dict]:
    table, remaining = [], first
    for step, dropped in steps:
        out = remaining - sum(dropped.values())
        table.append({"step": step, "in": remaining, "out": out, "dropped": dropped})
        remaining = out
    return table


def histogram(counts: list[int]) -> dict:
    return {"edges": [round(i / 20, 4) for i in range(21)], "counts": counts}


def write_run(run: Path, *, train: bool = True) -> Path:
    """Writes the run and returns it."""
    cc = _funnel(120, [("read", {}), ("extract", {"too_short": 5}), ("langid", {"language": 20, "low_score": 3}),
                       ("heuristics", {"bad_words": 2, "few_words": 10})])
    cc_reasons = {f"{f['step']}:{r}": n for f in cc for r, n in f["dropped"].items()}
    _stage(run, "webtext/urls", {"job": "reddit_links", "submissions_in": 157, "submissions_kept": 115,
                                 "urls_out": 105, "duplicate_submissions_merged": 10, "files": 2,
                                 "drop_reasons": {"links:low_score": 12, "links:over_18": 6, "links:self_post": 24},
                                 "funnel": _funnel(157, [("read", {}), ("links", {"low_score": 12, "over_18": 6,
                                                                                   "self_post": 24})])})
    _stage(run, "webtext/index", {"job": "cc_index", "files": 4, "files_failed": {}, "records": 400,
                                  "records_by_status": {"200": 380, "404": 20}, "crawls": ["CC-MAIN-SAMPLE"]})
    _stage(run, "webtext/pages", {"job": "fetch_pages", "via": "ccindex", "urls_in": 105, "attempted": 105,
                                  "fetched": 80, "drop_reasons": {"fetch:not_in_index": 25}, "warc_files": 1})
    _stage(run, "docs/webtext", {"job": "extract_webtext", "documents_in": 80, "documents_out": 70,
                                 "drop_reasons": {"heuristics:few_words": 10},
                                 "funnel": _funnel(80, [("file", {}), ("read", {}), ("extract", {}), ("langid", {}),
                                                        ("webtext", {}), ("heuristics", {"few_words": 10})])})
    _stage(run, "docs/cc_raw", {"job": "quality_filter", "documents_in": 120, "documents_out": 80,
                                "drop_reasons": {**cc_reasons, "kept": 80}, "funnel": cc,
                                "examples": {"kept": [{"id": "k1", "url": "http://a.example/1", "text": "A kept page."}],
                                             "langid:language": [{"id": "d1", "url": "http://b.example/2",
                                                                  "text": "Ein deutscher Text <script>."}]},
                                "files": {"files": 4, "records": 400}})
    for source, n in (("wikipedia", 30), ("books", 6)):
        _stage(run, f"docs/{source}", {"job": "ingest", "kind": source, "source": source, "documents_in": n + 2,
                                       "documents_out": n, "chars_out": n * 5000,
                                       "drop_reasons": {f"{source}:too_short": 2},
                                       "funnel": _funnel(n + 2, [("read", {}), (source, {"too_short": 2})])})
    _stage(run, "models/classifier", {"job": "classifier", "features": "raw", "counts": {
        "positives_in": 106, "negatives_in": 80, "per_class_target": 80, "train": 140, "held_out": 20},
        "held_out_roc_auc": {"auc": 0.95, "low": 0.88, "high": 1.0, "n": 20},
        "compare_features": {"raw": 0.95}})
    (run / "models/classifier/report.json").write_text(json.dumps({
        "features": "raw", "counts": {"positives_in": 106, "negatives_in": 80, "train": 140, "held_out": 20},
        "held_out": {"roc_auc": {"auc": 0.95, "low": 0.88, "high": 1.0, "n": 20}, "threshold": 0.5,
                     "precision": 0.9, "recall": 0.8, "accuracy": 0.85,
                     "positives": {"n": 10, "mean_score": 0.8, "histogram": histogram([0] * 14 + [1, 1, 2, 2, 2, 2]),
                                   "keep_rate": {"1": 0.8, "9": 0.2}},
                     "negatives": {"n": 10, "mean_score": 0.2, "histogram": histogram([3, 3, 2, 1, 1] + [0] * 15),
                                   "keep_rate": {"1": 0.55, "9": 0.01}}},
        "compare_features": {"idf": {"held_out": {"auc": 0.875, "low": 0.8, "high": 0.95, "n": 20}, "human": {},
                                     "train_seconds": 1.0}}, "alphas": [1.0, 9.0]}))
    _stage(run, "docs/commoncrawl", {"job": "quality_filter", "documents_in": 80, "documents_out": 30,
                                     "drop_reasons": {"sample:pareto": 50, "kept": 30},
                                     "funnel": _funnel(80, [("read", {}), ("extract", {}), ("langid", {}),
                                                            ("heuristics", {}), ("sample", {"pareto": 50})]),
                                     "examples": {"kept": [{"id": "k2", "url": "http://c.example/", "text": "Good."}],
                                                  "sample:pareto": [{"id": "p1", "url": None, "text": "Meh."}]},
                                     "scores": [{"score_from": 0.0, "score_to": 0.1, "documents": 40, "kept": 5,
                                                 "keep_rate": 0.125},
                                                {"score_from": 0.9, "score_to": 1.0, "documents": 40, "kept": 25,
                                                 "keep_rate": 0.625}],
                                     "alpha": 9.0, "seed": 42, "sample": True})
    _stage(run, "dedup", {"job": "dedup", "priority": ["wikipedia", "books", "webtext", "commoncrawl"],
                          "inputs": {"wikipedia": 30, "books": 6, "webtext": 70, "commoncrawl": 30},
                          "documents_in": 136, "documents_out": 120,
                          "output_docs": {"wikipedia": 30, "books": 6, "webtext": 62, "commoncrawl": 22},
                          "removed": {"wikipedia": {"exact_url": 0, "exact_content": 0, "near_within": 0, "near_cross": 0},
                                      "books": {"exact_url": 0, "exact_content": 0, "near_within": 0, "near_cross": 0},
                                      "webtext": {"exact_url": 2, "exact_content": 3, "near_within": 3, "near_cross": 0},
                                      "commoncrawl": {"exact_url": 0, "exact_content": 2, "near_within": 2, "near_cross": 4}},
                          "removed_total": 16,
                          "drop_reasons": {"dedup:exact_url": 2, "dedup:exact_content": 5, "dedup:near_within": 5,
                                           "dedup:near_cross": 4},
                          "cluster_sizes": {"exact_content": {"2": 5}, "near_within": {"2": 3, "3-4": 1},
                                            "near_cross": {"2": 4}},
                          "lsh": {"preset": "gpt3", "features": "words", "ngram": 5, "bands": 10, "rows": 10,
                                  "verify": "jaccard", "threshold": 0.8, "s_curve": {"0.50": 0.0097, "0.80": 0.8931}}})
    _stage(run, "curated", {"job": "decontaminate", "mode": "split",
                            "eval_sets": {"sample": {"examples": 50, "dirty": 4, "clean": 46, "clean_fraction": 0.92}},
                            "eval_ngrams": 900, "colliding_ngrams": 12, "too_common_ngrams_ignored": 0,
                            "rows_by_reason": {"wikipedia": {"kept": 30}, "books": {"kept": 6},
                                               "webtext": {"kept": 63, "decontam:split": 1},
                                               "commoncrawl": {"kept": 21, "decontam:contaminated": 1}},
                            "pieces_kept": {"wikipedia": 0, "books": 0, "webtext": 2, "commoncrawl": 0}})
    _stage(run, "models/tokenizer", {"job": "tokenizer", "mode": "trained", "vocab_size": 4096,
                                     "sample_documents": 121, "sample_chars": 500000})
    for source, docs, tokens in (("wikipedia", 30, 60000), ("books", 6, 90000), ("webtext", 63, 40000),
                                 ("commoncrawl", 21, 30000)):
        _stage(run, f"tokens/{source}", {"job": "tokenize_corpus", "source": source, "documents_in": docs,
                                         "documents_out": docs, "drop_reasons": {"tokenize:empty": 0},
                                         "tokens": {"train": tokens, "validation": tokens // 100}})
        (run / f"tokens/{source}/manifest.json").write_text(json.dumps({
            "format": "webmix-tokens/1", "source": source, "documents": {"train": docs, "validation": 1},
            "tokens": {"train": tokens, "validation": tokens // 100}, "dropped": {"tokenize:empty": 0}}))
    sources = [("commoncrawl", "tokens/commoncrawl", 0.6, 30000), ("webtext2", "tokens/webtext", 0.22, 40000),
               ("books1", "tokens/books", 0.08, 90000), ("wikipedia", "tokens/wikipedia", 0.03, 60000)]
    total = sum(w for _, _, w, _ in sources)
    table = [{"name": n, "tokens": t, "weight": w / total, "drawn": 64000 * w / total,
              "epochs": 64000 * w / total / t} for n, _, w, t in sources]
    _stage(run, "mixture", {"job": "build_mixture", "rows": 1000, "tokens": 64000, "shards": 2,
                            "rows_per_source": {n: 250 for n, *_ in sources}, "warnings": []})
    (run / "mixture/manifest.json").write_text(json.dumps({
        "format": "webmix-mixture/1", "seed": 1234, "block_size": 64, "row_tokens": 65, "rows": 1000,
        "tokenizer": {"sha256": "ab" * 32, "vocab_size": 4096, "eot_id": 0},
        "sources": [{"name": n, "path": p, "weight": w / total, "tokens_available": t, "rows": 250}
                    for n, p, w, t in sources], "table": table, "shards": []}))
    _docs(run, "docs/cc_raw", ["en"] * 70 + ["de"] * 6 + ["fr"] * 4)
    _docs(run, "docs/webtext", ["en"] * 3, texts=["Survivor text of a near duplicate.", "x", "y"])
    _docs(run, "docs/commoncrawl", ["en"] * 2, texts=["Removed near-duplicate text.", "z"])
    removed = run / "dedup" / "removed"
    removed.mkdir(parents=True)
    (removed / "_SUCCESS").touch()
    pq.write_table(pa.table({"id": ["docs/commoncrawl-0"], "source": ["commoncrawl"], "reason": ["near_cross"],
                             "cluster": ["c1"], "cluster_size": [2], "survivor_id": ["docs/webtext-0"],
                             "survivor_source": ["webtext"]}), removed / "part-00000.parquet")
    for source in ("wikipedia", "books", "webtext", "commoncrawl"):
        _docs(run, f"curated/{source}", ["en"] * 5)
    if train:
        (run / "train").mkdir(parents=True, exist_ok=True)
        (run / "train/config.json").write_text(json.dumps({
            "model": {"block_size": 64, "n_layer": 2, "n_head": 2, "n_embd": 64},
            "train": {"batch_size": 8, "tokens_per_step": 0, "max_steps": 20}}))
        records = [{"step": s, "kind": "train", "loss": 8.0 - 0.2 * s, "lr": 6e-4, "tokens_per_s": 5000.0}
                   for s in range(2, 21, 2)]
        records += [{"step": 20, "kind": "val", "loss/commoncrawl": 5.1, "loss/wikipedia": 4.9}]
        # a resumed run appends: the later record of step 20 wins
        records += [{"step": 20, "kind": "train", "loss": 3.9, "lr": 6e-4, "tokens_per_s": 5000.0}]
        (run / "train/metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
        (run / "train/samples.txt").write_text("The <b>first</b> sample.\n---\nThe second.\n")
    return run
