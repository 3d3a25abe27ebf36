"""The four entry scripts: --help, config mistakes (one line, exit 2, before Spark), and one real
spark-submit run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRIES = ["reddit_links", "cc_index", "fetch_pages", "extract_webtext"]


def run(args, **kw):
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, **kw)


@pytest.mark.parametrize("entry", ENTRIES)
def test_help(entry):
    result = run([sys.executable, f"pipeline/{entry}.py", "--help"])
    assert result.returncode == 0 and "example" in result.stdout and "--output" in result.stdout


def test_mistakes_fail_fast_with_one_line(tmp_path):
    dump = tmp_path / "RS_2017-01.ndjson"
    dump.write_text("{}\n")
    cases = [
        (["pipeline/reddit_links.py", "--input", str(dump), "--output", str(tmp_path / "o"), "--preset", "gpt4"],
         "reddit_links.preset"),
        (["pipeline/reddit_links.py", "--input", str(tmp_path / "nope.zst"), "--output", str(tmp_path / "o")],
         "Reddit dump not found"),
        (["pipeline/fetch_pages.py", "--via", "ccindex", "--urls", str(tmp_path), "--output", str(tmp_path / "o")],
         "needs --index"),
        (["pipeline/fetch_pages.py", "--via", "http", "--urls", str(tmp_path), "--output", str(tmp_path / "o"),
          "fetch_pages.http.allow_networks=[not-a-net]"], "fetch_pages.http.allow_networks"),
        (["pipeline/cc_index.py", "--input", str(tmp_path), "--output", str(tmp_path / "o")], "no WARC"),
    ]
    for args, message in cases:
        result = run([sys.executable, *args])
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.realdata
def test_spark_submit_reddit_links(tmp_path, realdata, spark_submit):
    out = tmp_path / "links"
    result = run([str(spark_submit), "--master", "local[1]", "pipeline/reddit_links.py",
                  "--input", str(realdata / "reddit/pushshift/RS_v2_2005-06.xz"), "--output", str(out),
                  "--preset", "gpt2", "reddit_links.output_partitions=1"])
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["submissions_in"] == 103 and stats["submissions_kept"] == 83
    assert stats["drop_reasons"] == {"links:low_score": 20} and stats["urls_out"] == 83
