"""gpt3_corpus under a real scheduler runs the whole chain on the sample data with the docs' conf,
every task succeeds, and one task cleared in the finished run re-runs and skips itself (the run is
the session fixture `chain_run`, tests/dags/conftest.py)."""
from __future__ import annotations

import json
import math

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


def test_export_defaults_to_one_pass_over_the_tokens_on_disk(chain_run):
    """The docs' conf has no export_tokens: build_mixture exports min(budget, tokens available)."""
    manifest = json.loads((chain_run.run_dir / "mixture" / "manifest.json").read_text())
    available = sum(s["tokens_available"] for s in manifest["sources"])
    assert manifest["rows"] == math.ceil(available / manifest["block_size"]), manifest["rows"]


def test_clearing_one_task_of_the_run_reruns_it_and_it_skips(chain_run):
    if chain_run.home is None:
        return
    resume = chain_run.resume
    assert resume, "the run did not succeed: nothing was cleared"
    print(f"\n[chain] cleared {resume['cleared']}: ran again in {resume['seconds']:.0f}s, run {resume['state']}")
    assert resume["cleared"] == ["dedup"]
    assert resume["state"] == "success"
    before, after = resume["tries_before"], resume["tries_after"]
    assert after["dedup"] == before["dedup"] + 1
    assert {t: n for t, n in after.items() if t != "dedup"} == {t: n for t, n in before.items() if t != "dedup"}
    assert f"dedup: {chain_run.run_dir}/dedup is complete for this configuration; skipped" in resume["log"], \
        resume["log"][-3000:]
