"""The report of the whole-chain run (written by the DAG's last task) holds every stage and opens in
headless Chromium with every section and figure rendered."""
from __future__ import annotations

import re

import pytest

from pipeline.report.browser import dump_dom, find_chromium, images_decoded
from pipeline.report.collect import chain_outputs, collect
from pipeline.report.summaries import summarize

SECTIONS = ["overview", "stages", "languages", "classifier", "dedup", "mixture", "training", "examples"]


def test_report_collects_every_stage_of_the_chain(chain_run):
    data = collect(chain_run.run_dir)
    # every task that writes a stage output, once: the extraction's shards are its one gathered output
    expected = [task for task, _ in chain_outputs(chain_run.run_dir) if task != "train"]
    assert [s.task for s in data.stages] == expected, data.missing
    for stage in data.stages:
        f = summarize(stage.stats)
        assert stage.complete, stage.task
        if f.docs_in is not None and f.docs_out is not None and stage.job not in ("decontaminate", "reddit_links", "classifier"):
            # every document that went in either came out or was dropped for a named reason
            assert f.docs_in - f.docs_out == sum(f.reasons.values()), (stage.task, f)
    assert data.classifier and data.mixture and data.metrics


@pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")
def test_chain_report_renders_in_chromium(chain_run):
    page = chain_run.run_dir / "report.html"
    assert page.exists(), "the DAG's report task wrote no report.html"
    dom = dump_dom(page)
    assert re.findall(r'<section id="([^"]+)"', dom) == SECTIONS
    decoded = images_decoded(dom)
    assert decoded is not None and decoded[0] == decoded[1] >= 7, decoded
