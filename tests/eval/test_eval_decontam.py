"""GPT-3's all-vs-clean comparison: `decontaminate --eval TASK.yaml` reads the task through its reader
and writes per-item dirty flags; `train eval --clean-only` scores only the clean items."""
import json

import pyarrow.parquet as pq
import pytest

from pipeline.neardup.decontam_job import DecontaminateJob
from pipeline.neardup.synthetic import to_docs
from training.eval.runner import evaluate

LEAK = "apple river stone cloud tiger violin harbor candle meadow rocket pillow garden lantern mirror forest"


@pytest.mark.spark
def test_decontaminate_flags_task_items_and_eval_scores_the_clean_ones(spark, planted_run, tmp_path):
    rows = [{"key": "leaked", "q": LEAK, "label": 0}, {"key": "fresh", "q": "castle bottle pencil", "label": 1},
            {"key": "other", "q": "window ladder marble spider velvet dragon", "label": 0}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = tmp_path / "toy.yaml"
    task.write_text(f"kind: multiple_choice\ndata: {{file: {tmp_path / 'd.jsonl'}, reader: jsonl}}\nid: '{{key}}'\n"
                    "context: '{q}'\nchoices: [' yes', ' no']\ngold: label\n")
    filler = " ".join(f"w{i}" for i in range(150))
    (tmp_path / "docs").mkdir()
    pq.write_table(to_docs(["a", "b"], [f"{filler} {LEAK} {filler}", filler]), tmp_path / "docs" / "part-0.parquet")
    out = tmp_path / "decontaminated"
    assert DecontaminateJob().main(["--input", f"web={tmp_path / 'docs'}", "--eval", str(task),
                                    "--output", str(out), "--force"]) == 0
    flags = [json.loads(l) for l in (out / "_eval_flags" / "toy.jsonl").read_text().splitlines()]
    assert flags == [{"id": "leaked", "dirty": True}, {"id": "fresh", "dirty": False},
                     {"id": "other", "dirty": False}]
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["eval_sets"]["toy"]["dirty"] == 1
    everything = evaluate(planted_run["run"], [str(task)])
    clean = evaluate(planted_run["run"], [str(task)], clean_only=str(out))
    assert everything["results"][0]["n"] == 3 and clean["results"][0]["n"] == 2
    assert clean["results"][0]["clean_only"] is True
