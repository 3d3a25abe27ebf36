"""Fuzzy-dedup benchmark: this job (spark-submit pipeline/dedup.py, local[2]) against datasketch's
MinHashLSH (single process, insert + query) and Spark MLlib's MinHashLSH.approxSimilarityJoin (10 hash
tables on the same word 5-gram shingles hashed by HashingTF), on a generated corpus with a known
fraction of near-duplicates. Prints docs/s, ratios, peak memory (RSS of the whole process tree) and
recall on the known near-duplicate pairs with true 5-gram Jaccard >= 0.8, and the job's time at
several corpus sizes.

    .venv/bin/python bench/dedup.py                 # 200,000 documents (several minutes)
    .venv/bin/python bench/dedup.py --docs 20000    # a quick run
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PER_FILE = 5000
MLLIB_DISTANCE = 0.3            # Jaccard distance: similarity >= 0.7, the job's verify threshold


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes of the process tree, output tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, cwd=REPO)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.5)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed:\n{out[-3000:]}")
    return time.perf_counter() - start, peak[0], out[-2000:]


def generate_corpus(root: Path, docs: int, dup_fraction: float) -> None:
    import pyarrow.parquet as pq

    from pipeline.neardup.synthetic import generate, to_docs
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, (ids, texts, origins) in enumerate(generate(docs, dup_fraction=dup_fraction, seed=7,
                                                       mean_words=350)):
        pq.write_table(to_docs(ids, texts), root / f"part-{k:05d}.parquet")
        truth.update({i: o for i, o in zip(ids, origins) if i != o})
    (root.parent / "truth.json").write_text(json.dumps(truth))


def subset(corpus: Path, docs: int) -> Path:
    """A folder with the first `docs` documents (links to the corpus files)."""
    folder = corpus.parent / f"subset-{docs}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for f in sorted(corpus.glob("*.parquet"))[: -(-docs // PER_FILE)]:
        os.symlink(f.resolve(), folder / f.name)
    return folder


def high_pairs(corpus: Path, floor: float = 0.8) -> list[tuple[str, str]]:
    """Known near-duplicate pairs (copy, original) whose true 5-gram Jaccard is >= floor."""
    import pyarrow.parquet as pq

    from pipeline.neardup.shingles import shingles
    truth = json.loads((corpus.parent / "truth.json").read_text())
    table = pq.read_table(corpus, columns=["id", "text"]).to_pydict()
    text = dict(zip(table["id"], table["text"]))
    pairs = []
    for doc, orig in truth.items():
        a, b = set(shingles(text[doc], 5)), set(shingles(text[orig], 5))
        if len(a & b) / len(a | b) >= floor:
            pairs.append((doc, orig))
    return pairs


# --- contenders, each run in its own process ----------------------------------------------------
def worker_datasketch(corpus: Path, out: Path) -> None:
    import pyarrow.parquet as pq
    from datasketch import MinHash, MinHashLSH

    from pipeline.neardup.shingles import shingles
    start = time.perf_counter()
    index = MinHashLSH(num_perm=112, params=(14, 8))
    pairs = []
    for f in sorted(corpus.glob("*.parquet")):
        table = pq.read_table(f, columns=["id", "text"]).to_pydict()
        for doc, text in zip(table["id"], table["text"]):
            m = MinHash(num_perm=112, seed=1)      # its default hashfunc (SHA-1), its fast path
            m.update_batch([s.encode() for s in shingles(text, 5)])
            pairs.extend((doc, other) for other in index.query(m))
            index.insert(doc, m)
    out.write_text(json.dumps({"seconds": time.perf_counter() - start, "pairs": pairs}))


def worker_mllib(corpus: Path, out: Path) -> None:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import HashingTF, MinHashLSH, NGram, RegexTokenizer
    from pyspark.sql import functions as F

    from pipeline.core.spark import get_spark
    spark = get_spark("bench-mllib")
    start = time.perf_counter()
    docs = spark.read.parquet(str(corpus)).select("id", "text")
    features = Pipeline(stages=[
        RegexTokenizer(inputCol="text", outputCol="words", pattern=r"[^\w]+", toLowercase=True),
        NGram(n=5, inputCol="words", outputCol="shingles"),
        HashingTF(inputCol="shingles", outputCol="features", numFeatures=1 << 20, binary=True),
    ]).fit(docs).transform(docs).where(F.size("shingles") > 0).select("id", "features").cache()
    model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=10, seed=1).fit(features)
    joined = (model.approxSimilarityJoin(features, features, MLLIB_DISTANCE, distCol="distance")
              .where(F.col("datasetA.id") < F.col("datasetB.id"))
              .select(F.col("datasetA.id").alias("a"), F.col("datasetB.id").alias("b")))
    pairs = [(r["a"], r["b"]) for r in joined.collect()]
    out.write_text(json.dumps({"seconds": time.perf_counter() - start, "pairs": pairs}))


def run_job(corpus: Path, out: Path, spark_env: dict, preset: str = "fineweb", *overrides: str) -> dict:
    cmd = [str(REPO / ".venv/bin/spark-submit"), "--master", "local[2]", "--driver-memory", "6g",
           str(REPO / "pipeline/dedup.py"), "--input", f"synthetic={corpus}", "--output", str(out), "--force",
           "--preset", preset, *overrides]
    wall, peak, _ = measure(cmd, spark_env)
    stats = json.loads((out / "_stats.json").read_text())
    return {"wall": wall, "seconds": stats["seconds"], "peak": peak, "stats": stats}


def recall_of_pairs(pairs: list, high: list) -> float:
    found = {frozenset(p) for p in pairs}
    return sum(frozenset(p) in found for p in high) / max(1, len(high))


def recall_of_job(out: Path, high: list) -> float:
    import pyarrow.parquet as pq
    rows = pq.read_table(out / "removed", columns=["id", "survivor_id"]).to_pydict()
    survivor = dict(zip(rows["id"], rows["survivor_id"]))
    return sum(survivor.get(a, a) == survivor.get(b, b) for a, b in high) / max(1, len(high))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--dup-fraction", type=float, default=0.1)
    parser.add_argument("--sizes", default="50000,100000,200000",
                        help="corpus sizes for the job's growth curve (capped at --docs)")
    parser.add_argument("--custom-threshold", type=float, default=0.7,
                        help="estimated-Jaccard threshold of the 20x5-band run")
    parser.add_argument("--skip", default="", help="comma-separated: custom (the 20x5-band run), datasketch, mllib")
    parser.add_argument("--workdir", help="keep the corpus and outputs here (default: a temporary folder)")
    parser.add_argument("--worker", choices=["datasketch", "mllib"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        {"datasketch": worker_datasketch, "mllib": worker_mllib}[args.worker](Path(args.corpus), Path(args.out))
        return

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-dedup-"))
    corpus = work / "corpus"
    spark_env = {"PYSPARK_PYTHON": sys.executable, "WEBMIX_SPARK_LOG_LEVEL": "ERROR",
                 "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}"}
    t = time.perf_counter()
    if not (work / "truth.json").exists():
        generate_corpus(corpus, args.docs, args.dup_fraction)
    print(f"corpus: {args.docs} documents (~350 words each, {args.dup_fraction:.0%} near-duplicates) "
          f"in {time.perf_counter() - t:.0f}s at {corpus}", flush=True)
    high = high_pairs(corpus)
    print(f"known near-duplicate pairs with 5-gram Jaccard >= 0.8: {len(high)}", flush=True)

    rows = {}
    job = run_job(corpus, work / "job-out", spark_env)
    rows["webmix dedup.py (local[2])"] = (job["seconds"], job["peak"], recall_of_job(work / "job-out", high))
    print(f"job: {job['seconds']:.1f}s (wall {job['wall']:.1f}s), removed "
          f"{job['stats']['removed_total']}", flush=True)
    skip = set(filter(None, args.skip.split(",")))
    if "custom" not in skip:
        # more, shorter bands (20 x 5, conf/pipeline.yaml's custom preset): the recall of a join
        custom = run_job(corpus, work / "job-custom", spark_env, "custom",
                         f"dedup.presets.custom.threshold={args.custom_threshold}")
        rows[f"webmix dedup.py, 20x5 bands, >= {args.custom_threshold} (local[2])"] = (custom["seconds"], custom["peak"],
                                                          recall_of_job(work / "job-custom", high))
        print(f"job, 20x5 bands: {custom['seconds']:.1f}s", flush=True)
    if "datasketch" not in skip:
        out = work / "datasketch.json"
        _, peak, _ = measure([sys.executable, __file__, "--worker", "datasketch", "--corpus", str(corpus),
                              "--out", str(out)])
        result = json.loads(out.read_text())
        rows["datasketch MinHashLSH (1 process)"] = (result["seconds"], peak, recall_of_pairs(result["pairs"], high))
        print(f"datasketch: {result['seconds']:.1f}s", flush=True)
    if "mllib" not in skip:
        out = work / "mllib.json"
        _, peak, _ = measure([str(REPO / ".venv/bin/spark-submit"), "--master", "local[2]", "--driver-memory", "6g",
                              __file__, "--worker", "mllib", "--corpus", str(corpus), "--out", str(out)], spark_env)
        result = json.loads(out.read_text())
        rows["MLlib MinHashLSH join, 10 tables (local[2])"] = (result["seconds"], peak,
                                                              recall_of_pairs(result["pairs"], high))
        print(f"mllib: {result['seconds']:.1f}s", flush=True)

    ours = rows["webmix dedup.py (local[2])"][0]
    print(f"\n{'contender':<46} {'seconds':>8} {'docs/s':>8} {'vs job':>7} {'peak RSS':>9} {'recall>=0.8':>11}")
    for name, (seconds, peak, recall) in rows.items():
        print(f"{name:<46} {seconds:>8.1f} {args.docs / seconds:>8.0f} {seconds / ours:>6.2f}x "
              f"{peak / 2**30:>7.2f}GB {recall:>11.4f}")

    print("\njob time by corpus size (growth):")
    for size in sorted({int(s) for s in args.sizes.split(",") if int(s) < args.docs}):
        result = run_job(subset(corpus, size), work / f"job-{size}", spark_env)
        print(f"  {size:>8} docs: {result['seconds']:7.1f}s  ({size / result['seconds']:.0f} docs/s)", flush=True)
    print(f"  {args.docs:>8} docs: {ours:7.1f}s  ({args.docs / ours:.0f} docs/s)")


if __name__ == "__main__":
    main()
