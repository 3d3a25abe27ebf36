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
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
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
    tries: dict[str, int] = field(default_factory=dict)    # task id -> its (latest instance's) try number
    resume: dict = field(default_factory=dict)             # Scheduler.clear_and_rerun's record

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


# --- a real scheduler: scheduler + dag-processor + api-server, as a user runs the DAG -------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scheduler_env(home: Path, dags_folder: Path, port: int) -> dict[str, str]:
    """airflow_env plus what the three processes of a real deployment share: the LocalExecutor, the
    api-server's address (tasks report through its Execution API) and one admin user."""
    env = airflow_env(home, dags_folder)
    base = f"http://127.0.0.1:{port}"
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        # the scheduler's log server: a free port too, so two sessions on one machine never collide
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        # one secret for the three processes; 64 bytes, as PyJWT wants for HS512 (the 16 bytes
        # `db migrate` generates draw a warning at every token)
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        # the DAG file is parsed once at start; nothing changes it during a test
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
    })
    return env


class Scheduler:
    """The three long-running processes, each in a process group of its own, stopped by pid on exit
    (with every task process and JVM they started). `prepare` (db migrate: it also writes airflow.cfg,
    JWT secret included, once, before any of them reads it) and the pools come first."""

    PROCESSES = (("api-server", "--port"), ("scheduler",), ("dag-processor",))

    def __init__(self, home: Path, dags_folder: Path, log_dir: Path, pools: tuple[str, ...],
                 extra_env: dict[str, str] | None = None):
        self.home, self.log_dir = home, log_dir
        self.port = free_port()
        self.env = {**scheduler_env(home, dags_folder, self.port), **(extra_env or {})}
        self.password = secrets.token_hex(8)
        (home / "passwords.json").write_text(json.dumps({"admin": self.password}))
        self.log = log_dir / "airflow-setup.log"
        prepare(self.env, self.log, pools)
        if not (home / "airflow.cfg").exists():
            raise RuntimeError(f"airflow db migrate wrote no {home / 'airflow.cfg'}")
        self.procs: dict[str, subprocess.Popen] = {}
        self._token: str | None = None

    def __enter__(self) -> "Scheduler":
        for name, *flag in self.PROCESSES:
            args = [str(AIRFLOW), name, *((flag[0], str(self.port)) if flag else ())]
            out = open(self.log_dir / f"{name}.log", "w")
            self.procs[name] = subprocess.Popen(args, env=self.env, cwd=REPO_ROOT, stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True)
            out.close()
        self._wait_for_api()
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:   # the group: task supervisors, spark-submit and JVMs a stopped process left behind
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def _wait_for_api(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"airflow {name} exited ({proc.returncode}); see {self.log_dir / name}.log")
            try:
                self.request("GET", "/api/v2/monitor/health", auth=False)
                return
            except OSError:
                time.sleep(2)
        raise TimeoutError(f"the api-server did not answer on port {self.port} in {timeout:.0f}s")

    def token(self) -> str:
        """A JWT from the api-server's /auth/token (SimpleAuthManager's user and password)."""
        if self._token is None:
            body = self.request("POST", "/auth/token", {"username": "admin", "password": self.password}, auth=False)
            self._token = body["access_token"]
        return self._token

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = airflow(self.env, *args, log=self.log, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed; see {self.log}")
        return done

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        """Until the dag-processor has put the DAG in the database."""
        import urllib.error

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", f"/api/v2/dags/{dag_id}")
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
            time.sleep(3)
        raise TimeoutError(f"{dag_id} was not parsed in {timeout:.0f}s; see {self.log_dir / 'dag-processor.log'}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, stuck_after: float = 60) -> str:
        """The run's final state. Fails early when tasks are "scheduled" and nothing has been running
        or queued for `stuck_after` seconds: a pool that does not exist leaves its tasks there
        forever (a task waiting for a busy pool's slot is not stuck; the busy task is running)."""
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            state = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            tis = self.task_instances(dag_id, run_id)
            now = time.monotonic()
            scheduled = sorted(f"{ti['task_id']}[{ti['map_index']}]" if ti["map_index"] >= 0 else ti["task_id"]
                               for ti in tis if ti["state"] == "scheduled")
            busy = any(ti["state"] in ("running", "queued", "up_for_retry", "up_for_reschedule", "deferred",
                                       "restarting") for ti in tis)
            idle_since = None if busy or not scheduled else (idle_since or now)
            if idle_since is not None and now - idle_since > stuck_after:
                raise RuntimeError(f"{', '.join(scheduled)} scheduled with nothing running for over "
                                   f"{stuck_after:.0f}s (a missing pool?); see {self.log_dir / 'scheduler.log'}")
            time.sleep(3)
        raise TimeoutError(f"{dag_id} run {run_id} not finished in {timeout:.0f}s")

    def run_result(self, dag_id: str, run_id: str, state: str, seconds: float) -> DagRunResult:
        """Every task's state, seconds and try number (a mapped task: its worst state, its seconds summed)."""
        result = DagRunResult(0 if state == "success" else 1, seconds)
        for ti in self.task_instances(dag_id, run_id):
            task = ti["task_id"]
            if ti["map_index"] >= 0:
                result.mapped[task] = result.mapped.get(task, 0) + 1
            if result.states.get(task, "success") == "success":
                result.states[task] = ti["state"]
            result.durations[task] = (result.durations.get(task) or 0) + (ti["duration"] or 0)
            result.tries[task] = max(result.tries.get(task, 0), ti["try_number"])
        return result

    def clear_and_rerun(self, dag_id: str, run_id: str, task_id: str, timeout: float) -> dict:
        """Clear one task of one run through the REST API (only_failed and dry_run default to true:
        without them a succeeded task is not cleared), wait until it has run again, and record what
        was cleared, every task's try number before and after, the run's state and the task's log."""
        before = self.run_result(dag_id, run_id, "success", 0).tries
        began = time.perf_counter()
        cleared = self.request("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", {
            "dag_run_id": run_id, "task_ids": [task_id], "dry_run": False, "only_failed": False})
        deadline, state = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            after = self.run_result(dag_id, run_id, "success", 0)
            if after.tries.get(task_id, 0) > before.get(task_id, 0) and after.states.get(task_id) == "success":
                state = self.wait_for_run(dag_id, run_id, timeout=max(1.0, deadline - time.monotonic()))
                break
            if after.states.get(task_id) == "failed":
                state = "failed"
                break
            time.sleep(2)
        return {"cleared": sorted(ti["task_id"] for ti in cleared["task_instances"]), "tries_before": before,
                "tries_after": self.run_result(dag_id, run_id, "success", 0).tries, "state": state,
                "seconds": time.perf_counter() - began, "log": task_log(self.home, dag_id, task_id)}
