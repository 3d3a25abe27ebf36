"""The DAG folder loads in Airflow's own environment, and gpt3_corpus is exactly pipeline.chain's
steps: the same task ids, the same dependencies, the same operators and arguments, the CommonCrawl
extraction mapped over the shards the splitting task lists."""
from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

import airflow_harness as af
from pipeline.chain import Inputs, steps

LOAD_SCRIPT = textwrap.dedent("""
    import json, sys
    from airflow.models import DagBag
    bag = DagBag(sys.argv[1])
    dag = bag.dags.get("gpt3_corpus")
    tasks = {}
    for task in (dag.tasks if dag else []):
        kwargs = task.partial_kwargs if task.is_mapped else vars(task)
        tasks[task.task_id] = {
            "upstream": sorted(task.upstream_task_ids), "operator": task.task_type,
            "pool": task.pool, "retries": task.retries, "mapped": task.is_mapped,
            "expand": ({k: repr(v) for k, v in task.expand_input.value.items()} if task.is_mapped else None),
            "application": kwargs.get("application"),
            "application_args": kwargs.get("application_args"),
            "conn_id": kwargs.get("conn_id", kwargs.get("_conn_id")),
            "bash_command": kwargs.get("bash_command"),
            "max_active_tis_per_dagrun": getattr(task, "max_active_tis_per_dagrun", None),
            "output_processor": getattr(kwargs.get("output_processor"), "__name__", None)}
    print("DAGBAG " + json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                                  "dag_ids": sorted(bag.dag_ids), "tasks": tasks,
                                  "params": sorted(dag.params) if dag else []}))
""")


@pytest.fixture(scope="module")
def dagbag(airflow, tmp_path_factory):
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
        assert task["mapped"] == bool(step.shards_from), step.task_id
        assert task["retries"] >= 1
        if step.kind == "spark":
            assert task["operator"] == "SparkSubmitOperator", step.task_id
            assert task["conn_id"] == "spark_default"
            assert task["pool"] == "spark", step.task_id    # WEBMIX_SPARK_POOL: Spark jobs at once
            assert task["application"] == str(af.REPO_ROOT / step.script)
            if not step.shards_from:
                assert task["application_args"] and len(task["application_args"]) == len(step.args), step.task_id
        else:
            assert task["operator"] == "BashOperator", step.task_id
    assert tasks["train"]["pool"] == tasks["sample"]["pool"] == "gpu"
    assert tasks["train"]["bash_command"].startswith("train --mixture ")
    assert tasks["sample"]["bash_command"].startswith("train sample --checkpoint ")
    assert tasks["sample"]["bash_command"].endswith("/train/samples.txt'")
    assert tasks["report"]["bash_command"].startswith("webmix report ")


def test_extraction_is_mapped_over_the_crawl_shards(dagbag):
    tasks = dagbag["tasks"]
    split, extract = tasks["split_crawl"], tasks["extract_commoncrawl"]
    assert split["bash_command"].startswith("webmix shards split --input ")
    assert split["output_processor"] == "shard_arguments"     # its JSON last line, parsed for expand()
    assert extract["expand"] == {"application_args": "XComArg(<Task(BashOperator): split_crawl>)"}
    assert extract["upstream"] == ["split_crawl"]
    assert extract["max_active_tis_per_dagrun"] == 1    # WEBMIX_SHARD_CONCURRENCY: one local[*] job at a time
    assert tasks["gather_commoncrawl"]["upstream"] == ["extract_commoncrawl"]
    assert "gather_commoncrawl" in tasks["train_classifier"]["upstream"]


def test_paths_are_dag_params(dagbag):
    assert {"run_dir", "crawl", "crawl_shards", "reddit", "wikipedia", "books", "evals",
            "max_steps"} <= set(dagbag["params"])
    split = dagbag["tasks"]["split_crawl"]["bash_command"]
    for param in ("crawl", "crawl_shards", "run_dir"):
        assert f"'{{{{ params.{param} }}}}" in split, param
