"""Every shipped task on 20 real items (WikiText-2: 2 articles, ~7k tokens each) with the fixture's
tiny model: the results schema, per-item files and the truncated counts (not accuracy)."""
import json

import pytest

from pipeline.evaltasks.spec import TASK_DIR
from training.cli import main

ROW_KEYS = {"task", "kind", "shots", "metric", "value", "interval", "n", "truncated", "chance",
            "interval_includes_chance", "model_fingerprint", "task_file_sha256", "data_sha256"}


@pytest.mark.realdata
def test_every_shipped_task_runs_on_real_items(planted_run, realdata, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WEBMIX_EVAL_DATA", str(realdata))
    tasks = sorted(p.stem for p in TASK_DIR.glob("*.yaml") if p.stem != "wikitext2")
    out = tmp_path / "out"
    assert main(["eval", "--checkpoint", str(planted_run["run"]), "--tasks", ",".join(tasks),
                 "--shots", "0,1", "--limit", "20", "--out", str(out)]) == 0
    assert main(["eval", "--checkpoint", str(planted_run["run"]), "--tasks", "wikitext2", "--limit", "2",
                 "--out", str(tmp_path / "bpb")]) == 0
    assert "≈ chance" in capsys.readouterr().out
    doc = json.loads((out / "results.json").read_text())
    assert {(r["task"], r["shots"]) for r in doc["results"]} == {(t, k) for t in tasks for k in (0, 1)}
    for row in doc["results"]:
        assert ROW_KEYS <= set(row) and row["n"] == 20
        assert row["interval"][0] <= row["value"] <= row["interval"][1] or row["metric"] == "ppl"
        records = [json.loads(l) for l in (out / "items" / f"{row['task']}.{row['shots']}shot.jsonl").read_text().splitlines()]
        assert len(records) == 20 and row["truncated"] == sum(r["truncated"] for r in records)
    truncated = {(r["task"], r["shots"]): r["truncated"] for r in doc["results"]}
    # a 256-position model with a 320-token byte-level BPE: long passages are cut, more with a shot
    assert truncated[("boolq", 0)] > 0 and all(truncated[(t, 1)] >= truncated[(t, 0)] for t in tasks)
    assert {"section.html", "table.md", "accuracy_vs_k.png"} <= {p.name for p in (out / "report").iterdir()}
    bpb = json.loads((tmp_path / "bpb" / "results.json").read_text())["results"]
    assert {r["metric"] for r in bpb} == {"bits_per_byte", "token_perplexity"}
    assert bpb[0]["stride"] == 128 and "non-raw" in bpb[0]["note"] and bpb[0]["n"] == 2
