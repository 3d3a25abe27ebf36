"""The one Spark session factory.

Local mode (local[*]) by default. Under `spark-submit`, whatever the user passed (`--master`,
`--conf`, `--driver-memory`) wins: our defaults only fill keys the launcher left unset.
"""
from __future__ import annotations

import os
import sys

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Small documents batches keep a Python worker's memory flat whatever a page weighs.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
    "spark.python.worker.reuse": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.shuffle.partitions": "16",
    "spark.ui.showConsoleProgress": "true",
    # A speculative copy of a crawl task would double its request rate against every host it owns.
    "spark.speculation": "false",
    "spark.sql.parquet.compression.codec": "zstd",
}

# When the driver is also the executor (local mode) on a laptop-sized machine, the JVM's C2 JIT
# compiler was measured to burn most of the JVM's CPU, CPU the Python workers need: in a 4,000-page
# quality_filter run the JVM used 35 s of CPU during the write and 22 s in the statistics jobs with
# C2, 7.5 s and 5.5 s with C1 only. Only for a JVM
# we launch ourselves: under spark-submit pass it as --driver-java-options (the demo and DAG do).
LOCAL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"


def _launched_by_spark_submit() -> bool:
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(app_name: str = "webmix", master: str | None = None,
              conf: dict[str, str] | None = None) -> SparkSession:
    """Return the active session or build one. `master`/`conf` are for tests and local tools."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(app_name)
    wanted = {**DEFAULTS, **(conf or {})}
    if _launched_by_spark_submit():
        SparkContext._ensure_initialized()
        launched = SparkConf()
        wanted = {k: v for k, v in wanted.items() if not launched.contains(k)}
        local = launched.get("spark.master", "local[*]").startswith("local")
        local = local and not launched.contains("spark.pyspark.python")
    else:
        master = master or os.environ.get("WEBMIX_SPARK_MASTER", "local[*]")
        builder = builder.master(master)
        local = True
        if master.startswith("local"):
            wanted.setdefault("spark.driver.extraJavaOptions", LOCAL_JVM_OPTIONS)
    # Local Python workers must run this interpreter (the project's environment), not whatever
    # `python3` is first on PATH; a cluster names its own (e.g. ./env/bin/python from --archives).
    if local and "PYSPARK_PYTHON" not in os.environ and "spark.pyspark.python" not in wanted:
        os.environ["PYSPARK_PYTHON"] = sys.executable
    for key, value in wanted.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("WEBMIX_SPARK_LOG_LEVEL", "WARN"))
    quiet_task_binary_warning(spark)
    return spark


def quiet_task_binary_warning(spark: SparkSession) -> None:
    """Silence, once per JVM, DAGScheduler's "Broadcasting large task binary" WARN. A Spark ML
    model's transform carries the model in every task's closure (train_classifier's logistic
    regression over 2^18 hashed features: ~2 MiB of weights), Spark broadcasts any task binary over
    1 MiB instead of shipping it per task, which is the right thing, and says so once per stage:
    ~200 identical lines a run. DAGScheduler's other WARN lines are rare (accumulator and barrier
    oddities); its ERROR lines still show."""
    jvm = spark.sparkContext._jvm   # no public API sets one logger's level
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.scheduler.DAGScheduler", jvm.org.apache.logging.log4j.Level.ERROR)
