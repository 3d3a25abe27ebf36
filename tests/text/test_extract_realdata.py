"""Regression on real pages: 60 fixed check pages of the seven gold sets (bench/extraction_suite.py
picks them; never used for tuning), scored with the shared evaluation tool's code. Each set's F1
must stay above the extractor's F1 on the same pages before issue 19, less 0.03."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import extraction_suite as suite  # noqa: E402
from pipeline.text.extract import extract_text  # noqa: E402

# F1 of the extractor at 34a2c48 (before issue 19) on these pages; now (8c520c9+): l3s-gn1 0.888,
# cleaneval 0.898, canola 0.927, cleanportaleval 0.825, google-trends-2017 0.845,
# htmltotext-benchmark 0.841, aeb 0.925.
BEFORE = {"l3s-gn1": 0.891, "cleaneval": 0.893, "canola": 0.867, "cleanportaleval": 0.822,
          "google-trends-2017": 0.846, "htmltotext-benchmark": 0.810, "aeb": 0.917}
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def scored(realdata):
    tool_path = realdata.parent / "tools" / "extraction_eval.py"
    if not tool_path.is_file():
        pytest.skip(f"evaluation tool not found at {tool_path}")
    tool = suite.load_eval_tool(tool_path)
    keys = suite.regression_keys(suite.read_split())
    pages = suite.load_suite(tool, realdata, only=keys)
    assert len(pages) == len(keys) == 60
    scorer = suite.Scorer(tool, pages)
    return pages, scorer, scorer.rows(pages, [extract_text(p.html, p.url) for p in pages])


@pytest.mark.parametrize("set_name", suite.SETS)
def test_f1_per_set_stays_above_its_floor(scored, set_name):
    pages, scorer, rows = scored
    mine = [row for page, row in zip(pages, rows) if page.set == set_name]
    assert len(mine) == suite.REGRESSION_PAGES[set_name]
    assert scorer.metrics(mine)["f1"] >= BEFORE[set_name] - TOLERANCE


def test_no_regression_page_comes_out_empty(scored):
    pages, _, rows = scored
    assert [p.key for p, row in zip(pages, rows) if row[0] + row[1] == 0] == []
