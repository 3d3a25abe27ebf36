"""The one whole-chain run per test session: gpt3_corpus under a real Airflow scheduler on the
embedded sample data, shared by the DAG test, the report test and the browser test
(tests/dags/test_chain_*.py)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from string import Template

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


DAG_ID = "gpt3_corpus"
RUN_ID = "webmix-test"
CLEARED_TASK = "dedup"     # the task the resume check clears in the finished run
DOCS = af.REPO_ROOT / "docs" / "report.md"


def docs_conf(run: Path, sample: Path) -> dict:
    """The run conf of docs/report.md ("Airflow in production"): its ```json block, with ${RUN} and
    ${SAMPLE} substituted as the docs' command does."""
    text = DOCS.read_text()
    block = text[text.index("### Airflow in production"):].split("```json\n", 1)[1].split("```", 1)[0]
    return json.loads(Template(block).substitute(RUN=str(run), SAMPLE=str(sample)))


@pytest.fixture(scope="session")
def chain_run(airflow, tmp_path_factory) -> af.DagRunResult:
    """The whole GPT-3 chain under a real scheduler (scheduler + dag-processor + api-server,
    LocalExecutor, the pools created first), triggered with the docs' conf; then one task of that
    run cleared through the REST API and run again (`result.resume`). Every process is stopped
    before the tests look at the results; the run folder is `result.run_dir`.
    WEBMIX_CHAIN_RUN=DIR reuses the run folder of an earlier session instead (for iterating on the
    report tests without the chain)."""
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
    conf = docs_conf(run, sample)
    with af.Scheduler(home, af.REPO_ROOT / "dags", base, pools=("gpu", "spark"),
                      extra_env={"WEBMIX_RETRIES": "0"}) as scheduler:   # a broken stage fails once
        scheduler.wait_for_dag(DAG_ID)
        started = time.perf_counter()
        scheduler.cli("dags", "unpause", DAG_ID)
        scheduler.cli("dags", "trigger", DAG_ID, "--run-id", RUN_ID, "--conf", json.dumps(conf))
        state = scheduler.wait_for_run(DAG_ID, RUN_ID, timeout=CHAIN_TIMEOUT_S)
        result = scheduler.run_result(DAG_ID, RUN_ID, state, time.perf_counter() - started)
        if state == "success":
            result.resume = scheduler.clear_and_rerun(DAG_ID, RUN_ID, CLEARED_TASK, timeout=600)
    result.run_dir, result.home, result.conf, result.log = run, home, conf, base / "scheduler.log"
    print(f"\n[chain] sample + airflow up: {started - began:.0f}s; scheduled run of {DAG_ID}: "
          f"{result.seconds:.0f}s ({state}); logs in {base}", flush=True)
    return result
