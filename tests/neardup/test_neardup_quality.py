"""Quality on real near-duplicates: three other Gutenberg editions of The Adventures of Sherlock
Holmes (5-gram Jaccard 0.92-0.999 with books/gutenberg_1661.txt) among other books, all cut into
1000-word documents. Recall >= 0.95 on pairs with true Jaccard >= 0.8, no verified edge between
documents with true Jaccard < 0.5, and the same duplicate sets as datasketch's MinHashLSH."""
import itertools
import re
from collections import defaultdict

import pyarrow as pa
import pytest
from datasketch import MinHash, MinHashLSH
from neardup_clusters import clusters, component_of

from pipeline.core.config import load_config
from pipeline.neardup import lsh, minhash
from pipeline.neardup.dedup_job import fuzzy_removals, number_nodes
from pipeline.neardup.shingles import normalized_words, word_ngrams
from pipeline.neardup.sketch import sketch_batch

BOOKS = ["books/gutenberg_1661.txt", "near_duplicates/gutenberg1661_1661-8.txt",
         "near_duplicates/gutenberg1661_old_advsh10.txt", "near_duplicates/gutenberg1661_old_advsh12.txt",
         "books/gutenberg_11-0.txt", "books/gutenberg_1342-0.txt", "books/tinyshakespeare.txt"]
CHUNK_WORDS = 1000


def _body(text: str) -> str:
    """The book without Project Gutenberg's header and footer, where it has the markers."""
    start, end = re.search(r"\*\*\* ?START OF[^\n]*\n", text), re.search(r"\*\*\* ?END OF", text)
    return text[start.end() if start else 0:end.start() if end else len(text)]


@pytest.fixture(scope="module")
def chunks(realdata):
    docs = {}
    for path in BOOKS:
        words = _body((realdata / "text" / path).read_text(encoding="utf-8", errors="replace")).split()
        for k in range(0, len(words), CHUNK_WORDS):
            docs[f"{path.split('/')[-1]}#{k // CHUNK_WORDS:04d}"] = " ".join(words[k:k + CHUNK_WORDS])
    return docs


def _true_similar_pairs(docs: dict[str, str], floor: float) -> dict[tuple, float]:
    """Exact 5-gram Jaccard of every pair sharing a shingle, through an inverted index."""
    sets = {d: set(word_ngrams(normalized_words(t), 5)) for d, t in docs.items()}
    postings = defaultdict(list)
    for d, grams in sets.items():
        for g in grams:
            postings[g].append(d)
    shared = defaultdict(int)
    for ds in postings.values():
        for a, b in itertools.combinations(sorted(ds), 2):
            shared[a, b] += 1
    out = {}
    for (a, b), common in shared.items():
        j = common / (len(sets[a]) + len(sets[b]) - common)
        if j >= floor:
            out[a, b] = j
    return out, sets


def _clusters(removed) -> dict[str, str]:
    """doc -> its cluster's survivor (survivors map to themselves)."""
    survivor = {}
    for row in removed:
        survivor[row["id"]] = row["survivor_id"]
        survivor[row["survivor_id"]] = row["survivor_id"]
    return survivor


def _run(spark, docs, *overrides):
    params = lsh.from_config(load_config(overrides=list(overrides))["dedup"], 262144)
    ids = sorted(docs)
    batch = pa.RecordBatch.from_pydict({"rank": [0] * len(ids), "id": ids, "text": [docs[i] for i in ids],
                                        "url": [None] * len(ids)})
    keys = spark.createDataFrame(sketch_batch(batch, params).to_pandas())
    nodes = number_nodes(keys).localCheckpoint()
    parts, passes = fuzzy_removals(nodes, params, False, 64, lambda df: df.localCheckpoint())
    names = {r["node"]: r["id"] for r in nodes.select("node", "id").collect()}
    edges = [(names[r["a"]], names[r["b"]]) for r in passes["within"].verified.collect()]
    return params, parts[0].collect(), edges


def test_real_near_duplicates_found_and_nothing_dissimilar_merged(spark, chunks):
    truth, sets = _true_similar_pairs(chunks, 0.5)
    high = [p for p, j in truth.items() if j >= 0.8]
    assert len(high) >= 100                       # the Sherlock editions' aligned chunks
    _, removed, edges = _run(spark, chunks)
    cluster = _clusters(removed)
    found = [p for p in high if cluster.get(p[0], p[0]) == cluster.get(p[1], p[1])]
    recall = len(found) / len(high)
    print(f"\nreal data: {len(chunks)} docs, {len(high)} pairs with Jaccard >= 0.8, recall {recall:.4f}, "
          f"{len(edges)} verified edges, {len(removed)} removed")
    assert recall >= 0.95
    for a, b in edges:
        pair = (min(a, b), max(a, b))
        assert truth.get(pair, 0.0) >= 0.5, (pair, truth.get(pair))


def test_real_data_same_duplicate_sets_as_datasketch(spark, chunks):
    params, removed, _ = _run(spark, chunks, "dedup.presets.fineweb.verify=none")
    ours = defaultdict(set)
    for row in removed:
        ours[row["survivor_id"]].update({row["id"], row["survivor_id"]})
    index = MinHashLSH(num_perm=params.num_perm, params=(params.bands, params.rows))
    sketches = {}
    for doc_id, text in sorted(chunks.items()):
        m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=minhash.shingle_hash32)
        m.update_batch([s.encode() for s in word_ngrams(normalized_words(text), params.ngram)])
        sketches[doc_id] = m
        index.insert(doc_id, m)
    theirs = clusters([(a, b) for a in sorted(chunks) for b in index.query(sketches[a])], chunks)
    assert {frozenset(c) for c in ours.values()} == theirs


def test_star_edges_lose_little_against_all_pairs_verification(chunks):
    """Measured in pure Python with the job's own banding: clusters from star edges (each bucket
    member verified against the bucket's smallest id only) against clusters from verifying every
    pair of every bucket, on the pairs with true Jaccard >= 0.8."""
    truth, _ = _true_similar_pairs(chunks, 0.8)
    params = lsh.from_config(load_config()["dedup"], 262144)
    ids = sorted(chunks)
    hashes, counts = minhash.word_ngram_hashes([normalized_words(chunks[i]) for i in ids], params.ngram)
    sigs = minhash.signatures(hashes, counts, params.num_perm, params.seed)
    buckets = defaultdict(list)
    for node, sig in enumerate(sigs):
        for band in range(params.bands):
            buckets[band, sig[band * params.rows:(band + 1) * params.rows].tobytes()].append(node)

    def ok(a, b):
        return (sigs[a] == sigs[b]).mean() >= params.threshold

    def recall(pairs):
        component = component_of(pairs, range(len(ids)))
        index = {d: n for n, d in enumerate(ids)}
        return sum(component[index[a]] == component[index[b]] for a, b in truth) / len(truth)
    members = [m for m in buckets.values() if len(m) > 1]
    star = recall([(m[0], x) for m in members for x in m[1:] if ok(m[0], x)])
    all_pairs = recall([(a, b) for m in members for a, b in itertools.combinations(m, 2) if ok(a, b)])
    print(f"\nrecall on {len(truth)} pairs with Jaccard >= 0.8: star edges {star:.4f}, "
          f"all pairs verified {all_pairs:.4f}")
    assert star >= 0.95 and all_pairs - star <= 0.02
