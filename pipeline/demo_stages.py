"""The demo's machinery (pipeline/demo.py): each stage's output into its own log file, the Spark
stages in one JVM, and a progress line on the console.

Standard library and PySpark only; tqdm draws the bar.
"""
from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path

# Written to the log pipe between stages: everything before it belongs to the stage that ended.
STAGE_END = b"\x00webmix-demo-stage-end\x00\n"
SKIPPED = "is complete for this configuration; skipped"


class StageLogs:
    """This process's stdout and stderr (file descriptors 1 and 2, so also those of the JVM, the
    Python workers and the commands it starts, which inherit them) go into a pipe; a thread copies
    the pipe into the current stage's file, RUN/logs/<stage>.log. `console` is the terminal."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self.console = os.fdopen(os.dup(1), "w", buffering=1)
        read, write = os.pipe()
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        self._read = read
        self._sink = open(os.devnull, "ab")
        self._drained, self._switched = threading.Event(), threading.Event()
        threading.Thread(target=self._copy, name="demo-logs", daemon=True).start()

    def path(self, stage: str) -> Path:
        return self.folder / f"{stage}.log"

    def _copy(self) -> None:
        pending = b""
        keep = len(STAGE_END) - 1   # a chunk may end inside a marker
        while chunk := os.read(self._read, 1 << 16):
            data = pending + chunk
            while (at := data.find(STAGE_END)) >= 0:
                self._sink.write(data[:at])
                self._sink.flush()
                data = data[at + len(STAGE_END):]
                self._drained.set()
                self._switched.wait()
                self._switched.clear()
            cut = max(0, len(data) - keep)
            self._sink.write(data[:cut])
            self._sink.flush()
            pending = data[cut:]

    def _switch(self, path: Path | None) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, STAGE_END)
        self._drained.wait(timeout=30)
        self._drained.clear()
        self._sink.close()
        self._sink = open(path if path is not None else os.devnull, "ab")
        self._switched.set()

    @contextmanager
    def stage(self, name: str):
        self._switch(self.path(name))
        try:
            yield
        finally:
            self._switch(None)

    def say(self, line: str) -> None:
        self.console.write(line + "\n")
        self.console.flush()

    def tail(self, stage: str, lines: int = 25) -> str:
        return "\n".join(self.path(stage).read_text(errors="replace").splitlines()[-lines:])

    def skipped(self, stage: str) -> bool:
        return SKIPPED in self.path(stage).read_text(errors="replace")

    def close(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)


def run_command(argv: list[str], cwd: Path, capture: bool = False) -> tuple[int, str]:
    """Run one command (its output into the stage's log); its standard output is returned too when
    captured."""
    done = subprocess.run(argv, cwd=cwd, text=True, stdout=subprocess.PIPE if capture else None)
    if capture:
        sys.stdout.write(done.stdout)
    return done.returncode, done.stdout or ""


class OneJvm:
    """One local Spark session for every Spark stage: each stage runs its entry script as
    `__main__` (what `spark-submit pipeline/<stage>.py ARGS` runs) in this process. The session has
    what spark-submit's would: pipeline.core.spark's defaults, the driver memory and, in local mode,
    the C1-only JIT; the UI and Spark's console progress are off (they change no output). After each
    stage the runtime SQL configuration is put back as it was (fetch_pages turns a setting off for
    its own write) and cached data is dropped, so no stage sees another's state."""

    def __init__(self, master: str, driver_memory: str):
        self.master, self.driver_memory = master, driver_memory
        self._spark = None
        self._baseline: dict[str, str] = {}

    def session(self):
        if self._spark is None:
            from pipeline.core.spark import get_spark

            self._spark = get_spark("webmix-demo", master=self.master, conf={
                "spark.driver.memory": self.driver_memory, "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false"})
            self._baseline = dict(self._spark.conf.getAll)
        return self._spark

    def run(self, script: Path, args: list[str]) -> int:
        self.session()
        argv = sys.argv
        sys.argv = [str(script), *args]
        try:
            runpy.run_path(str(script), run_name="__main__")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:   # a stage's crash fails the demo with its traceback in the stage's log
            traceback.print_exc()
            code = 1
        finally:
            sys.argv = argv
            self.reset()
        return code

    def reset(self) -> None:
        """Runtime SQL configuration as it was before the stage; nothing cached, no temporary views."""
        spark = self._spark
        for key, value in dict(spark.conf.getAll).items():
            if key not in self._baseline:
                spark.conf.unset(key)
            elif value != self._baseline[key]:
                spark.conf.set(key, self._baseline[key])
        spark.catalog.clearCache()
        for rdd in spark.sparkContext._jsc.getPersistentRDDs().values():   # RDDs persisted outside SQL
            rdd.unpersist()
        for table in spark.catalog.listTables():
            if table.isTemporary:
                spark.catalog.dropTempView(table.name)

    def progress(self) -> tuple[int, int]:
        """Tasks done and known in the stages running now (for the progress bar)."""
        if self._spark is None:
            return 0, 0
        tracker = self._spark.sparkContext.statusTracker()
        infos = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
        infos = [i for i in infos if i is not None]
        return sum(i.numCompletedTasks for i in infos), sum(i.numTasks for i in infos)

    def stop(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None
        # the stages' logging.basicConfig(INFO) would print py4j's goodbye at exit, past the logs
        logging.getLogger("py4j").setLevel(logging.WARNING)


class StageProgress:
    """A bar on the console while a stage runs, where the console is a terminal: Spark tasks of the
    running Spark stages (one JVM), training steps of `train`, else the time so far."""

    def __init__(self, console, label: str, step, one_jvm: OneJvm | None, run: Path):
        self.console, self.label, self.step, self.one_jvm, self.run = console, label, step, one_jvm, run
        self._stop = threading.Event()
        self._thread = None
        self._bar = None

    def _train_steps(self) -> tuple[int, int]:
        total = next((int(a.split("=", 1)[1]) for a in self.step.args if a.startswith("max_steps=")), 0)
        metrics = self.run / "train" / "metrics.jsonl"
        if not metrics.exists():
            return 0, total
        lines = metrics.read_text().strip().splitlines()
        return (json.loads(lines[-1]).get("step", 0) if lines else 0), total

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            if self.step.kind == "train" and not self.step.target:
                done, total = self._train_steps()
            elif self.step.kind == "spark" and self.one_jvm is not None:
                done, total = self.one_jvm.progress()
            else:
                done, total = 0, 0
            if total:
                self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def __enter__(self) -> "StageProgress":
        if self.console.isatty():
            from tqdm import tqdm

            self._bar = tqdm(desc=self.label, file=self.console, leave=False, dynamic_ncols=True,
                             bar_format="{desc} {bar:20} {n_fmt}/{total_fmt} {elapsed}")
            self._thread = threading.Thread(target=self._poll, name="demo-progress", daemon=True)
            self._thread.start()
        return self

    def fail(self) -> None:
        self.__exit__()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
