"""The three Spark jobs on tiny inputs: train_tokenizer, tokenize_corpus (the same files as the
pyarrow-only path), build_mixture (the trainer's own rows, exported), and one real spark-submit."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.core.schema import DOC_ARROW_SCHEMA, docs_to_arrow, empty_doc
from pipeline.tokens import bpe
from pipeline.tokens.exports import read_llmc, read_megatron
from pipeline.tokens.mixture_job import BuildMixtureJob
from pipeline.tokens.tokenize_job import TokenizeJob, tokenize_local
from pipeline.tokens.tokenizer_job import TrainTokenizerJob
from training.data import MixtureLoader
from pipeline.tokens.mixture import load_mixture

REPO = Path(__file__).resolve().parents[2]
WORDS = "north south river hill stone bridge market tower garden lamp door window".split()

pytestmark = pytest.mark.spark


def _curated(folder: Path, source: str, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    rows = [empty_doc(id=f"{source}/{i:04d}", source=source, digest=str(i),
                      text="" if i == 3 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 90))))
            for i in range(n)]
    folder.mkdir(parents=True)
    half = n // 2  # two files: two input partitions
    for i, part in enumerate((rows[:half], rows[half:])):
        pq.write_table(pa.Table.from_batches([docs_to_arrow(part, DOC_ARROW_SCHEMA)]), folder / f"part-{i}.parquet")
    return folder


@pytest.fixture(scope="module")
def work(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("jobs")
    curated = {name: _curated(root / "curated" / name, name, n, i)
               for i, (name, n) in enumerate((("webtext", 120), ("wikipedia", 80)))}
    # A tokenizer every test may use, whichever of them a tier runs.
    bpe.save(bpe.train_bpe(WORDS * 50, vocab_size=290), str(root / "tok_local"))
    return root, curated


def test_train_tokenizer_job_is_the_bpe_of_its_sample(work):
    root, curated = work
    out = root / "tokenizer"
    args = ["--input", *map(str, curated.values()), "--output", str(out), "--vocab-size", "300"]
    assert TrainTokenizerJob().main(args) == 0
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["sample_fraction"] == 1.0 and stats["sample_documents"] == 198  # one empty document each
    tok = bpe.load(str(out))
    assert tok.get_vocab_size() <= 300 and bpe.eot_id(tok) == 0
    assert TrainTokenizerJob().main(args) == 0  # complete for this fingerprint: skipped
    assert json.loads((out / "_stats.json").read_text()) == stats


def test_tokenize_job_writes_what_the_local_path_writes(work):
    root, curated = work
    tokenizer = str(root / "tok_local" / "tokenizer.json")
    out = root / "tokens" / "wikipedia"
    assert TokenizeJob().main(["--input", str(curated["wikipedia"]), "--tokenizer", tokenizer,
                               "--output", str(out), "tokenize_corpus.validation_fraction=0.1",
                               "tokenize_corpus.row_group_tokens=500", "tokenize_corpus.shards=3"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    docs = pq.read_table(curated["wikipedia"])
    local = tokenize_local(docs, str(root / "local"), tokenizer, seed=1234, validation_fraction=0.1, shards=1,
                           row_group_tokens=500)
    for split in ("train", "validation"):
        spark_rows = [r for s in manifest["shards"] if s["split"] == split for r in pq.read_table(out / s["file"]).to_pylist()]
        local_rows = [r for s in local["shards"] if s["split"] == split
                      for r in pq.read_table(root / "local" / s["file"]).to_pylist()]
        assert spark_rows == local_rows and spark_rows
    assert manifest["documents"] == local["documents"] and manifest["tokens"] == local["tokens"]
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["drop_reasons"] == {"tokenize:empty": 1} and stats["documents_in"] == 80
    assert not (out / "_temporary").exists() and (out / "_SUCCESS").exists()


def test_build_mixture_exports_the_trainers_rows(work):
    root, curated = work
    tokenizer = str(root / "tok_local" / "tokenizer.json")
    tokenize_local(pq.read_table(curated["webtext"]), str(root / "tokens" / "webtext"), tokenizer,
                   source="webtext", row_group_tokens=400)
    mix = {"seed": 3, "token_budget": 2000, "sources": [
        {"name": "webtext", "path": "tokens/webtext", "weight": 0.7},
        {"name": "wikipedia", "path": "tokens/wikipedia", "weight": 0.3}]}
    (root / "mix.yaml").write_text(yaml.safe_dump(mix))
    out = root / "mixture"
    assert BuildMixtureJob().main(["--mixture", str(root / "mix.yaml"), "--root", str(root), "--output", str(out),
                                   "--block-size", "16", "build_mixture.rows_per_shard=50"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == 125 and sum(s["rows"] for s in manifest["sources"]) == 125
    parquet = sorted(f["file"] for f in manifest["shards"] if f["format"] == "parquet")
    assert len(parquet) == 3
    rows = [r for f in parquet for r in pq.read_table(out / f).column("tokens").to_pylist()]
    loader = MixtureLoader(load_mixture(str(root / "mix.yaml"), {"root": str(root)}), 16, 5)
    expected, it = [], iter(loader)
    for _ in range(25):
        x, y = next(it)
        expected += [np.concatenate([x[i].numpy(), y[i, -1:].numpy()]).tolist() for i in range(5)]
    assert rows == expected
    llmc = np.concatenate([read_llmc(str(out / f"mixture-{i:05d}.bin")) for i in range(3)])
    assert llmc.tolist() == [t for r in rows for t in r]
    megatron = [s.tolist() for i in range(3) for s in read_megatron(str(out / f"mixture-{i:05d}.megatron"))]
    assert megatron == rows


def test_entry_scripts_help_and_a_real_spark_submit(work, tmp_path, spark_submit):
    root, curated = work
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for script in ("train_tokenizer", "tokenize_corpus", "build_mixture"):
        done = subprocess.run([sys.executable, f"pipeline/{script}.py", "--help"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "example" in done.stdout, done.stderr
    bad = subprocess.run([sys.executable, "pipeline/build_mixture.py", "--mixture", str(tmp_path / "none.yaml"),
                          "--output", str(tmp_path / "o")], cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == f"error: mixture file not found: {tmp_path / 'none.yaml'}"
    out = tmp_path / "tokens"
    done = subprocess.run([str(spark_submit), "--master", "local[2]",
                           "pipeline/tokenize_corpus.py", "--input", str(curated["webtext"]),
                           "--tokenizer", str(root / "tok_local"), "--output", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["documents_in"] == 120 and stats["documents_out"] == 119  # one empty document
    assert manifest["documents"]["train"] + manifest["documents"]["validation"] == 119
