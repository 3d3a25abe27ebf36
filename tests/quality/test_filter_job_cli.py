"""quality_filter's command line: mistakes exit 2 with one line, before Spark starts; --help and a
run from another working directory through the real spark-submit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.quality.filter_job import QualityFilterJob
from pipeline.readers.warc_write import Page, write_warc

REPO = Path(__file__).resolve().parents[2]
ARTICLE = b"""<html><body><article><h1>Rebuilding the harbour</h1>
<p>The harbour of the old town was rebuilt in the years after the great storm of the winter.</p>
<p>Engineers chose stone over timber for the new walls, because the sea had broken every wooden pier.</p>
<p>Fishermen returned within a year, and the market on the quay opened again with new stalls.</p>
<p>The town council paid for the work with a loan that took three decades to repay in full.</p>
<p>Today visitors can walk along the top of the wall and see the marks left by the masons.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def small_warc(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "small.warc.gz"
    write_warc(str(path), [Page(f"http://harbour.example/{i}", ARTICLE) for i in range(3)])
    return path


@pytest.mark.parametrize("extra, message", [
    (["heuristics.min_wordz=3"], "heuristics.min_wordz: unknown key"),
    (["heuristics.min_words=many"], "heuristics.min_words: input should be a valid integer"),
    (["--alpha", "0"], "quality_filter.alpha must be > 0"),
    (["langid.model_path=/nowhere/lid.176.ftz"], "langid.model_path"),
    (["--model", "/nowhere/model"], "classifier model folder /nowhere/model"),
])
def test_mistakes_exit_2_with_one_line(small_warc, tmp_path, capsys, extra, message):
    code = QualityFilterJob().main(["--input", str(small_warc), "--output", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_missing_input_exits_2(tmp_path, capsys):
    code = QualityFilterJob().main(["--input", str(tmp_path / "nope.warc.gz"), "--output", str(tmp_path / "o")])
    assert code == 2 and capsys.readouterr().err.strip() == f"error: input not found: {tmp_path / 'nope.warc.gz'}"


def test_lang_flag_becomes_a_config_list():
    job = QualityFilterJob()
    args = job.parser().parse_args(["--input", "x", "--output", "y", "--lang", "en,no", "--no-sample", "--seed", "7"])
    assert job.flag_overrides(args) == ['quality_filter.seed=7', 'langid.languages=["en", "no"]',
                                        "quality_filter.sample=false"]


def _env() -> dict:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_spark_submit_help_and_a_run_from_another_directory(small_warc, tmp_path, spark_submit):
    script = str(REPO / "pipeline" / "quality_filter.py")
    shown = subprocess.run([str(spark_submit), script, "--help"], cwd=tmp_path, env=_env(),
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and "--model" in shown.stdout and "--no-sample" in shown.stdout
    done = subprocess.run(
        [str(spark_submit), "--master", "local[2]", "--driver-memory", "1g", script,
         "--input", str(small_warc), "--output", "out"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    stats = json.loads((tmp_path / "out" / "_stats.json").read_text())
    assert (tmp_path / "out" / "_SUCCESS").exists()
    assert stats["documents_out"] == 3 and stats["files"]["outcomes"] == {"ok": 1}
