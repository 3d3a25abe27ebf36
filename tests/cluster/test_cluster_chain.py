"""The chain on a real standalone cluster equals the chain in local mode, and survives a lost
executor: quality_filter (extract, langid, heuristics, score, sample in one pass), dedup,
decontaminate, tokenize_corpus and build_mixture through spark-submit --master spark://…, executors
on the `make dist` archive, against the same jobs on the suite's local[2] session — same ids, same
texts, same token rows. During quality_filter, and during dedup after its first checkpoint, one
executor JVM is SIGKILLed (found by its pid under a worker); the job finishes through Spark's task
retries with the same output, and its event log shows the lost tasks (else nothing was tested)."""
from __future__ import annotations

import json
import os
import re
import runpy
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cluster_harness import event_log, submit, task_failures
from standalone import free_port

REPO = Path(__file__).resolve().parents[2]


def stage_args(run: Path, shared: Path) -> list[tuple[str, str, list[str]]]:
    """(label, entry script, arguments) of the stages that run both ways, in chain order. `shared`
    holds what both runs start from: the crawl, the books' documents, a tokenizer; the classifier is
    the one that ships with the package (its weights travel in the dist archive)."""
    docs, dedup, curated = run / "docs", run / "dedup", run / "curated"
    return [
        ("quality_filter", "quality_filter", ["--input", str(shared / "crawl"), "--model", "default",
                                              "--output", str(docs / "commoncrawl")]),
        ("dedup", "dedup", ["--input", f"books={shared / 'books'}", "--input", f"commoncrawl={docs / 'commoncrawl'}",
                            "--priority", "books,commoncrawl", "--output", str(dedup)]),
        ("decontaminate", "decontaminate", ["--input", f"books={dedup / 'books'}",
                                            "--input", f"commoncrawl={dedup / 'commoncrawl'}",
                                            "--eval", f"sample={shared / 'sample/eval/sample_eval.jsonl'}",
                                            "--output", str(curated)]),
        ("tokenize", "tokenize_corpus", ["--input", str(curated / "commoncrawl"), "--tokenizer",
                                         str(shared / "tokenizer/tokenizer.json"), "--source", "commoncrawl",
                                         "--output", str(run / "tokens/commoncrawl")]),
        ("build_mixture", "build_mixture", ["--mixture", str(shared / "mix.yaml"), "--root", str(run),
                                            "--output", str(run / "mixture"), "build_mixture.tokens=20000"]),
    ]


def run_local(script: str, args: list[str]) -> None:
    """The job of an entry script in this process, on the suite's local[2] session."""
    names = runpy.run_path(str(REPO / "pipeline" / f"{script}.py"))
    job = next(v for k, v in names.items() if k.endswith("Job") and k != "Job" and isinstance(v, type))
    assert job().main(args) == 0, f"{script} failed in local mode"


@pytest.fixture(scope="module")
def shared(tmp_path_factory, realdata, spark):
    from pipeline.sample import generate

    root = tmp_path_factory.mktemp("chain-inputs")
    generate(str(root / "sample"), seed=0)
    crawl = root / "crawl"
    crawl.mkdir()
    real = sorted(p for p in (realdata / "warc/commoncrawl").glob("*.warc.gz") if ".wat." not in p.name
                  and ".wet." not in p.name)
    for warc in sorted((root / "sample/crawl").glob("*.warc.gz")) + real:
        (crawl / warc.name).symlink_to(warc)
    run_local("quality_filter", ["--input", str(crawl), "--output", str(root / "cc_raw")])
    run_local("ingest", ["--kind", "books", "--input", str(root / "sample/curated/books"), "--source", "books",
                         "--output", str(root / "books")])
    run_local("train_tokenizer", ["--input", str(root / "books"), str(root / "cc_raw"),
                                  "--output", str(root / "tokenizer"), "--vocab-size", "2048"])
    (root / "tokens").mkdir()
    run_local("tokenize_corpus", ["--input", str(root / "books"), "--tokenizer", str(root / "tokenizer/tokenizer.json"),
                                  "--source", "books", "--output", str(root / "tokens/books")])
    (root / "mix.yaml").write_text(
        "seed: 7\ntoken_budget: 1M\ntokenizer: null\nroot: null\nvalidation_fraction: 0.01\nsources:\n"
        f"  - {{name: commoncrawl, path: tokens/commoncrawl, weight: 0.6}}\n"
        f"  - {{name: books, path: {root / 'tokens/books'}, weight: 0.4}}\n")
    return root


def driver_api(ui_port: int, what: str) -> tuple[str, list[dict]]:
    """(application id, the driver's REST answer about `what`)."""
    base = f"http://127.0.0.1:{ui_port}/api/v1/applications"
    with urllib.request.urlopen(base, timeout=2) as r:
        app = json.load(r)[0]["id"]
    with urllib.request.urlopen(f"{base}/{app}/{what}", timeout=2) as r:
        return app, json.load(r)


def ui_port_of(log: Path, configured: int) -> int:
    """The port the driver's UI really bound (Spark moves on to the next one when a port is taken)."""
    found = re.search(r"started service 'SparkUI' on port (\d+)", log.read_text() if log.is_file() else "")
    return int(found.group(1)) if found else configured


def busy_executors(ui_port: int, ready) -> tuple[str | None, list[str]]:
    """(application id, its executors running tasks) once `ready(jobs)`; nothing while the
    driver's API is not up yet or is gone."""
    try:
        app, jobs = driver_api(ui_port, "jobs")
        if not (jobs and ready(jobs)):
            return None, []
        _, executors = driver_api(ui_port, "executors")
        return app, [e["id"] for e in executors if e["id"] != "driver" and e["activeTasks"] > 0]
    except (OSError, ValueError, IndexError, KeyError):
        return None, []


def kill_executor_when(cluster, log: Path, ui_port: int, ready, proc, outcome: dict) -> None:
    """Once `ready(jobs)`, SIGKILL an executor in the middle of a task. The executor is frozen
    (SIGSTOP) first and killed only if the driver still counts a task on it, so a task that ends
    between the look and the kill cannot turn the test into a no-op, however fast the machine."""
    try:
        while proc.poll() is None:
            port = ui_port_of(log, ui_port)
            app, busy = busy_executors(port, ready)
            pids = cluster.executor_pids(app) if busy else {}
            for executor in busy:
                pid = pids.get(executor)
                try:
                    os.kill(pid, signal.SIGSTOP)
                except (TypeError, ProcessLookupError):  # not found, or ended since
                    continue
                time.sleep(0.5)  # status updates already on the wire arrive
                if executor in busy_executors(port, ready)[1]:
                    os.kill(pid, signal.SIGKILL)
                    outcome["killed"] = pid
                    return
                os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
    except Exception as error:  # noqa: BLE001 (reported by the test instead of dying with the thread)
        outcome["error"] = repr(error)


def after_first_checkpoint(jobs: list[dict]) -> bool:
    done = [j for j in jobs if "checkpoint" in j.get("name", "") and j["status"] == "SUCCEEDED"]
    return bool(done) and any(j["status"] == "RUNNING" and j["jobId"] > min(d["jobId"] for d in done)
                              for j in jobs)


def while_tasks_run(jobs: list[dict]) -> bool:
    return any(j["status"] == "RUNNING" for j in jobs)


FAULTS = {"quality_filter": while_tasks_run, "dedup": after_first_checkpoint}


@pytest.fixture(scope="module")
def runs(shared, standalone_cluster, tmp_path_factory):
    """Every stage in local mode, then on the cluster (with the executor kills); seconds of each."""
    local, cluster = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("on-cluster")
    seconds, failures = {}, {}
    for (label, script, args), (_, _, cluster_args) in zip(stage_args(local, shared), stage_args(cluster, shared)):
        start = time.monotonic()
        run_local(script, args)
        middle = time.monotonic()
        extra = ["langid.model_path=lid.176.ftz"] if script == "quality_filter" else []
        conf = {}
        if label in FAULTS:
            events = cluster / f"events-{label}"
            events.mkdir()
            ui_port = free_port()
            conf = {"spark.ui.port": str(ui_port), **event_log(events)}
        proc = submit(standalone_cluster, script, [*cluster_args, *extra], conf=conf,
                      log=cluster / f"{label}.log", wait=False)
        outcome: dict = {}
        if label in FAULTS:
            watcher = threading.Thread(target=kill_executor_when,
                                       args=(standalone_cluster, cluster / f"{label}.log", ui_port,
                                             FAULTS[label], proc, outcome))
            watcher.start()
        try:
            proc.wait(timeout=900)
        finally:  # a test stopped by its timeout leaves no driver behind
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if label in FAULTS:
            watcher.join()
            failures[label] = (outcome, task_failures(events))
        log = (cluster / f"{label}.log").read_text()
        assert proc.returncode == 0, f"{label} failed on the cluster:\n{log[-4000:]}"
        seconds[label] = (round(middle - start, 1), round(time.monotonic() - middle, 1))
    print("\nstage seconds (local[2] in-process, cluster spark-submit):", json.dumps(seconds))
    return local, cluster, failures


def rows(folder: Path, *columns: str) -> list[tuple]:
    table = pq.read_table(folder, columns=list(columns))
    return sorted(zip(*(table.column(c).to_pylist() for c in columns)))


def all_rows(folder: Path) -> list[tuple]:
    """Every row of every Parquet file below `folder`, as sorted tuples of (column, value)."""
    out = []
    for path in sorted(folder.rglob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            out.append(tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in row.items())))
    return sorted(out)


@pytest.mark.parametrize("folder", ["docs/commoncrawl", "dedup/books", "dedup/commoncrawl",
                                    "curated/books", "curated/commoncrawl"])
def test_documents_equal(runs, folder):
    local, cluster, _ = runs
    expected = rows(local / folder, "id", "text")
    assert expected, f"{folder} is empty: the comparison would test nothing"
    assert rows(cluster / folder, "id", "text") == expected


COUNTS = ("documents_in", "documents_out", "drop_reasons", "rows_by_reason", "output_docs", "removed")


def test_stage_counts_equal(runs):
    local, cluster, _ = runs
    for folder in ("docs/commoncrawl", "dedup", "curated"):
        a, b = ({k: v for k, v in json.loads((r / folder / "_stats.json").read_text()).items() if k in COUNTS}
                for r in (local, cluster))
        assert a, f"{folder}: no counts to compare"
        assert a == b, folder


def test_tokens_and_mixture_equal(runs):
    local, cluster, _ = runs
    expected = all_rows(local / "tokens/commoncrawl")
    assert expected and all_rows(cluster / "tokens/commoncrawl") == expected
    manifests = [json.loads((r / "mixture/manifest.json").read_text()) for r in (local, cluster)]
    assert manifests[0]["rows"] > 0 and manifests[0]["rows"] == manifests[1]["rows"]
    shards = [sorted(f["file"] for f in m["shards"] if f["format"] == "parquet") for m in manifests]
    assert shards[0] and shards[0] == shards[1]
    for name in shards[0]:
        assert pq.read_table(local / "mixture" / name).equals(pq.read_table(cluster / "mixture" / name))


@pytest.mark.parametrize("label", sorted(FAULTS))
def test_a_killed_executor_costs_only_retried_tasks(runs, label):
    _, _, failures = runs
    outcome, reasons = failures[label]
    assert "killed" in outcome, f"{label}: no executor was killed: {outcome.get('error', 'the job ended first')}"
    assert "ExecutorLostFailure" in reasons, f"{label}: no task was lost with the executor: {reasons}"
