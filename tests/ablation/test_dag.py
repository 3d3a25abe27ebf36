"""dags/data_ablation.py loads in Airflow's own environment: corpus -> list_variants -> train_eval
(mapped over the variants `webmix ablate --list-variants` prints) -> report, each `webmix ablate`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_PYTHON = Path(os.environ.get("WEBMIX_AIRFLOW_VENV", REPO_ROOT / ".venv-airflow")) / "bin" / "python"

LOAD = textwrap.dedent("""
    import json, sys
    from airflow.models import DagBag
    bag = DagBag(sys.argv[1])
    dag = bag.dags["data_ablation"]
    mod = next(m for name, m in sys.modules.items() if name.endswith("data_ablation"))
    print("DAG " + json.dumps({
        "errors": {k: str(v) for k, v in bag.import_errors.items()},
        "tasks": {t.task_id: {"upstream": sorted(t.upstream_task_ids), "mapped": t.is_mapped,
                              "command": (t.partial_kwargs if t.is_mapped else vars(t)).get("bash_command")}
                  for t in dag.tasks},
        "envs": mod.variant_envs(sys.argv[2])}))
""")


def test_dag_maps_training_over_the_variants(tmp_path):
    if not AIRFLOW_PYTHON.exists():
        pytest.skip(f"no Airflow environment at {AIRFLOW_PYTHON}")
    listed = subprocess.run([sys.executable, "-m", "pipeline.cli", "ablate", "--config", "conf/ablation_realdata.yaml",
                             "--list-variants"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV", "PYTHON"))}
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    done = subprocess.run([str(AIRFLOW_PYTHON), "-c", LOAD, str(REPO_ROOT / "dags" / "data_ablation.py"), listed],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("DAG ")]
    assert lines, done.stderr[-3000:]
    dag = json.loads(lines[-1][4:])
    assert dag["errors"] == {}
    tasks = dag["tasks"]
    assert tasks["list_variants"]["upstream"] == ["corpus"] and tasks["report"]["upstream"] == ["train_eval"]
    assert tasks["train_eval"]["mapped"] and "--phase train --variant" in tasks["train_eval"]["command"]
    assert "--phase corpus" in tasks["corpus"]["command"] and "--phase report" in tasks["report"]["command"]
    assert dag["envs"] == [{"VARIANT": v} for v in ("raw_cc", "heuristics", "classifier")]
