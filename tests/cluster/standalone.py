"""A Spark standalone cluster on 127.0.0.1: one master and N one-core workers, started with the
pyspark installation's own `spark-class`, for the cluster tests and for people (`make cluster`).

    python tests/cluster/standalone.py start --dir runs/cluster [--workers 2] [--worker-memory 2g]
    python tests/cluster/standalone.py stop --dir runs/cluster

`start` writes `cluster.json` (master URL, UI ports, process ids) into --dir and returns once every
worker has registered; `stop` ends each daemon's process group. Ports are free ones, never the
defaults (Airflow's api-server also likes 8080).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = "cluster.json"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: str
    master_port: int
    master_ui_port: int
    pids: dict = field(default_factory=dict)  # name -> pid (each leads its own process group)

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.master_ui_port}/json/", timeout=5) as r:
            return json.load(r)

    def worker_pids(self) -> list[int]:
        return [pid for name, pid in self.pids.items() if name.startswith("worker")]

    def executor_pids(self, app_id: str | None = None) -> dict[str, int]:
        """Executor id -> pid of the running executor JVMs (CoarseGrainedExecutorBackend) under
        this cluster's workers; of one application only when `app_id` is given (executor ids
        start from 0 in every application, and a finished one's executors may still be exiting)."""
        out = subprocess.run(["pgrep", "-f", "CoarseGrainedExecutorBackend"], capture_output=True, text=True)
        workers = set(self.worker_pids())
        found = {}
        for pid in (int(p) for p in out.stdout.split()):
            parent = pid
            while parent > 1:  # the executor is a worker's (grand)child
                parent = _parent(parent)
                if parent in workers:
                    try:
                        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    except OSError:  # ended since pgrep saw it
                        break
                    if app_id is not None and app_id.encode() not in args:
                        break
                    if b"--executor-id" in args:
                        found[args[args.index(b"--executor-id") + 1].decode()] = pid
                    break
        return found

    def save(self) -> None:
        Path(self.folder, STATE_FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, folder: str) -> "Cluster":
        return cls(**json.loads(Path(folder, STATE_FILE).read_text()))


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 1


def _daemon(cluster: Cluster, name: str, args: list[str]) -> None:
    folder = Path(cluster.folder)
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_NO_DAEMONIZE": "1", "SPARK_LOG_DIR": str(folder / "logs")}
    log = open(folder / "logs" / f"{name}.log", "ab")
    proc = subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    cluster.pids[name] = proc.pid


def start(folder: str, workers: int = 2, worker_memory: str = "2g", timeout: float = 120) -> Cluster:
    Path(folder, "logs").mkdir(parents=True, exist_ok=True)
    cluster = Cluster(str(Path(folder).resolve()), free_port(), free_port())
    try:
        _daemon(cluster, "master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                    "--port", str(cluster.master_port),
                                    "--webui-port", str(cluster.master_ui_port)])
        for i in range(workers):
            work = Path(cluster.folder, f"worker{i}")
            work.mkdir(exist_ok=True)
            _daemon(cluster, f"worker{i}", ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                            "--cores", "1", "--memory", worker_memory,
                                            "--webui-port", str(free_port()), "--work-dir", str(work),
                                            cluster.master_url])
        cluster.save()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if cluster.status().get("aliveworkers", 0) >= workers:
                    return cluster
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"standalone cluster: {workers} workers did not register in {timeout:.0f} s "
                                   f"(logs in {cluster.folder}/logs)")
            time.sleep(1)
    except BaseException:
        stop(cluster)
        raise


def stop(cluster: Cluster, grace: float = 10) -> None:
    """End every daemon's process group (the worker's executors included), TERM then KILL."""
    for pid in cluster.pids.values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    for pid in cluster.pids.values():
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in cluster.pids.values():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # not our child (stopped from another process, e.g. `make cluster-stop`)
    state = Path(cluster.folder, STATE_FILE)
    state.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A Spark standalone cluster (master + 1-core workers) on 127.0.0.1.")
    p.add_argument("action", choices=("start", "stop"))
    p.add_argument("--dir", default="runs/cluster", help="state, logs and worker folders (default: runs/cluster)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--worker-memory", default="2g")
    args = p.parse_args(argv)
    if args.action == "start":
        cluster = start(args.dir, args.workers, args.worker_memory)
        print(f"master {cluster.master_url}  UI http://127.0.0.1:{cluster.master_ui_port}  "
              f"workers {args.workers}; stop with: make cluster-stop")
    else:
        if not Path(args.dir, STATE_FILE).is_file():
            print(f"no cluster state in {args.dir}")
            return 0
        stop(Cluster.load(args.dir))
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
