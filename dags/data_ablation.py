"""The data ablation (issue 16, `webmix ablate`) as an Airflow DAG, mapped over the variants.

corpus (every variant's Spark stages, shared prefixes once, in the `spark` pool) -> list_variants ->
train_eval[variant] (training and `train eval` of each seed, mapped: one task per variant, in the
training pool) -> report (ablation.json, timings.json, report/). Each task is the `webmix ablate`
command with --phase, so the DAG and the command run the same code; a stage complete for its
fingerprint skips itself, so clearing a failed task resumes without redoing finished work. The
Airflow worker's PATH must have the project environment's `bin` first (as for gpt3_corpus).
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

REPO = Path(__file__).resolve().parents[1]
SPARK_POOL = os.environ.get("WEBMIX_SPARK_POOL", "spark")
TRAIN_POOL = os.environ.get("WEBMIX_TRAIN_POOL", "gpu")
ABLATE = "webmix ablate --config {{ params.config }} --out {{ params.out }}"


def variant_envs(output: str) -> list[dict[str, str]]:
    """`--list-variants` output (a JSON list on its last line) -> one environment per variant (values
    mapped from an XCom are not templated, so the variant travels as $VARIANT)."""
    return [{"VARIANT": v} for v in json.loads(output.strip().splitlines()[-1])]


with DAG(
    dag_id="data_ablation",
    description="Small GPTs trained on recipe variants of the corpus, compared on held-out bits per byte",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"config": Param(str(REPO / "conf" / "ablation_realdata.yaml"), type="string",
                            description="the ablation YAML (variants as data)"),
            "out": Param("/tmp/webmix-ablation", type="string", description="the run folder")},
    tags=["webmix"],
) as dag:
    corpus = BashOperator(task_id="corpus", bash_command=f"{ABLATE} --phase corpus", cwd=str(REPO), pool=SPARK_POOL)
    variants = BashOperator(task_id="list_variants", bash_command=f"{ABLATE} --list-variants", cwd=str(REPO),
                            output_processor=variant_envs)
    train_eval = BashOperator.partial(
        task_id="train_eval", bash_command=f"{ABLATE} --phase train --variant \"$VARIANT\"", cwd=str(REPO),
        pool=TRAIN_POOL, append_env=True).expand(env=variants.output)
    report = BashOperator(task_id="report", bash_command=f"{ABLATE} --phase report", cwd=str(REPO))
    corpus >> variants >> train_eval >> report
