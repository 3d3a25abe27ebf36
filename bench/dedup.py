"""Fuzzy-dedup benchmark: this job (spark-submit pipeline/dedup.py, local[2]) against datasketch's
MinHashLSH (single process, insert + query) and Spark MLlib's MinHashLSH.approxSimilarityJoin (10 hash
tables on the same word 5-gram shingles hashed by HashingTF), on a generated corpus with a known
fraction of near-duplicates. Prints docs/s, ratios, peak memory (RSS of the whole process tree) and
recall on the known near-duplicate pairs with true 5-gram Jaccard >= 0.8, and the job's time at
several corpus sizes. With --checkpoints instead: the cost of `dedup.checkpoint=reliable` (files under
the output) against `local` (executor block managers) on the same corpus, runs in the order local,
reliable, reliable, local: wall, the job's seconds, bytes the process tree wrote to storage
(/proc/<pid>/io write_bytes) and the peak size of the checkpoint folder.

    .venv/bin/python bench/dedup.py                 # 200,000 documents (several minutes)
    .venv/bin/python bench/dedup.py --docs 20000    # a quick run
    .venv/bin/python bench/dedup.py --docs 20000 --checkpoints
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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.neardup.dedup_job import CHECKPOINT_DIR, WORK_DIR  # noqa: E402
from pipeline.report import scale  # noqa: E402
PER_FILE = 5000
MLLIB_DISTANCE = 0.3            # Jaccard distance: similarity >= 0.7, the job's verify threshold


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _proc_value(pid: int, file: str, key: str) -> int:
    """One `key: value` line of /proc/<pid>/<file> (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/{file}") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:     # removed while we looked
                pass
    return total


@dataclass
class Measured:
    wall: float
    peak: int           # RSS bytes of the process tree, at its peak
    written: int        # bytes the tree sent to storage: each process's last write_bytes, summed
    folder_peak: int    # bytes under the watched folder, at their peak (0 without one)
    tail: str


def measure(cmd: list[str], env: dict | None = None, watch: Path | None = None) -> Measured:
    """Run `cmd`, sampling its process tree every 0.25 s."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, cwd=REPO)
    peak, folder_peak, written = [0], [0], {}

    def sample():
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak[0] = max(peak[0], sum(_proc_value(p, "status", "VmRSS:") * 1024 for p in pids))
            for p in pids:   # a counter only grows: keep each process's last reading
                written[p] = max(written.get(p, 0), _proc_value(p, "io", "write_bytes:"))
            if watch is not None:
                folder_peak[0] = max(folder_peak[0], _folder_bytes(watch))
            time.sleep(0.25)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed:\n{out[-3000:]}")
    return Measured(time.perf_counter() - start, peak[0], sum(written.values()), folder_peak[0], out[-2000:])


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
    run = measure(cmd, spark_env, watch=out / WORK_DIR / CHECKPOINT_DIR)
    stats = json.loads((out / "_stats.json").read_text())
    return {"wall": run.wall, "seconds": stats["seconds"], "peak": run.peak, "written": run.written,
            "checkpoint_peak": run.folder_peak, "stats": stats}


def compare_checkpoints(corpus: Path, work: Path, spark_env: dict, docs: int) -> dict:
    """reliable against local checkpoints, local/reliable/reliable/local, on the same corpus."""
    runs: dict[str, list[dict]] = {"local": [], "reliable": []}
    for kind in ("local", "reliable", "reliable", "local"):
        result = run_job(corpus, work / f"job-{kind}", spark_env, "fineweb", f"dedup.checkpoint={kind}")
        runs[kind].append(result)
        print(f"  {kind:<8} wall {result['wall']:6.1f}s  job {result['seconds']:6.1f}s  written "
              f"{result['written'] / 2**20:8.1f} MiB  checkpoint folder {result['checkpoint_peak'] / 2**20:7.1f} MiB"
              f"  removed {result['stats']['removed_total']}", flush=True)
    removed = {r["stats"]["removed_total"] for rs in runs.values() for r in rs}
    if len(removed) != 1:
        raise RuntimeError(f"the checkpoint kinds removed different counts: {sorted(removed)}")
    mean = {kind: {key: sum(r[key] for r in rs) / len(rs) for key in ("wall", "seconds", "written", "checkpoint_peak")}
            for kind, rs in runs.items()}
    rel, loc = mean["reliable"], mean["local"]
    print(f"\n{'checkpoint':<10} {'wall':>8} {'job s':>8} {'written MiB':>12} {'ckpt MiB':>9}   (mean of 2, {docs} docs)")
    for kind, m in mean.items():
        print(f"{kind:<10} {m['wall']:>8.1f} {m['seconds']:>8.1f} {m['written'] / 2**20:>12.1f} "
              f"{m['checkpoint_peak'] / 2**20:>9.1f}")
    print(f"reliable/local: wall {rel['wall'] / loc['wall']:.2f}x, job seconds {rel['seconds'] / loc['seconds']:.2f}x, "
          f"bytes written {rel['written'] / max(1, loc['written']):.2f}x; checkpoint files "
          f"{rel['checkpoint_peak'] / docs:.0f} bytes a document; removed {removed.pop()} in every run")
    return {"docs": docs, "local": loc, "reliable": rel}


def checkpoint_note(result: dict) -> str:
    rel, loc, per_doc = result["reliable"], result["local"], result["reliable"]["checkpoint_peak"] / result["docs"]
    return (f"checkpoints reliable/local (mean of 2 runs each): wall {rel['wall'] / loc['wall']:.2f}x, bytes written "
            f"{rel['written'] / max(1, loc['written']):.2f}x; the reliable checkpoint files hold {per_doc:,.0f} bytes "
            f"a document, ~{per_doc:,.0f} GB at 1 B documents")


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
    parser.add_argument("--checkpoints", action="store_true",
                        help="only compare dedup.checkpoint=reliable against local (4 runs of the job)")
    parser.add_argument("--record", metavar="RUN", help=scale.RECORD_HELP)
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
    if args.checkpoints:
        result = compare_checkpoints(corpus, work, spark_env, args.docs)
        if args.record:
            scale.record(args.record, "dedup", items=args.docs, seconds=result["reliable"]["seconds"], cores=2,
                         bench=scale.command_line(), notes=[checkpoint_note(result)])
        return
    high = high_pairs(corpus)
    print(f"known near-duplicate pairs with 5-gram Jaccard >= 0.8: {len(high)}", flush=True)

    rows = {}
    job = run_job(corpus, work / "job-out", spark_env)
    rows["webmix dedup.py (local[2])"] = (job["seconds"], job["peak"], recall_of_job(work / "job-out", high))
    print(f"job: {job['seconds']:.1f}s (wall {job['wall']:.1f}s), removed "
          f"{job['stats']['removed_total']}", flush=True)
    if args.record:
        scale.record(args.record, "dedup", items=args.docs, seconds=job["seconds"], cores=2, bench=scale.command_line(),
                     peak_memory=f"{job['peak'] / 2**30:.1f} GB (driver JVM + Python workers, local[2])")
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
        peak = measure([sys.executable, __file__, "--worker", "datasketch", "--corpus", str(corpus),
                        "--out", str(out)]).peak
        result = json.loads(out.read_text())
        rows["datasketch MinHashLSH (1 process)"] = (result["seconds"], peak, recall_of_pairs(result["pairs"], high))
        print(f"datasketch: {result['seconds']:.1f}s", flush=True)
    if "mllib" not in skip:
        out = work / "mllib.json"
        peak = measure([str(REPO / ".venv/bin/spark-submit"), "--master", "local[2]", "--driver-memory", "6g",
                        __file__, "--worker", "mllib", "--corpus", str(corpus), "--out", str(out)], spark_env).peak
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
