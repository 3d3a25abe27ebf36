"""The report's road-to-a-snapshot section, fed by the figures benches record with --record RUN."""
import json

import pytest

from pipeline.report import scale
from pipeline.report.collect import collect
from pipeline.report.render import render


def test_recorded_bench_figures_become_the_snapshot_section_of_the_report(tmp_path, capsys):
    scale.record(tmp_path, "dedup", items=9000, seconds=5.0, cores=2, bench="bench/dedup.py --docs 9000",
                 peak_memory="2.1 GB process tree", notes=["reliable/local checkpoints: wall 1.10x"])
    # 110 pages/s/core: 2.7 B pages / 110 / 3600 = 6,818 core-hours (2.5 B: 6,313; 3.0 B: 7,576)
    scale.record(tmp_path, "quality_filter", items=1100, seconds=5.0, cores=2, bench="bench/quality_filter.py")
    scale.record(tmp_path, "quality_filter", items=2200, seconds=10.0, cores=2, bench="bench/quality_filter.py --pages 2200")
    figures = scale.read_figures(tmp_path / scale.SCALE_DIR)
    assert [f["stage"] for f in figures] == ["quality_filter", "dedup"]       # the chain's order
    assert figures[0]["per_core"] == 110 and figures[0]["bench"].endswith("--pages 2200")  # the latest run

    rows = scale.projection(figures)
    assert [round(h) for h in rows[0]["core_hours"]] == [6313, 6818, 7576]
    assert round(rows[1]["core_hours"][1]) == round(1e9 / 900 / 3600) == 309
    assert rows[0]["share"] == pytest.approx(6818.18 / (6818.18 + 308.64), rel=1e-4)

    page = render(collect(tmp_path))
    assert 'href="#scale">The road to a snapshot</a>' in page
    assert "<b>7,127 core-hours</b>" in page and "bottleneck is <b>quality_filter</b> (96%)" in page
    assert "<b>6,818</b> (6,313–7,576)" in page and "<b>309</b> (247–309)" in page
    assert "<code>bench/dedup.py --docs 9000</code>" in page and "reliable/local checkpoints: wall 1.10x" in page
    assert json.loads((tmp_path / "scale" / "dedup.json").read_text())["peak_memory"] == "2.1 GB process tree"

    assert scale.main([str(tmp_path / "scale")]) == 0
    assert "6,818 core-hours" in capsys.readouterr().out
    assert scale.main([str(tmp_path / "nothing")]) == 2
    with pytest.raises(ValueError, match="unknown stage 'train'"):
        scale.record(tmp_path, "train", items=1, seconds=1, cores=1, bench="x")
