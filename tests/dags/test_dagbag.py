"""The DAG folder loads in Airflow's own environment, and gpt3_corpus is exactly pipeline.chain's
steps: the same task ids, the same dependencies, the same operators and arguments."""
from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

import airflow_harness as af
from pipeline.chain import Inputs, steps

pytestmark = pytest.mark.skipif(not af.available(), reason=f"no Airflow environment at {af.AIRFLOW_VENV}")

LOAD_SCRIPT = textwrap.dedent("""
    import json, sys
    from airflow.models import DagBag
    bag = DagBag(sys.argv[1])
    dag = bag.dags.get("gpt3_corpus")
    tasks = {}
    for task in (dag.tasks if dag else []):
        tasks[task.task_id] = {
            "upstream": sorted(task.upstream_task_ids), "operator": type(task).__name__,
            "pool": task.pool, "retries": task.retries,
            "application": getattr(task, "application", None),
            "application_args": getattr(task, "application_args", None),
            "conn_id": getattr(task, "conn_id", getattr(task, "_conn_id", None)),
            "bash_command": getattr(task, "bash_command", None)}
    print("DAGBAG " + json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                                  "dag_ids": sorted(bag.dag_ids), "tasks": tasks,
                                  "params": sorted(dag.params) if dag else []}))
""")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-dagbag")
    env = af.airflow_env(home, af.REPO_ROOT / "dags")
    done = subprocess.run([str(af.AIRFLOW_PYTHON), "-c", LOAD_SCRIPT, str(af.REPO_ROOT / "dags")], env=env,
                          cwd=af.REPO_ROOT, capture_output=True, text=True, timeout=600)
    lines = [l for l in done.stdout.splitlines() if l.startswith("DAGBAG ")]
    assert lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("DAGBAG "):])


def test_dag_folder_has_no_import_errors(dagbag):
    assert dagbag["errors"] == {}
    assert "gpt3_corpus" in dagbag["dag_ids"]


def test_tasks_and_dependencies_are_the_chain(dagbag):
    chain = steps(Inputs(run="R", crawl="C", reddit="D", wikipedia="W", books="B", evals="E"))
    tasks = dagbag["tasks"]
    assert set(tasks) == {s.task_id for s in chain}
    for step in chain:
        assert tasks[step.task_id]["upstream"] == sorted(step.upstream), step.task_id


def test_operators_follow_the_step_kinds(dagbag):
    chain = steps(Inputs(run="R", crawl="C", reddit="D", wikipedia="W", books="B", evals="E"))
    tasks = dagbag["tasks"]
    for step in chain:
        task = tasks[step.task_id]
        if step.kind == "spark":
            assert task["operator"] == "SparkSubmitOperator", step.task_id
            assert task["conn_id"] == "spark_default"
            assert task["application"] == str(af.REPO_ROOT / step.script)
            assert task["application_args"] and len(task["application_args"]) == len(step.args), step.task_id
            assert task["retries"] >= 1
        else:
            assert task["operator"] == "BashOperator", step.task_id
    assert tasks["train"]["pool"] == "gpu"
    assert tasks["train"]["bash_command"].startswith("train --mixture ")
    assert tasks["report"]["bash_command"].startswith("webmix report ")


def test_paths_are_dag_params(dagbag):
    assert {"run_dir", "crawl", "reddit", "wikipedia", "books", "evals", "max_steps"} <= set(dagbag["params"])
    args = " ".join(dagbag["tasks"]["extract_commoncrawl"]["application_args"])
    assert "{{ params.crawl }}" in args and "{{ params.run_dir }}" in args
