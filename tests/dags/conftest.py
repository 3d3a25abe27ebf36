"""The one whole-chain run per test session: `airflow dags test gpt3_corpus` on the embedded sample
data, shared by the DAG test, the report test and the browser test (tests/dags/test_chain_*.py)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import airflow_harness as af

CHAIN_TIMEOUT_S = float(os.environ.get("WEBMIX_CHAIN_TIMEOUT", 5400))
# pytest-timeout (900 s a test) counts a fixture's set-up against the first test that requests it:
# every test of the chain gets the chain's own bound instead.
CHAIN_TEST_TIMEOUT_S = int(CHAIN_TIMEOUT_S) + 900


def pytest_collection_modifyitems(items):
    for item in items:
        if "chain_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(CHAIN_TEST_TIMEOUT_S))


@pytest.fixture(scope="session")
def airflow():
    """The harness (tests/dags/airflow_harness.py), or a skip where .venv-airflow is missing. Every
    test that runs Airflow uses this fixture, which also marks it `airflow` and `slow` (tests/conftest.py)."""
    if not af.available():
        pytest.skip(f"no Airflow environment at {af.AIRFLOW_VENV}")
    return af


MAX_STEPS = 20
CRAWL_SHARDS = 2   # the sample's four WARC files: two extraction jobs of two files each


def chain_conf(run: Path, sample: Path) -> dict:
    return {"run_dir": str(run), "crawl": str(sample / "crawl" / "*.warc.gz"),
            "reddit": str(sample / "reddit" / "*.zst"), "wikipedia": str(sample / "curated" / "wikipedia" / "dump"),
            "books": str(sample / "curated" / "books"), "evals": str(sample / "eval" / "sample_eval.jsonl"),
            "max_steps": MAX_STEPS, "export_tokens": 1_000_000, "crawl_shards": CRAWL_SHARDS}


@pytest.fixture(scope="session")
def chain_run(airflow, tmp_path_factory) -> af.DagRunResult:
    """The whole GPT-3 chain through Airflow, once; its run folder is `result.run_dir`.
    WEBMIX_CHAIN_RUN=DIR reuses the run folder of an earlier session instead (for iterating on the
    report tests without a 20-minute chain)."""
    reuse = os.environ.get("WEBMIX_CHAIN_RUN")
    if reuse:
        result = af.DagRunResult(returncode=0, seconds=0.0, states={})
        result.run_dir = Path(reuse)
        result.home = None
        return result
    from pipeline.sample import generate

    base = tmp_path_factory.mktemp("chain")
    sample, run, home = base / "sample", base / "run", base / "airflow"
    home.mkdir()
    began = time.perf_counter()
    generate(str(sample), seed=0)
    env = af.airflow_env(home, af.REPO_ROOT / "dags")
    env.setdefault("WEBMIX_RETRIES", "0")  # a broken stage fails the chain once, not three times
    log = base / "airflow.log"
    af.prepare(env, log)
    prepared = time.perf_counter() - began
    conf = chain_conf(run, sample)
    result = af.dag_test(env, "gpt3_corpus", log, conf=conf, timeout=CHAIN_TIMEOUT_S)
    result.run_dir, result.home, result.conf = run, home, conf
    print(f"\n[chain] sample + airflow db: {prepared:.0f}s; dags test gpt3_corpus: {result.seconds:.0f}s; "
          f"log {log}", flush=True)
    return result
