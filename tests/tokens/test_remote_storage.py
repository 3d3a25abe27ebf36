"""Off the local disk: build_mixture, the llm.c / Megatron exports and the report writer write into an
S3 bucket (a moto server on 127.0.0.1, through s3fs) byte for byte what they write locally, and a
mixture whose file, tokenizer and token folders all lie in the bucket builds (and exports) the rows the
same folders give on the local disk. A single host hides a read or write through `os.path`: the bucket does not."""
from __future__ import annotations

import json
import os
import shutil
import socket

import pyarrow.parquet as pq
import pytest

from pipeline.report import cli as report_cli
from pipeline.tokens.exports import export_token_folder, read_llmc, read_megatron
from pipeline.tokens.mixture import load_mixture
from pipeline.tokens.mixture_job import BuildMixtureJob
from pipeline.tokens.shards import MANIFEST_FILE

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the test extra")
s3fs = pytest.importorskip("s3fs", reason="s3fs is in the test extra")

pytestmark = pytest.mark.spark
BUCKET = "webmix-test"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def bucket(spark):
    """s3://webmix-test on a moto server; the driver and the Python workers Spark starts from now
    on (sc.environment reaches new workers) see it through AWS_ENDPOINT_URL."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {**S3_ENV, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    spark.sparkContext.environment.update(env)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(BUCKET)
    try:
        yield fs
    finally:
        for key, value in saved.items():
            spark.sparkContext.environment.pop(key, None)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


def _files(fs, root: str) -> dict[str, bytes]:
    return {p[len(root.rstrip("/")) + 1:]: fs.cat_file(p) for p in fs.find(root)}


def _local_files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _build(mixture: str, root: str, output: str) -> None:
    assert BuildMixtureJob().main(["--mixture", mixture, "--root", root, "--output", output,
                                   "--block-size", "16", "build_mixture.rows_per_shard=40"]) == 0


def test_build_mixture_into_a_bucket_writes_the_local_bytes(bucket, tiny_mixture):
    tokens = tiny_mixture
    _build(str(tokens / "mix.yaml"), str(tokens), str(tokens / "mixture"))
    _build(str(tokens / "mix.yaml"), str(tokens), f"s3://{BUCKET}/mixture")
    local = _local_files(tokens / "mixture")
    remote = _files(bucket, f"{BUCKET}/mixture")
    assert "_SUCCESS" in remote and not any(k.startswith("_temporary") for k in remote)
    shards = sorted(k for k in local if k.startswith("mixture-"))
    assert len(shards) == 3 * 4      # 3 shards x (parquet, llm.c .bin, megatron .bin + .idx)
    assert {k: remote[k] for k in shards} == {k: local[k] for k in shards}
    manifest = json.loads(remote["manifest.json"])
    assert manifest["rows"] == json.loads(local["manifest.json"])["rows"] > 0
    stats = json.loads(remote["_stats.json"])
    assert stats["rows"] == manifest["rows"]
    rows = pq.read_table(f"s3://{BUCKET}/mixture/mixture-00000.parquet").column("tokens").to_pylist()
    assert read_llmc(f"s3://{BUCKET}/mixture/mixture-00000.bin").tolist() == [t for r in rows for t in r]
    assert [s.tolist() for s in read_megatron(f"s3://{BUCKET}/mixture/mixture-00000.megatron")] == rows


def test_exports_and_report_into_a_bucket(bucket, tiny_mixture):
    tokens = tiny_mixture
    folder = str(tokens / "tokens" / "webtext")
    n_local = export_token_folder(folder, str(tokens / "export"))
    n_remote = export_token_folder(folder, f"s3://{BUCKET}/export/webtext")
    assert n_remote == n_local > 0
    for suffix in (".bin", ".megatron.bin", ".megatron.idx"):
        assert bucket.cat_file(f"{BUCKET}/export/webtext{suffix}") == (tokens / f"export{suffix}").read_bytes()

    assert report_cli.main([str(tokens), "--out", f"s3://{BUCKET}/report/report.html"]) == 0
    html = bucket.cat_file(f"{BUCKET}/report/report.html").decode()
    assert html.lstrip().lower().startswith("<!doctype html") and tokens.name in html


def test_mixture_of_tokens_in_a_bucket_equals_the_local_one(bucket, tiny_mixture, tmp_path):
    """Mixture file, tokenizer (from the webtext manifest) and token folders in the bucket; wikipedia
    without its manifest, so its row groups are found by listing and reading the bucket's shards."""
    inputs = tmp_path / "inputs"
    shutil.copytree(tiny_mixture / "tokens", inputs / "tokens")
    shutil.copy(tiny_mixture / "mix.yaml", inputs / "mix.yaml")
    (inputs / "tokens" / "wikipedia" / MANIFEST_FILE).unlink()
    bucket.put(str(inputs), f"{BUCKET}/inputs", recursive=True)
    remote = f"s3://{BUCKET}/inputs"

    mixture = load_mixture(f"{remote}/mix.yaml", {"root": remote})
    assert [s.path for s in mixture.sources] == [f"{remote}/tokens/webtext", f"{remote}/tokens/wikipedia"]
    assert mixture.tokenizer == f"{remote}/tokens/webtext/tokenizer.json"
    assert mixture.warnings == ["source 'wikipedia' has no manifest.json: its tokenizer cannot be checked"]
    local_mixture = load_mixture(str(inputs / "mix.yaml"), {"root": str(inputs)})
    assert [(s.tokens, s.documents, s.weight) for s in mixture.sources] == \
        [(s.tokens, s.documents, s.weight) for s in local_mixture.sources]
    assert mixture.tokenizer_hash == local_mixture.tokenizer_hash

    _build(str(inputs / "mix.yaml"), str(inputs), str(tmp_path / "from_local"))
    _build(f"{remote}/mix.yaml", remote, str(tmp_path / "from_bucket"))
    from_local, from_bucket = _local_files(tmp_path / "from_local"), _local_files(tmp_path / "from_bucket")
    shards = sorted(k for k in from_local if k.startswith("mixture-"))
    assert len(shards) == 3 * 4 and sorted(k for k in from_bucket if k.startswith("mixture-")) == shards
    assert {k: from_bucket[k] for k in shards} == {k: from_local[k] for k in shards}
    manifest = json.loads(from_bucket["manifest.json"])
    assert manifest["mixture"] == f"{remote}/mix.yaml"
    assert [s["rows"] for s in manifest["sources"]] == \
        [s["rows"] for s in json.loads(from_local["manifest.json"])["sources"]]

    # the exports read a token folder in the bucket the same way
    assert export_token_folder(f"{remote}/tokens/webtext", str(tmp_path / "exp_bucket")) == \
        export_token_folder(str(inputs / "tokens" / "webtext"), str(tmp_path / "exp_local")) > 0
    assert (tmp_path / "exp_bucket.bin").read_bytes() == (tmp_path / "exp_local.bin").read_bytes()
