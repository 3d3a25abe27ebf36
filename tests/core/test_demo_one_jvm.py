"""`make demo` runs its Spark stages in one JVM: the outputs and fingerprints are those of
`spark-submit` runs of the same stages. The first four stages of the chain on the sample, once in one
JVM and once as four spark-submits; fetch_pages changes a runtime SQL setting for its own write, so
extract_webtext after it shows that a stage's settings do not leak into the next in one JVM."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.chain import steps
from pipeline.demo import REPO_ROOT, command, sample_inputs

UNTIL = "extract_webtext"
# what differs between two runs of the same stage in two run folders: the time and memory it took, and
# the fingerprint (it hashes the input and output paths, which name the run folder)
VOLATILE = {"seconds", "fingerprint", "worker_seconds", "worker_peak_rss_mb"}
# fetch_pages names its WARC files after its start time, and each file opens with a warcinfo record
# holding that time: its compressed length, so every record's offset, differs from run to run
FETCH_RUN = re.compile(r"ccindex-\d{8}T\d{6}")
WARC_OFFSET = re.compile(r'("warc_record_offset": |\["warc_offset", ")\d+')


def demo(out: Path, sample: Path, *flags: str) -> subprocess.CompletedProcess:
    # one sample folder for both runs: stages partition by input paths (fetch_pages by WARC file)
    done = subprocess.run([sys.executable, "-m", "pipeline.demo", "--out", str(out), "--sample", str(sample),
                           "--until", UNTIL, *flags],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def spark_steps(run: Path):
    chain = steps(sample_inputs(run, run.parent / "sample", max_steps=1, crawl_shards=2))
    ids = [s.task_id for s in chain]
    return [s for s in chain[:ids.index(UNTIL) + 1] if s.kind == "spark"]


def output_of(step) -> str:
    return step.args[step.args.index("--output") + 1]


def same_places(text: str, run: Path) -> str:
    return WARC_OFFSET.sub(r"\1OFFSET", FETCH_RUN.sub("ccindex-RUN", text.replace(str(run), "RUN")))


def content(folder: Path, run: Path) -> list[str]:
    """Every Parquet row and every WARC response record (URL and payload) under the folder, in a
    stable order, with the run folder's path and the fetch run's name written alike."""
    from warcio.archiveiterator import ArchiveIterator

    found = [json.dumps(r, sort_keys=True, default=str) for f in sorted(folder.rglob("*.parquet"))
             for r in pq.read_table(f).to_pylist()]
    for warc in sorted(folder.rglob("*.warc.gz")):
        with open(warc, "rb") as fh:
            found += [json.dumps([r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read().hex()])
                      for r in ArchiveIterator(fh) if r.rec_type == "response"]
    return sorted(same_places(row, run) for row in found)


def stable(stats: dict) -> dict:
    return {k: stable(v) if isinstance(v, dict) else v for k, v in stats.items() if k not in VOLATILE}


def stable_stats(folder: Path, run: Path) -> dict:
    return stable(json.loads(same_places((folder / "_stats.json").read_text(), run)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, spark_submit):
    base = tmp_path_factory.mktemp("demo")
    one_jvm, submitted = base / "one_jvm", base / "spark_submit"
    quiet = demo(one_jvm, base / "sample")
    demo(submitted, base / "sample", "--spark-submit")
    return one_jvm, submitted, quiet


def test_one_jvm_outputs_equal_spark_submit_outputs(runs):
    one_jvm, submitted, _ = runs
    for a, b in zip(spark_steps(one_jvm), spark_steps(submitted)):
        out_a, out_b = Path(output_of(a)), Path(output_of(b))
        assert (out_a / "_SUCCESS").exists() and (out_b / "_SUCCESS").exists(), a.task_id
        rows = content(out_a, one_jvm)
        assert rows, a.task_id
        assert rows == content(out_b, submitted), a.task_id
        assert stable_stats(out_a, one_jvm) == stable_stats(out_b, submitted), a.task_id


def test_spark_submit_finds_the_one_jvm_outputs_complete(runs):
    """Same fingerprint: spark-submit of the same stage with the same arguments skips it."""
    one_jvm, _, _ = runs
    # spark-submit finds its Spark home through the Python first on PATH, as the demo sets it
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for step in spark_steps(one_jvm):
        done = subprocess.run(command(step, "1g", "local[2]"), cwd=REPO_ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "is complete for this configuration; skipped" in done.stdout, (step.task_id, done.stdout[-2000:])


def test_console_has_one_line_per_stage_and_logs_have_the_rest(runs):
    one_jvm, _, quiet = runs
    lines = quiet.stdout.strip().splitlines()
    stages = [s.task_id for s in steps(sample_inputs(one_jvm, one_jvm.parent / "sample", 1, 2))]
    stages = stages[:stages.index(UNTIL) + 1]
    assert len(lines) == len(stages) + 2, lines        # the sample line, one per stage, the last line
    for stage, line in zip(stages, lines[1:]):
        assert f" {stage} " in line + " ", line
        assert (one_jvm / "logs" / f"{stage}.log").stat().st_size > 0, stage
    assert quiet.stderr == ""
    assert "WARN" not in quiet.stdout and "Warning" not in quiet.stdout
