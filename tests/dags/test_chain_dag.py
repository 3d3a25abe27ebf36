"""`airflow dags test gpt3_corpus` runs the whole chain on the sample data, in Airflow's own
environment, and every task succeeds (the run itself is the session fixture `chain_run`)."""
from __future__ import annotations

import json

import airflow_harness as af
from pipeline.chain import Inputs, steps


def _explain(chain_run) -> str:
    """Which task failed first (in chain order) and the log lines that say why."""
    order = [s.task_id for s in steps(Inputs(run="R", crawl="C", reddit="D", wikipedia="W", books="B", evals="E"))]
    lines = [f"dags test exit {chain_run.returncode} after {chain_run.seconds:.0f}s; states: "
             + json.dumps(chain_run.states)]
    failed = [t for t in order if chain_run.states.get(t) == "failed"] or \
        [t for t in order if chain_run.states.get(t) != "success"]
    if failed:
        lines.append(f"first task not successful: {failed[0]} ({chain_run.states.get(failed[0])})")
        if chain_run.home is not None:
            lines += af.error_lines(af.task_log(chain_run.home, "gpt3_corpus", failed[0], chain_run.log))
    return "\n".join(lines)


def test_every_task_of_the_chain_succeeds(chain_run):
    if chain_run.home is None:     # WEBMIX_CHAIN_RUN: a reused run folder, no Airflow run to judge
        return
    timings = ", ".join(f"{t} {d:.0f}s" for t, d in chain_run.durations.items() if d is not None)
    print(f"\n[chain] task durations: {timings}")
    expected = {s.task_id for s in steps(Inputs(run="R", crawl="C", reddit="D", wikipedia="W", books="B",
                                                evals="E"))}
    assert set(chain_run.states) == expected, _explain(chain_run)
    assert chain_run.failed() == [], _explain(chain_run)
    assert chain_run.returncode == 0, _explain(chain_run)
    # the extraction ran as one mapped task instance per shard
    assert chain_run.mapped == {"extract_commoncrawl": chain_run.conf["crawl_shards"]}, chain_run.mapped


def test_chain_outputs_are_committed(chain_run):
    run = chain_run.run_dir
    for folder in ("webtext/urls", "docs/cc_raw", "docs/commoncrawl", "docs/webtext", "models/classifier",
                   "dedup", "curated", "tokens/commoncrawl", "mixture"):
        assert (run / folder / "_SUCCESS").exists(), folder
        assert (run / folder / "_stats.json").exists(), folder
    shards = sorted(p.name for p in (run / "docs" / "cc_raw").iterdir() if p.is_dir())
    assert len(shards) >= 2 and all(s.startswith("shard=") for s in shards), shards
    for shard in shards:
        assert (run / "docs" / "cc_raw" / shard / "_SUCCESS").exists(), shard
    assert json.loads((run / "docs" / "cc_raw" / "_stats.json").read_text())["shards"] == shards
    assert (run / "train" / "metrics.jsonl").exists()
    assert (run / "train" / "samples.txt").read_text().strip(), "the sample task wrote no samples"
    assert (run / "report.html").exists()
