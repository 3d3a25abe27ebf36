"""spark-submit onto the standalone cluster as README's cluster section tells users, and reading a
run's Spark event log (a module of its own: test files cannot import `conftest` by name when several
test folders have one)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import standalone

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"


def submit(cluster: standalone.Cluster, script: str, args: list[str], *, conf: dict | None = None,
           log: Path | None = None, wait: bool = True):
    """spark-submit `pipeline/<script>.py` in client mode: the driver on this environment's python,
    executors on ./env from --archives; lid.176.ftz shipped with --files (langid.model_path names it)."""
    settings = {"spark.pyspark.python": "./env/bin/python", "spark.pyspark.driver.python": sys.executable,
                "spark.executor.memory": "1g", "spark.ui.showConsoleProgress": "false", **(conf or {})}
    command = [str(Path(sys.executable).parent / "spark-submit"), "--master", cluster.master_url,
               "--archives", f"{DIST / 'webmix-env.tar.gz'}#env", "--files", str(DIST / "lid.176.ftz")]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    command += [f"pipeline/{script}.py", *args]
    env = {**os.environ, "SPARK_HOME": str(standalone.spark_home()), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("PYSPARK_PYTHON", None)
    out = open(log, "w") if log else subprocess.PIPE
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return proc
    stdout, _ = proc.communicate(timeout=900)
    text = Path(log).read_text() if log else stdout
    assert proc.returncode == 0, f"{script} failed on the cluster:\n{text[-4000:]}"
    return text


def task_failures(event_log_dir: Path) -> list[str]:
    """The reasons of the failed tasks in a Spark event log folder (plain JSON lines: see EVENT_LOG)."""
    reasons = []
    for path in sorted(p for p in event_log_dir.rglob("*") if p.is_file() and "appstatus" not in p.name):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event.get("Event") == "SparkListenerTaskEnd" and event["Task End Reason"]["Reason"] != "Success":
                reasons.append(event["Task End Reason"]["Reason"])
    return reasons


def event_log(folder: Path) -> dict:
    """Spark settings that write one uncompressed event log into `folder` (read by task_failures)."""
    return {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(folder),
            "spark.eventLog.compress": "false", "spark.eventLog.rolling.enabled": "false"}
