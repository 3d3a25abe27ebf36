"""The Spark side: connected components, the dedup job end to end (exact, within, across sources,
bad rows), the same removals whatever the partitioning, the same clusters as datasketch, and the
decontamination job. Few Spark runs, tiny data, the shared session."""
import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash, MinHashLSH
from neardup_clusters import clusters

from pipeline.core.config import load_config
from pipeline.neardup import lsh, minhash
from pipeline.neardup.components import connected_components
from pipeline.neardup.decontam_job import DecontaminateJob
from pipeline.neardup.dedup_job import DedupJob, fuzzy_removals, number_nodes
from pipeline.neardup.shingles import normalized_words, word_ngrams
from pipeline.neardup.sketch import sketch_batch
from pipeline.neardup.synthetic import generate, to_docs


def test_connected_components_matchclusters(spark):
    rng = random.Random(0)
    edges = [(rng.randrange(200), rng.randrange(200)) for _ in range(120)] + [(i, i + 1) for i in range(500, 516)]
    got, rounds = connected_components(spark.createDataFrame(edges, "a long, b long"),
                                       lambda df: df.localCheckpoint())
    roots = {r["node"]: r["root"] for r in got.collect()}
    expected = clusters([e for e in edges if e[0] != e[1]], {n for e in edges for n in e if e[0] != e[1]})
    assert {frozenset(n for n in roots if roots[n] == r) for r in set(roots.values())} == expected
    assert all(roots[n] == min(g) for g in expected for n in g)       # the root is the smallest node
    assert rounds >= 1


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """webtext and commoncrawl folders; commoncrawl holds exact and near copies of webtext docs, a URL
    duplicate, a null text, a text without words and a very short text."""
    root = tmp_path_factory.mktemp("dedup_corpus")
    wt_ids, wt_texts, wt_origin = next(generate(240, dup_fraction=0.15, seed=1, mean_words=120,
                                                max_edit_rate=0.01, source="webtext"))
    cc_ids, cc_texts, cc_origin = next(generate(240, dup_fraction=0.15, seed=2, mean_words=120,
                                                max_edit_rate=0.01, source="cc"))
    originals = [k for k in range(240) if wt_ids[k] == wt_origin[k]]
    rng = np.random.default_rng(5)
    for k in range(10):                   # near copies of webtext originals: one word changed
        words = wt_texts[originals[k]].split()
        words[rng.integers(len(words))] = "changed"
        cc_texts[k], cc_origin[k] = " ".join(words), wt_ids[originals[k]]
    for k in range(10, 15):               # exact copies, other white space and case
        cc_texts[k], cc_origin[k] = "  " + wt_texts[originals[k]].upper(), wt_ids[originals[k]]
    cc_texts[20], cc_texts[21], cc_texts[22] = None, "!!! ???", "Click here"
    cc_urls = [f"https://site.example/{i}" for i in range(240)]
    cc_urls[23] = "http://www.site.example/24/"         # the same page as cc-00000024
    for folder, ids, texts, urls, n_files in (("webtext", wt_ids, wt_texts, None, 2),
                                              ("commoncrawl", cc_ids, cc_texts, cc_urls, 3)):
        (root / folder).mkdir()
        table = to_docs(ids, texts, folder, urls)
        per_file = -(-table.num_rows // n_files)
        for f in range(n_files):
            pq.write_table(table.slice(f * per_file, per_file), root / folder / f"part-{f}.parquet")
    return (root, {"webtext": dict(zip(wt_ids, wt_origin)), "commoncrawl": dict(zip(cc_ids, cc_origin))},
            {"webtext": dict(zip(wt_ids, wt_texts)), "commoncrawl": dict(zip(cc_ids, cc_texts))})


def _jaccard(a: str, b: str) -> float:
    sa, sb = set(word_ngrams(normalized_words(a), 5)), set(word_ngrams(normalized_words(b), 5))
    return len(sa & sb) / len(sa | sb)


def _run_dedup(spark, root, out, partitions, *overrides):
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        code = DedupJob().main(["--input", f"commoncrawl={root / 'commoncrawl'}", "--input",
                                f"webtext={root / 'webtext'}", "--priority", "webtext,commoncrawl",
                                "--output", str(out), "--force", *overrides])
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    assert code == 0
    removed = pq.read_table(out / "removed").to_pylist()
    return removed, json.loads((out / "_stats.json").read_text())


def test_dedup_job_end_to_end_and_partition_independent(spark, corpus, tmp_path):
    root, origin, texts = corpus
    removed, stats = _run_dedup(spark, root, tmp_path / "a", 2)
    by_id = {(r["source"], r["id"]): r for r in removed}
    # Exact copies of webtext in commoncrawl go, in favour of webtext; webtext never loses a document to cc.
    for k in range(10, 15):
        row = by_id[("commoncrawl", f"cc-{k:08d}")]
        assert row["reason"] == "exact_content" and row["survivor_source"] == "webtext"
    for k in range(10):
        row = by_id[("commoncrawl", f"cc-{k:08d}")]
        assert row["reason"] == "near_cross" and row["survivor_id"] == origin["commoncrawl"][f"cc-{k:08d}"]
    assert all(r["survivor_source"] == "webtext" for r in removed if r["source"] == "webtext")
    assert by_id[("commoncrawl", "cc-00000024")]["reason"] == "exact_url"
    # Generated near-duplicates (Jaccard >= 0.9 with the document they copy) are removed.
    for source, prefix in (("webtext", "webtext"), ("commoncrawl", "cc")):
        for doc, orig in origin[source].items():
            if doc != orig and doc.startswith(prefix) and int(doc[-8:]) >= 30 \
                    and _jaccard(texts[source][doc], texts[source][orig]) >= 0.9:
                assert (source, doc) in by_id, doc
    # Bad rows: null text passed through and counted, no-word text compared exactly only.
    assert stats["null_text_passed_through"] == {"commoncrawl": 1, "webtext": 0}
    assert stats["no_words_exact_only"]["commoncrawl"] == 1
    assert ("commoncrawl", "cc-00000020") not in by_id
    out_cc = pq.read_table(tmp_path / "a" / "commoncrawl")
    assert out_cc.num_rows == 240 - sum(stats["removed"]["commoncrawl"].values()) == stats["output_docs"]["commoncrawl"]
    assert out_cc.schema.names == to_docs([], []).schema.names
    assert (tmp_path / "a" / "webtext" / "_SUCCESS").exists() and (tmp_path / "a" / "_SUCCESS").exists()
    assert not (tmp_path / "a" / "_work").exists()
    assert stats["removed_total"] == len(removed) and stats["cluster_sizes"]["near_within"]
    assert stats["lsh"]["s_curve"]["0.80"] == pytest.approx(0.9235, abs=1e-4)
    # Another partitioning removes exactly the same ids, for the same survivors.
    again, _ = _run_dedup(spark, root, tmp_path / "b", 5)
    assert {(r["source"], r["id"], r["survivor_id"]) for r in removed} == \
        {(r["source"], r["id"], r["survivor_id"]) for r in again}


def _keys(spark, texts, params):
    ids = [f"d{i:05d}" for i in range(len(texts))]
    batch = pa.RecordBatch.from_pydict({"rank": [0] * len(ids), "id": ids, "text": texts, "url": [None] * len(ids)})
    return spark.createDataFrame(sketch_batch(batch, params).to_pandas(), schema=None), ids


def test_same_clusters_as_datasketch_minhashlsh(spark):
    texts = [t for batch in generate(400, dup_fraction=0.3, seed=9, mean_words=80, max_edit_rate=0.08)
             for t in batch[1]]
    conf = load_config(overrides=["dedup.presets.fineweb.verify=none"])["dedup"]
    params = lsh.from_config(conf, 262144)
    keys, ids = _keys(spark, texts, params)
    parts, _ = fuzzy_removals(number_nodes(keys), params, False, 64, lambda df: df.localCheckpoint())
    ours: dict[str, set] = {}
    for row in parts[0].collect():
        ours.setdefault(row["survivor_id"], {row["survivor_id"]}).add(row["id"])
    index = MinHashLSH(num_perm=params.num_perm, params=(params.bands, params.rows))
    sketches = {}
    for doc_id, text in zip(ids, texts):
        m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=minhash.shingle_hash32)
        m.update_batch([s.encode() for s in word_ngrams(normalized_words(text), 5)])
        sketches[doc_id] = m
        index.insert(doc_id, m)
    pairs = [(a, b) for a in ids for b in index.query(sketches[a]) if a != b]
    theirs = clusters(pairs, ids)
    assert theirs and {frozenset(c) for c in ours.values()} == theirs


def test_decontaminate_job(spark, tmp_path):
    leak = ("It was the best of times it was the worst of times it was the age of wisdom "
            "it was the age of foolishness")
    filler = " ".join(f"w{i}" for i in range(150))
    texts = [f"{filler} {leak} {filler}", filler, " ".join([f"{filler} {leak}"] * 12), None]
    (tmp_path / "docs").mkdir()
    pq.write_table(to_docs([f"t{i}" for i in range(4)], texts), tmp_path / "docs" / "part-0.parquet")
    evals = tmp_path / "tale.jsonl"
    evals.write_text(json.dumps({"text": leak}) + "\n" + json.dumps({"text": "a clean example " * 8}) + "\n")
    code = DecontaminateJob().main(["--input", f"books={tmp_path / 'docs'}", "--eval", str(evals),
                                    "--output", str(tmp_path / "out"), "--force"])
    assert code == 0
    stats = json.loads((tmp_path / "out" / "_stats.json").read_text())
    assert stats["eval_sets"]["tale"] == {"examples": 2, "dirty": 1, "clean": 1, "clean_fraction": 0.5,
                                          "dirty_counting_too_common_ngrams": 1, "shorter_than_ngram": 0}
    reasons = stats["rows_by_reason"]["books"]
    assert reasons["decontam:split"] == 1 and reasons["decontam:too_many_pieces"] == 1
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "out" / "books").to_pylist()}
    assert set(rows) == {"t0#dc0", "t0#dc1", "t1", "t3"}
    assert all("worst of times" not in r["text"] for r in rows.values() if r["text"])
    assert dict(rows["t0#dc0"]["meta"])["decontam_parent"] == "t0"


def test_gpt3_preset_verifies_candidates_by_exact_term_jaccard(spark):
    from pipeline.quality.features import hashed_term_indices, tokenize
    ids_texts = next(generate(150, dup_fraction=0.2, seed=4, mean_words=100, max_edit_rate=0.01))
    texts, origins = ids_texts[1], ids_texts[2]
    conf = load_config(overrides=["dedup.preset=gpt3", "dedup.presets.gpt3.max_bucket_size=20"])["dedup"]
    params = lsh.from_config(conf, 262144)
    keys, ids = _keys(spark, texts, params)
    nodes = number_nodes(keys).localCheckpoint()
    parts, passes = fuzzy_removals(nodes, params, False, 64, lambda df: df.localCheckpoint())
    stats = passes["within"].stats
    assert stats["bucket_over_cap"]["buckets"] > 0            # common words: skipped, counted
    assert 0 < stats["verified_edges"] < stats["candidate_edges"]
    names = {r["node"]: r["id"] for r in nodes.select("node", "id").collect()}
    terms = {i: set(hashed_term_indices(tokenize(t), 262144).tolist()) for i, t in zip(ids, texts)}
    for row in passes["within"].verified.collect():
        a, b = terms[names[row["a"]]], terms[names[row["b"]]]
        assert row["similarity"] == pytest.approx(len(a & b) / len(a | b)) and row["similarity"] >= 0.7
    removed = {r["id"] for r in parts[0].collect()}
    copies = [i for i, (doc, orig) in enumerate(zip(ids_texts[0], origins)) if doc != orig]
    assert sum(ids[i] in removed for i in copies) >= 0.9 * len(copies)
