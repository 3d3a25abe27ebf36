"""The report opens in headless Chromium with every section present and every figure decoded."""
from __future__ import annotations

import re

import pytest

from pipeline.report.browser import dump_dom, find_chromium, images_decoded
from pipeline.report.collect import collect
from pipeline.report.render import render
from report_run import write_run

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")

SECTIONS = ["overview", "stages", "languages", "classifier", "dedup", "mixture", "training", "examples"]


def test_every_section_and_figure_renders_in_chromium(tmp_path):
    run = write_run(tmp_path / "run")
    page = run / "report.html"
    page.write_text(render(collect(run)), encoding="utf-8")
    dom = dump_dom(page)
    assert re.findall(r'<section id="([^"]+)"', dom) == SECTIONS
    decoded = images_decoded(dom)
    assert decoded is not None, "the page's load script did not run"
    assert decoded == (7, 7)
    for anchor in SECTIONS:      # each section has its heading and some content after the lead
        body = dom.split(f'<section id="{anchor}">', 1)[1].split("</section>", 1)[0]
        assert "<h2>" in body and ("<table" in body or "<img" in body or "class=\"cards\"" in body), anchor
