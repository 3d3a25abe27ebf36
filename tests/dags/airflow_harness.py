"""Drive Airflow from the tests: its own virtual environment (.venv-airflow), a throw-away
AIRFLOW_HOME with SQLite, `spark_default` pointing at local[2], and the project environment's `bin`
first on PATH so the DAG's `spark-submit`, `train` and `webmix` are the project's.

Airflow never runs in the test process (its spark provider installs a `pyspark` of its own): every
call is a subprocess of .venv-airflow/bin/airflow or .venv-airflow/bin/python.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_VENV = Path(os.environ.get("WEBMIX_AIRFLOW_VENV", REPO_ROOT / ".venv-airflow"))
AIRFLOW = AIRFLOW_VENV / "bin" / "airflow"
AIRFLOW_PYTHON = AIRFLOW_VENV / "bin" / "python"
PROJECT_BIN = Path(sys.executable).parent
LOGICAL_DATE = "2026-01-02T00:00:00+00:00"


def available() -> bool:
    return AIRFLOW.exists() and AIRFLOW_PYTHON.exists()


def airflow_env(home: Path, dags_folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV", "PYTHON"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[2]"}),
        "PATH": f"{PROJECT_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYSPARK_PYTHON": str(PROJECT_BIN / "python"),
    })
    return env


def _run(argv: list[str], env: dict, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run in a process group of its own and end the whole group when the command times out or the
    test is interrupted: `spark-submit` and its JVM must not outlive a killed `airflow` command."""
    proc = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, text=True, start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def airflow(env: dict, *args: str, timeout: float = 600, log: Path | None = None) -> subprocess.CompletedProcess:
    """One `airflow …` command; with `log`, its output goes there (appended) instead of memory."""
    if log is None:
        return _run([str(AIRFLOW), *args], env, timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        return _run([str(AIRFLOW), *args], env, timeout, stdout=fh, stderr=subprocess.STDOUT)


def prepare(env: dict, log: Path, pools: tuple[str, ...] = ("gpu",)) -> None:
    """A fresh metadata database and the pools the DAG uses."""
    for args in (("db", "migrate"), *(("pools", "set", pool, "1", "webmix tests") for pool in pools)):
        done = airflow(env, *args, log=log, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed; see {log}")


@dataclass
class DagRunResult:
    returncode: int
    seconds: float
    states: dict[str, str | None] = field(default_factory=dict)   # task id -> state of the last run
    log: Path | None = None
    durations: dict[str, float | None] = field(default_factory=dict)  # task id -> seconds
    mapped: dict[str, int] = field(default_factory=dict)   # mapped task id -> instances

    def failed(self) -> list[str]:
        return [t for t, s in self.states.items() if s != "success"]


def dag_test(env: dict, dag_id: str, log: Path, conf: dict | None = None, timeout: float = 3600) -> DagRunResult:
    """`airflow dags test DAG_ID` for the fixed logical date (a second call clears and re-runs that
    run), then every task's final state."""
    import time

    args = ["dags", "test", dag_id, LOGICAL_DATE]
    if conf is not None:
        args += ["--conf", json.dumps(conf)]
    began = time.perf_counter()
    done = airflow(env, *args, log=log, timeout=timeout)
    seconds = time.perf_counter() - began
    states, durations, mapped = task_states(env, dag_id)
    return DagRunResult(done.returncode, seconds, states, log, durations, mapped)


STATES_SCRIPT = textwrap.dedent("""
    import json, sys
    from sqlalchemy import select
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session
    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == sys.argv[1])
                              .order_by(DagRun.id.desc()).limit(1)).first()
        states, durations, mapped = {}, {}, {}
        if run is not None:
            for ti in session.scalars(select(TaskInstance).where(TaskInstance.dag_id == sys.argv[1],
                                                                  TaskInstance.run_id == run.run_id)):
                state = getattr(ti.state, "value", ti.state)
                if ti.map_index >= 0:
                    mapped[ti.task_id] = mapped.get(ti.task_id, 0) + 1
                # a mapped task is as good as its worst instance; its seconds are theirs summed
                if states.get(ti.task_id, "success") == "success":
                    states[ti.task_id] = state
                durations[ti.task_id] = (durations.get(ti.task_id) or 0) + (ti.duration or 0)
    print("STATES " + json.dumps([states, durations, mapped]))
""")


def task_states(env: dict, dag_id: str) -> tuple[dict[str, str | None], dict[str, float | None], dict[str, int]]:
    """State and seconds of every task of the DAG's latest run, and the instances of each mapped task."""
    done = subprocess.run([str(AIRFLOW_PYTHON), "-c", STATES_SCRIPT, dag_id], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith("STATES "):
            states, durations, mapped = json.loads(line[len("STATES "):])
            return states, durations, mapped
    raise RuntimeError(f"could not read task states: {done.stderr[-2000:]}")


def task_log(home: Path, dag_id: str, task_id: str, combined: Path | None = None) -> str:
    """The text of a task's latest attempt (of any instance of a mapped task): its log file under
    AIRFLOW_HOME/logs, else its part of the combined `dags test` output (tasks run one after another
    there, each announced by a "[DAG TEST] running task <TaskInstance: DAG.TASK ..." line)."""
    logs = sorted((home / "logs").glob(f"dag_id={dag_id}/run_id=*/task_id={task_id}/**/attempt=*.log"),
                  key=lambda p: (p.stat().st_mtime, p.name))
    if logs:
        return logs[-1].read_text(errors="replace")
    if combined is None or not combined.exists():
        return ""
    text = combined.read_text(errors="replace")
    marker = f"running task <TaskInstance: {dag_id}.{task_id} "
    start = text.rfind(marker)
    if start < 0:
        return ""
    end = text.find("[DAG TEST] running task <TaskInstance: ", start + len(marker))
    return text[start:] if end < 0 else text[start:end]


ERROR_LINE = re.compile(r"(error|exception|failed|traceback|Error:)", re.IGNORECASE)


def error_lines(text: str, limit: int = 12) -> list[str]:
    """The lines of a log that say what went wrong (the last few, where the cause usually is)."""
    lines = [line.strip() for line in text.splitlines() if ERROR_LINE.search(line)]
    return lines[-limit:]
