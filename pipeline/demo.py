"""`make demo`: every stage of the GPT-3 chain, end to end, on the embedded sample data, with Spark
in local mode; ends with a trained tiny GPT, a few samples from it and the HTML report.

    python -m pipeline.demo --out runs/demo

Each stage is the same `spark-submit pipeline/<stage>.py` a user or the Airflow DAG runs, so a stage
whose output is complete for the same configuration is skipped on a second run. The CommonCrawl
extraction runs once per shard of the crawl, the shards one after another.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from pipeline.chain import Inputs, Step, shard_arguments, steps
from pipeline.core.spark import LOCAL_JVM_OPTIONS

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def sample_inputs(run: Path, sample: Path, max_steps: int, crawl_shards: int) -> Inputs:
    return Inputs(
        run=str(run), crawl=str(sample / "crawl" / "*.warc.gz"), reddit=str(sample / "reddit" / "*.zst"),
        wikipedia=str(sample / "curated" / "wikipedia" / "dump"), books=str(sample / "curated" / "books"),
        evals=str(sample / "eval" / "sample_eval.jsonl"), export_tokens="1000000",
        train_overrides=(f"max_steps={max_steps}",), crawl_shards=str(crawl_shards),
        # the feature-form comparison trains two more models: a third of the demo's classifier time
        classifier_overrides=("classifier.compare_features=false",))


def command(step: Step, driver_memory: str, master: str) -> list[str]:
    if step.kind == "spark":
        # A session builder's memory setting is ignored under spark-submit: the flag must be here.
        local = ["--driver-java-options", LOCAL_JVM_OPTIONS] if master.startswith("local") else []
        return [str(BIN / "spark-submit"), "--master", master, "--driver-memory", driver_memory, *local,
                str(REPO_ROOT / step.script), *step.args]
    program, *args = step.command
    return [str(BIN / program), *args]


def run_step(argv: list[str], env: dict, capture: bool = False) -> str:
    """Run one command; its standard output is returned (and echoed) when captured."""
    completed = subprocess.run(argv, cwd=REPO_ROOT, env=env, text=True,
                               stdout=subprocess.PIPE if capture else None)
    if completed.returncode != 0:
        raise SystemExit(f"demo: stage failed ({completed.returncode}): {' '.join(argv)}")
    print(completed.stdout or "", end="", flush=True)
    return completed.stdout or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="sample-data seed")
    parser.add_argument("--max-steps", type=int, default=300, help="training steps of the tiny GPT")
    parser.add_argument("--crawl-shards", type=int, default=2,
                        help="CommonCrawl extraction jobs, run one after another (default 2)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    args = parser.parse_args(argv)

    run = Path(args.out).resolve()
    sample = run / "sample"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    if not (sample / "manifest.json").exists():
        from pipeline.sample import generate

        generate(str(sample), seed=args.seed)
    print(f"[demo] sample data in {sample}", flush=True)
    chain = steps(sample_inputs(run, sample, args.max_steps, args.crawl_shards))
    split_steps = {s.shards_from for s in chain}
    shards: dict[str, list[list[str]]] = {}   # splitting step -> each shard's arguments
    for number, step in enumerate(chain, 1):
        began = time.perf_counter()
        # a mapped step runs once per shard, one after another here (Airflow runs them side by side)
        runs = [replace(step, args=tuple(a)) for a in shards[step.shards_from]] if step.shards_from else [step]
        for each in runs:
            output = run_step(command(each, args.driver_memory, args.master), env,
                              capture=bool(step.stdout) or step.task_id in split_steps)
        if step.stdout:
            Path(step.stdout).write_text(output)
        if step.task_id in split_steps:
            shards[step.task_id] = shard_arguments(output)
        print(f"[demo] {number}/{len(chain)} {step.task_id} done in {time.perf_counter() - began:.0f}s",
              flush=True)
    print(f"[demo] finished in {time.perf_counter() - start:.0f}s; report: {run / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
