"""A failed Airflow run resumes without redoing finished stages: a two-task DAG (a real webmix Spark
stage, then a task that fails while a marker file exists), run, cleared and run again."""
from __future__ import annotations

import json
import textwrap

import pytest
import zstandard

import airflow_harness as af

DAG_FILE = textwrap.dedent('''
    from datetime import datetime

    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG

    with DAG(dag_id="webmix_resume", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
             default_args={{"retries": 0}}) as dag:
        links = SparkSubmitOperator(
            task_id="reddit_links", application="{script}", conn_id="spark_default",
            application_args=["--input", "{dump}", "--output", "{urls}"], driver_memory="1g",
            conf={{"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}})
        check = BashOperator(task_id="after", bash_command='test ! -e "{marker}"')
        links >> check
''')

SUBMISSIONS = [
    {"id": "a1", "url": "https://example.org/one", "score": 10, "created_utc": 1497000000,
     "subreddit": "science", "is_self": False, "over_18": False},
    {"id": "a2", "url": "https://example.net/two", "score": 1, "created_utc": 1497000100,
     "subreddit": "science", "is_self": False, "over_18": False},
    {"id": "a3", "url": "https://www.reddit.com/r/x", "score": 50, "created_utc": 1497000200,
     "subreddit": "x", "is_self": True, "over_18": False},
]


@pytest.mark.timeout(2400)   # two Airflow runs with a Spark stage each
def test_failed_run_resumes_and_skips_finished_stage(airflow, tmp_path):
    dags, home = tmp_path / "dags", tmp_path / "airflow"
    dags.mkdir()
    home.mkdir()
    dump, urls, marker = tmp_path / "RS_2017-06.zst", tmp_path / "urls", tmp_path / "fail-while-here"
    dump.write_bytes(zstandard.ZstdCompressor().compress(
        "".join(json.dumps(s) + "\n" for s in SUBMISSIONS).encode()))
    marker.touch()
    (dags / "webmix_resume.py").write_text(DAG_FILE.format(
        script=af.REPO_ROOT / "pipeline" / "reddit_links.py", dump=dump, urls=urls, marker=marker))
    env = af.airflow_env(home, dags)
    log = tmp_path / "airflow.log"
    af.prepare(env, log, pools=())

    first = af.dag_test(env, "webmix_resume", log, timeout=1100)
    assert first.states == {"reddit_links": "success", "after": "failed"}, log.read_text()[-4000:]
    assert first.returncode != 0
    assert (urls / "_SUCCESS").exists() and (urls / "_stats.json").exists()
    stats = json.loads((urls / "_stats.json").read_text())
    assert stats["job"] == "reddit_links" and stats["urls_out"] == 1
    first_log = af.task_log(home, "webmix_resume", "reddit_links", log)
    assert "reddit_links: done in" in first_log

    marker.unlink()
    cleared = af.airflow(env, "tasks", "clear", "webmix_resume", "--yes", log=log)
    assert cleared.returncode == 0
    second = af.dag_test(env, "webmix_resume", log, timeout=1100)
    assert second.states == {"reddit_links": "success", "after": "success"}, log.read_text()[-4000:]
    assert second.returncode == 0
    resumed_log = af.task_log(home, "webmix_resume", "reddit_links", log)
    assert f"reddit_links: {urls} is complete for this configuration; skipped" in resumed_log, resumed_log[-3000:]
    # the stage really was not redone: its statistics are the first run's
    assert json.loads((urls / "_stats.json").read_text())["fingerprint"] == stats["fingerprint"]
    assert json.loads((urls / "_stats.json").read_text())["seconds"] == stats["seconds"]
