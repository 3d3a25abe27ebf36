"""`make demo` runs the seconds-long data ablation just before its report, on the demo's own sample,
so the report always has the ablation section (the Airflow chain does not: it has its own DAG)."""
from __future__ import annotations

from pathlib import Path

from pipeline.chain import steps
from pipeline.demo import REPO_ROOT, sample_inputs, with_ablation


def test_demo_runs_the_ablation_on_its_sample_right_before_the_report(tmp_path):
    run, sample = tmp_path / "run", tmp_path / "sample"
    chain = steps(sample_inputs(run, sample, max_steps=1, crawl_shards=2))
    demo = with_ablation(chain, run, sample)
    ids = [s.task_id for s in demo]
    assert ids == [s.task_id for s in chain if s.task_id != "report"] + ["ablation", "report"]
    ablation = demo[ids.index("ablation")]
    assert ablation.command == ("webmix", "ablate", "--config", str(REPO_ROOT / "conf" / "ablation_demo.yaml"),
                                "--out", str(run / "ablation"), f"data_root={sample}")
    # the report collects RUN/<name>/report/section.html: the ablation writes it under RUN/ablation
    assert Path(ablation.args[ablation.args.index("--out") + 1]).parent == run
