"""The ablation's `kind: raw_pages` CommonCrawl input: HPLT raw-HTML records (.jsonl.zst, through the
extractor) and CS336 dumps (a record is the text after a 32-dash line) reach the extract stage through
the classifier's one reader (pipeline/quality/raw_pages.py), bad records counted by reason."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
import zstandard

from pipeline.core.output import read_stats
from pipeline.curated.ingest_job import IngestJob

REPO = Path(__file__).resolve().parents[2]
DASHES = "-" * 32
PAGE = "<html><body><article><p>{}</p></article></body></html>"


def write_hplt(path: Path) -> None:
    lines = [json.dumps({"u": "http://a.example/", "h": PAGE.format("The first page has a paragraph.")}).encode(),
             b'{"u": "http://bad.example/", "h": "\xff\xfe not utf-8"}',
             json.dumps({"u": "http://none.example/", "t": "text only, no html"}).encode(),
             json.dumps({"u": "http://c.example/", "h": PAGE.format("The third page, kept too.")}).encode()]
    path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines) + b"\n"))


def write_cs336(path: Path) -> None:
    path.write_text("\n".join([
        DASHES, "LABEL: wanted SCORE: 0.9", "text: First record, line one.", "line two.", DASHES,
        DASHES, "LABEL: unwanted", "text: ", DASHES,
        DASHES, "LANGUAGE: en SCORE: 0.5", "text: Second record.", DASHES, ""]), encoding="utf-8")


@pytest.mark.spark
def test_ingest_raw_pages_ids_texts_and_skips(spark, tmp_path):
    write_hplt(tmp_path / "cc.jsonl.zst")
    write_cs336(tmp_path / "dump.txt")
    out = tmp_path / "out"
    assert IngestJob().main(["--kind", "raw_pages", "--input", str(tmp_path / "*.jsonl.zst"),
                             str(tmp_path / "dump.txt"), "--source", "commoncrawl", "--output", str(out)]) == 0
    rows = sorted((r["id"], r["text"], r["source"]) for r in pq.read_table(str(out)).to_pylist())
    assert rows == [("cc.jsonl.zst@0", "The first page has a paragraph.", "commoncrawl"),
                    ("cc.jsonl.zst@3", "The third page, kept too.", "commoncrawl"),
                    ("dump.txt#0", "First record, line one.\nline two.", "commoncrawl"),
                    ("dump.txt#2", "Second record.", "commoncrawl")]
    stats = read_stats(str(out))
    assert stats["drop_reasons"] == {"read:bad_utf8": 1, "read:missing_html": 1, "read:missing_text": 1}
    assert (stats["documents_in"], stats["documents_out"]) == (7, 4)


def ablate(tmp_path: Path, raw_input: str) -> subprocess.CompletedProcess:
    config = {"train_tokens": "1K", "seeds": [1], "data_root": str(tmp_path),
              "commoncrawl": [{"name": "cs336", "kind": "raw_pages", "input": [raw_input]}],
              "heldout": [{"name": "held", "jsonl": ["held.jsonl"]}],
              "variants": {"raw_cc": {"commoncrawl": {"steps": ["extract"]}},
                           "heuristics": {"commoncrawl": {"steps": ["extract", "langid", "heuristics"]}}}}
    path = tmp_path / "ablation.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "ablate", "--config", str(path), "--out",
                           str(tmp_path / "run"), "--check"], cwd=REPO, capture_output=True, text=True)


def test_raw_pages_input_plans_an_ingest_stage(tmp_path):
    write_cs336(tmp_path / "dump.txt")
    done = ablate(tmp_path, "*.txt")
    assert done.returncode == 0, done.stderr
    assert f"extract_commoncrawl_cs336: pipeline/ingest.py --kind raw_pages --input {tmp_path}/*.txt" in done.stdout


@pytest.mark.parametrize("raw_input, why", [("nothing*.txt", "no such file"),
                                            ("plain.txt", "neither an HPLT .jsonl.zst with raw HTML nor a CS336 dump")])
def test_raw_pages_input_errors_name_the_key(tmp_path, raw_input, why):
    (tmp_path / "plain.txt").write_text("just text, no dash line\n")
    done = ablate(tmp_path, raw_input)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: ablation.commoncrawl.0.input: ")
    assert why in done.stderr
