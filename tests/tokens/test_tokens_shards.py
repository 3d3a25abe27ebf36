"""Token shards as tokenize_corpus writes them (without Spark here): hash order, the validation
split, uint16 row groups, the manifest, the commit — and the llm.c / Megatron exports."""
from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.tokens import bpe
from pipeline.tokens.exports import (LLMC_MAGIC, MegatronWriter, export_token_folder, read_llmc, read_megatron,
                                     write_llmc)
from pipeline.tokens.shards import order_keys
from pipeline.tokens.tokenize_job import tokenize_local

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    rng = random.Random(3)
    ids = [f"Article_{c}{i}" for c in "ABCDEFGH" for i in range(25)]  # alphabetical, like Wikipedia
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 120))) for _ in ids]
    texts[5] = ""  # dropped: encodes to nothing
    docs = pa.table({"id": ids, "text": texts})
    tokenizer = bpe.save(bpe.train_bpe(texts, vocab_size=300), str(root / "tok"))
    return root, docs, tokenizer


def _read_split(folder, manifest, split):
    rows = []
    for shard in manifest["shards"]:
        if shard["split"] == split:
            rows += pq.read_table(folder / shard["file"]).to_pylist()
    return rows


def test_shards_are_in_hash_order_with_a_hash_validation_split(setup):
    root, docs, tokenizer = setup
    manifest = tokenize_local(docs, str(root / "t1"), tokenizer, source="wiki", seed=11,
                              validation_fraction=0.2, shards=3, row_group_tokens=300)
    folder = root / "t1"
    assert (folder / "_SUCCESS").exists() and not (folder / "_temporary").exists()
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    train, valid = _read_split(folder, manifest, "train"), _read_split(folder, manifest, "validation")
    keys = dict(zip(docs.column("id").to_pylist(), order_keys(11, docs.column("id").to_pylist())))
    assert all(keys[r["id"]] < 0.2 for r in valid) and all(keys[r["id"]] >= 0.2 for r in train)
    stored = [keys[r["id"]] for r in valid + train]
    assert stored == sorted(stored)  # not alphabetical any more
    assert len(train) + len(valid) == docs.num_rows - 1 and manifest["dropped"] == {"tokenize:empty": 1}
    tok = bpe.load(tokenizer)
    texts = dict(zip(docs.column("id").to_pylist(), docs.column("text").to_pylist()))
    for row in train[:20]:
        assert row["tokens"] == tok.encode(texts[row["id"]]).ids and row["n_tokens"] == len(row["tokens"])
    shard = manifest["shards"][0]
    file = pq.ParquetFile(folder / shard["file"])
    assert file.schema_arrow.field("tokens").type == pa.list_(pa.uint16())
    assert file.num_row_groups == len(shard["row_groups"])
    for i, group in enumerate(shard["row_groups"]):
        meta = file.metadata.row_group(i)
        assert meta.num_rows == group["documents"]
    assert manifest["tokens"]["train"] == sum(r["n_tokens"] for r in train)
    assert manifest["tokenizer"]["sha256"] == bpe.tokenizer_hash(str(folder / "tokenizer.json"))


def test_shard_count_does_not_change_the_documents_order(setup):
    root, docs, tokenizer = setup
    one = tokenize_local(docs, str(root / "one"), tokenizer, shards=1, validation_fraction=0.2)
    four = tokenize_local(docs, str(root / "four"), tokenizer, shards=4, validation_fraction=0.2)
    for split in ("train", "validation"):
        assert _read_split(root / "one", one, split) == _read_split(root / "four", four, split)


def test_llmc_bin_layout(tmp_path):
    tokens = np.array([50256, 1, 2, 65535, 7], dtype=np.int64)
    write_llmc(str(tmp_path / "x.bin"), tokens)
    raw = (tmp_path / "x.bin").read_bytes()
    header = np.frombuffer(raw[:1024], dtype="<i4")
    assert header[0] == LLMC_MAGIC == 20240520 and header[1] == 1 and header[2] == 5 and not header[3:].any()
    assert np.frombuffer(raw[1024:], dtype="<u2").tolist() == tokens.tolist()
    assert read_llmc(str(tmp_path / "x.bin")).tolist() == tokens.tolist()


def test_megatron_bin_idx_layout(tmp_path):
    writer = MegatronWriter(str(tmp_path / "m"))
    sequences = [np.array([5, 6, 7]), np.array([8]), np.array([9, 10])]
    for s in sequences:
        writer.add(s)
    writer.close()
    idx = (tmp_path / "m.idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    assert np.frombuffer(idx[9:17], "<u8")[0] == 1 and idx[17] == 8  # version 1, uint16
    assert np.frombuffer(idx[18:34], "<u8").tolist() == [3, 4]  # sequences, documents + 1
    assert np.frombuffer(idx[34:46], "<i4").tolist() == [3, 1, 2]
    assert np.frombuffer(idx[46:70], "<i8").tolist() == [0, 6, 8]  # byte pointers
    assert np.frombuffer(idx[70:102], "<i8").tolist() == [0, 1, 2, 3]
    assert [s.tolist() for s in read_megatron(str(tmp_path / "m"))] == [s.tolist() for s in sequences]


def test_export_a_token_folder(setup, tmp_path):
    root, docs, tokenizer = setup
    manifest = tokenize_local(docs, str(tmp_path / "t"), tokenizer, validation_fraction=0.2, shards=2)
    n = export_token_folder(str(tmp_path / "t"), str(tmp_path / "out"))
    train = _read_split(tmp_path / "t", manifest, "train")
    eot = manifest["tokenizer"]["eot_id"]
    assert n == manifest["tokens"]["train"] + manifest["documents"]["train"]
    expected = [t for r in train for t in [eot, *r["tokens"]]]
    assert read_llmc(str(tmp_path / "out.bin")).tolist() == expected
    assert [s.tolist() for s in read_megatron(str(tmp_path / "out.megatron"))] == [r["tokens"] + [eot] for r in train]
