"""The GPT-3 corpus recipe as one Airflow DAG.

reddit_links -> fetch_pages -> extract_webtext; CommonCrawl extraction, mapped over shards of the
crawl (split_crawl -> extract_commoncrawl[i] -> gather_commoncrawl); ingest of curated sources;
train_classifier -> quality_filter; dedup (within each source, then CommonCrawl against WebText) ->
decontaminate -> train_tokenizer -> tokenize_corpus -> build_mixture; train -> sample (in the `gpu`
pool); report. The chain itself is pipeline/chain.py, the same list `make demo` runs. Every Spark
stage is in the `spark` pool, whose slots bound the Spark jobs running at once (1 on one machine).

Each Spark stage is a SparkSubmitOperator on the `spark_default` connection (local[*] by default; point
it at YARN, Kubernetes or a standalone master to run on a cluster). The Airflow worker's PATH must
have the project environment's `bin` first, so that `spark-submit`, `train` and `webmix` are the
project's. A stage whose output is complete for the same configuration skips itself, so clearing a
failed task and re-running resumes the chain without redoing finished stages; a failed shard of the
extraction is cleared and re-run on its own.
"""
from __future__ import annotations

import os
import shlex
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # pipeline.chain uses the standard library only
from pipeline.chain import Inputs, shard_arguments, steps  # noqa: E402

DRIVER_MEMORY = os.environ.get("WEBMIX_DRIVER_MEMORY", "2g")
# C1-only JIT for the driver JVM (pipeline/core/spark.py, LOCAL_JVM_OPTIONS: on local[*] the driver
# is the executor, and C2 compilation took CPU the Python workers need). Empty: leave the cluster's own.
DRIVER_JAVA_OPTIONS = os.environ.get("WEBMIX_DRIVER_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
TRAIN_POOL = os.environ.get("WEBMIX_TRAIN_POOL", "gpu")
# Every Spark stage runs in this pool: its slots bound how many Spark jobs run at once. The scheduler
# starts independent stages side by side (the four tokenize_* jobs, build_mixture), and on local[*]
# each takes every core: create it with 1 slot on one machine, more on a cluster (README, "Airflow
# in production"). A pool that does not exist leaves its tasks "scheduled" forever.
SPARK_POOL = os.environ.get("WEBMIX_SPARK_POOL", "spark")
# Port 0: each driver's UI binds a port the OS picks, so jobs side by side never collide on
# 4040, 4041, ... (the bound port is in the task's log); "false" turns the UI off.
SPARK_UI_PORT = os.environ.get("WEBMIX_SPARK_UI_PORT", "0")
SPARK_CONF = {**({"spark.driver.extraJavaOptions": DRIVER_JAVA_OPTIONS} if DRIVER_JAVA_OPTIONS else {}),
              **({"spark.ui.enabled": "false"} if SPARK_UI_PORT == "false" else {"spark.ui.port": SPARK_UI_PORT}),
              # a task's log is a file: Spark's console progress bar would add a line per redraw
              "spark.ui.showConsoleProgress": "false"}
# How many extraction shards of one run may run at once. On local[*] each spark-submit takes every
# core, so on one machine they run one after another; raise it where spark_default is a cluster.
SHARD_CONCURRENCY = int(os.environ.get("WEBMIX_SHARD_CONCURRENCY", "1"))

params = {
    "run_dir": Param("/tmp/webmix-run", type="string", description="every output goes under this folder"),
    "crawl": Param("", type="string", description="CommonCrawl WARC/WET files: folder, glob or warc.paths.gz"),
    "crawl_shards": Param(4, type="integer", minimum=1,
                          description="CommonCrawl extraction jobs, each over its share of the crawl's files"),
    "reddit": Param("", type="string", description="Reddit submission dumps (Pushshift NDJSON)"),
    "wikipedia": Param("", type="string", description="a MediaWiki pages-articles XML dump"),
    "books": Param("", type="string", description="a folder of plain-text books"),
    "evals": Param("", type="string", description="an evaluation set (JSONL) to decontaminate against"),
    "model": Param("tiny", type="string", description="trainer preset (conf/model/)"),
    "max_steps": Param(300, type="integer", description="training steps"),
    "export_tokens": Param(None, type=["null", "integer"], minimum=1,
                           description="tokens build_mixture exports for other trainers; empty: min(the "
                                       "mixture's token budget, the tokens on disk), one pass"),
}

with DAG(
    dag_id="gpt3_corpus",
    description="GPT-3's filtered CommonCrawl + WebText + curated corpus, tokenized, and a GPT trained on it",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params=params,
    default_args={"retries": int(os.environ.get("WEBMIX_RETRIES", "2")), "retry_delay": timedelta(seconds=30)},
    tags=["webmix"],
) as dag:
    inputs = Inputs(
        run="{{ params.run_dir }}", crawl="{{ params.crawl }}", reddit="{{ params.reddit }}",
        wikipedia="{{ params.wikipedia }}", books="{{ params.books }}", evals="{{ params.evals }}",
        mixture=str(REPO / "conf" / "gpt3_mix.yaml"), model="{{ params.model }}",
        export_tokens="{{ params.export_tokens or 0 }}", crawl_shards="{{ params.crawl_shards }}",
        train_overrides=("max_steps={{ params.max_steps }}",))
    chain = steps(inputs)
    split_steps = {s.shards_from for s in chain}
    tasks = {}
    for step in chain:
        if step.kind == "spark":
            spark = dict(task_id=step.task_id, application=str(REPO / step.script), conn_id="spark_default",
                         driver_memory=DRIVER_MEMORY, name=f"webmix-{step.task_id}", pool=SPARK_POOL, conf=SPARK_CONF)
            tasks[step.task_id] = (
                SparkSubmitOperator.partial(**spark, max_active_tis_per_dagrun=SHARD_CONCURRENCY)
                .expand(application_args=tasks[step.shards_from].output)
                if step.shards_from else SparkSubmitOperator(**spark, application_args=list(step.args)))
        else:
            command = shlex.join(step.command) + (f" > {shlex.quote(step.stdout)}" if step.stdout else "")
            # a splitting step's last line is the JSON list of argument lists its mapped step expands over
            parse = {"output_processor": shard_arguments} if step.task_id in split_steps else {}
            tasks[step.task_id] = BashOperator(
                task_id=step.task_id, bash_command=command, cwd=str(REPO),
                pool=TRAIN_POOL if step.kind == "train" else "default_pool", **parse)
    for step in chain:
        for upstream in step.upstream:
            tasks[upstream] >> tasks[step.task_id]
