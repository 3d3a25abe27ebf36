"""The `make dist` environment (build/dist-venv: no torch, no pyspark) runs every stage's driver:
each pipeline entry script's module imports there without torch, and build_mixture's driver runs
there end to end, with pyspark taken from the Spark installation's python/lib as on a cluster.
Skipped where `make dist` has not been run."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pyspark
import pytest

REPO = Path(__file__).resolve().parents[2]
DIST_PYTHON = REPO / "build" / "dist-venv" / "bin" / "python"
ENTRY_MODULES = sorted(f"pipeline.{p.stem}" for p in (REPO / "pipeline").glob("*.py") if p.stem != "__init__")

pytestmark = pytest.mark.skipif(not DIST_PYTHON.exists(), reason="build/dist-venv is made by `make dist`")


def dist_env() -> dict:
    """The project's sources (not the archive's possibly older copy) and the Spark installation's
    pyspark.zip + py4j, exactly what a cluster's executors get from SPARK_HOME/python/lib."""
    spark_home = Path(pyspark.__file__).parent
    zips = sorted(str(p) for p in (spark_home / "python" / "lib").glob("*.zip"))
    return {**os.environ, "SPARK_HOME": str(spark_home), "PYSPARK_PYTHON": str(DIST_PYTHON),
            "PYTHONPATH": os.pathsep.join([str(REPO), *zips])}


def test_every_entry_module_imports_without_torch():
    probe = ("import importlib, json, sys\n"
             f"for name in {ENTRY_MODULES!r}:\n"
             "    importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'training'))))")
    done = subprocess.run([str(DIST_PYTHON), "-c", probe], env=dist_env(), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert subprocess.run([str(DIST_PYTHON), "-c", "import torch"], capture_output=True).returncode != 0


@pytest.mark.slow
@pytest.mark.spark
def test_build_mixture_driver_runs_in_the_dist_environment(tiny_mixture):
    out = tiny_mixture / "mixture-dist"
    done = subprocess.run([str(DIST_PYTHON), "pipeline/build_mixture.py", "--mixture", str(tiny_mixture / "mix.yaml"),
                           "--root", str(tiny_mixture), "--output", str(out), "--block-size", "16",
                           "build_mixture.rows_per_shard=40"],
                          env={**dist_env(), "WEBMIX_SPARK_MASTER": "local[1]"}, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == 94 and (out / "_SUCCESS").exists()   # ceil(1500 / 16)
    rows = sum(pq.read_metadata(out / f["file"]).num_rows for f in manifest["shards"] if f["format"] == "parquet")
    assert rows == manifest["rows"]
