"""`make demo`: every stage of the GPT-3 chain, end to end, on the embedded sample data, with Spark
in local mode; ends with a trained tiny GPT, a few samples from it and the HTML report.

    python -m pipeline.demo --out runs/demo                  # the whole chain
    python -m pipeline.demo --out runs/demo --until dedup    # the chain up to and including dedup

Before the report, the seconds-long data ablation (`webmix ablate --config conf/ablation_demo.yaml`,
one seed, a tiny model, on the same sample) leaves RUN/ablation/report/section.html, so the report
always has the ablation section; only the demo runs it (the Airflow chain has its own DAG,
dags/data_ablation.py).

The console gets one line per stage (a progress bar while a long one runs); everything a stage
prints, the JVM's and Spark's logs included, goes to RUN/logs/<stage>.log.

In local mode the Spark stages run in one JVM, started once (a JVM start is ~11 s of each stage on
two cores): each stage runs its own entry script (`pipeline/<stage>.py`, the same `Job` a user's
`spark-submit` runs) in this process, on the shared session, with the same Spark configuration as
`spark-submit --master local[2] --driver-memory 2g`; between stages the runtime SQL configuration a
stage changed is restored and whatever it cached is dropped, so a stage's output and fingerprint are
those of a `spark-submit` run (tests/core/test_demo_one_jvm.py compares them). `--spark-submit`, or
a master that is not local, runs each stage as its own `spark-submit` instead. A stage whose output
is complete for the same configuration is skipped on a second run. The CommonCrawl extraction runs
once per shard of the crawl, the shards one after another.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from pipeline.chain import Inputs, Step, shard_arguments, steps
from pipeline.core.spark import LOCAL_JVM_OPTIONS
from pipeline.demo_stages import OneJvm, StageLogs, StageProgress, run_command

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def sample_inputs(run: Path, sample: Path, max_steps: int, crawl_shards: int) -> Inputs:
    return Inputs(
        run=str(run), crawl=str(sample / "crawl" / "*.warc.gz"), reddit=str(sample / "reddit" / "*.zst"),
        wikipedia=str(sample / "curated" / "wikipedia" / "dump"), books=str(sample / "curated" / "books"),
        evals=str(sample / "eval" / "sample_eval.jsonl"), export_tokens="1000000",
        # one torch thread: the tiny model's ops are too short to share between two cores
        train_overrides=(f"max_steps={max_steps}", "threads=1"), crawl_shards=str(crawl_shards),
        # the feature-form comparison trains two more models: a third of the demo's classifier time
        classifier_overrides=("classifier.compare_features=false",))


def with_ablation(chain: list[Step], run: Path, sample: Path) -> list[Step]:
    """The chain with the demo's data ablation just before the report (the report reads its section)."""
    ablation = Step("ablation", "webmix", "ablate",
                    ("--config", str(REPO_ROOT / "conf" / "ablation_demo.yaml"), "--out", str(run / "ablation"),
                     f"data_root={sample}"))
    at = next(i for i, s in enumerate(chain) if s.task_id == "report")
    return chain[:at] + [ablation] + chain[at:]


def command(step: Step, driver_memory: str, master: str) -> list[str]:
    if step.kind == "spark":
        # A session builder's memory setting is ignored under spark-submit: the flag must be here.
        local = ["--driver-java-options", LOCAL_JVM_OPTIONS] if master.startswith("local") else []
        return [str(BIN / "spark-submit"), "--master", master, "--driver-memory", driver_memory, *local,
                str(REPO_ROOT / step.script), *step.args]
    program, *args = step.command
    return [str(BIN / program), *args]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="sample-data seed")
    parser.add_argument("--sample", help="the sample data's folder (default RUN/sample; made when missing)")
    parser.add_argument("--max-steps", type=int, default=300, help="training steps of the tiny GPT")
    parser.add_argument("--crawl-shards", type=int, default=2,
                        help="CommonCrawl extraction jobs, run one after another (default 2)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--until", metavar="TASK", help="stop after this step of the chain (a task id)")
    parser.add_argument("--spark-submit", action="store_true",
                        help="each Spark stage its own spark-submit (default in local mode: one JVM)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Path(args.out).resolve()
    sample = Path(args.sample).resolve() if args.sample else run / "sample"
    chain = with_ablation(steps(sample_inputs(run, sample, args.max_steps, args.crawl_shards)), run, sample)
    if args.until:
        ids = [s.task_id for s in chain]
        if args.until not in ids:
            print(f"error: --until: no step {args.until!r}; steps: {', '.join(ids)}", file=sys.stderr)
            return 2
        chain = chain[:ids.index(args.until) + 1]
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    start = time.perf_counter()
    logs = StageLogs(run / "logs")
    one_jvm = None if args.spark_submit or not args.master.startswith("local") else \
        OneJvm(args.master, args.driver_memory)
    try:
        with logs.stage("sample"):
            if not (sample / "manifest.json").exists():
                from pipeline.sample import generate

                generate(str(sample), seed=args.seed)
        logs.say(f"[demo] sample data in {sample}; logs in {logs.folder}")
        split_steps = {s.shards_from for s in chain}
        shards: dict[str, list[list[str]]] = {}   # splitting step -> each shard's arguments
        for number, step in enumerate(chain, 1):
            began = time.perf_counter()
            # a mapped step runs once per shard, one after another here (Airflow runs them side by side)
            runs = [replace(step, args=tuple(a)) for a in shards[step.shards_from]] if step.shards_from else [step]
            label = f"[demo] {number:2d}/{len(chain)} {step.task_id}"
            with logs.stage(step.task_id), StageProgress(logs.console, label, step, one_jvm, run) as progress:
                for each in runs:
                    if each.kind == "spark" and one_jvm is not None:
                        code, output = one_jvm.run(REPO_ROOT / each.script, list(each.args)), ""
                    else:
                        code, output = run_command(command(each, args.driver_memory, args.master), REPO_ROOT,
                                                   capture=bool(step.stdout) or step.task_id in split_steps)
                    if code != 0:
                        progress.fail()
                        logs.say(f"{label} failed (exit {code}); the last lines of {logs.path(step.task_id)}:")
                        logs.say(logs.tail(step.task_id))
                        return 1
            if step.stdout:
                Path(step.stdout).write_text(output)
            if step.task_id in split_steps:
                shards[step.task_id] = shard_arguments(output)
            logs.say(f"{label:<40} {time.perf_counter() - began:5.0f}s"
                     + ("  (complete: skipped)" if logs.skipped(step.task_id) else ""))
    finally:
        if one_jvm is not None:
            one_jvm.stop()
        logs.close()
    report = run / "report.html"
    print(f"[demo] finished in {time.perf_counter() - start:.0f}s"
          + (f"; report: {report}" if report.exists() else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
