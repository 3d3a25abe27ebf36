"""The stream's content: token shares at every prefix, epochs that hold every training document
once, validation documents never in training, and the three kinds of source folders."""
from __future__ import annotations

import collections

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import yaml

from pipeline.tokens import bpe
from pipeline.tokens.packing import SourceStream, index_source
from pipeline.tokens.shards import TRAIN, VALIDATION, order_keys
from training.data import MixtureDataset, MixtureLoader, validation_batches
from pipeline.tokens.mixture import load_mixture, source_specs


def _split_docs(tokens: np.ndarray, eot: int) -> collections.Counter:
    """Documents of a packed stream (each followed by eot) as a multiset of token tuples."""
    ends = np.flatnonzero(tokens == eot)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return collections.Counter(tuple(tokens[s:e]) for s, e in zip(starts, ends))


def _encoded(corpus, name, split, seed=1234, fraction=0.1) -> collections.Counter:
    tok = bpe.load(corpus["tokenizer"])
    table = corpus["docs"][name]
    keys = order_keys(seed, table.column("id").to_pylist())
    texts = table.column("text").to_pylist()
    keep = [(k < fraction) == (split == VALIDATION) for k in keys]
    return collections.Counter(tuple(ids) for ids, ok in zip(bpe.encode_batch(tok, texts), keep) if ok and ids)


def test_token_share_within_half_a_percent_at_every_prefix(corpus, mixture):
    dataset = MixtureDataset(source_specs(mixture, TRAIN), [s.weight for s in mixture.sources], mixture.seed,
                             block_size=16, batch_size=10, rank=0, world_size=1, start_rows=0,
                             start_counts=[0, 0, 0])
    tokens = np.zeros(3)
    seen = 0
    batches = dataset.batches()
    for _ in range(1000):  # 10,000 rows, several epochs of every source
        sources, rows = next(batches)
        for i, row in zip(sources, rows):
            tokens[i] += len(row)
            seen += 1
            if seen > 1000:
                share = tokens / tokens.sum()
                assert np.abs(share - list(corpus["weights"].values())).max() < 0.005, (seen, share)
    assert seen == 10_000


def test_an_epoch_holds_every_training_document_once_in_a_new_order(corpus, mixture):
    spec = index_source("a", str(corpus["root"] / "tokens" / "a"), TRAIN, seed=mixture.seed,
                        validation_fraction=0.0, tokenizer=None, eot_id=mixture.eot_id)
    stream = SourceStream(spec, 17, mixture.seed)
    n = stream.epoch_tokens
    first, second = stream.tokens(0, n), stream.tokens(n, 2 * n)
    expected = _encoded(corpus, "a", TRAIN)
    assert _split_docs(first, mixture.eot_id) == expected
    assert _split_docs(second, mixture.eot_id) == expected
    assert not np.array_equal(first, second)  # reshuffled per epoch
    # rows are consecutive windows of the endless stream, across the epoch boundary too
    k = n // 17
    assert np.array_equal(stream.row(k), stream.tokens(17 * k, 17 * k + 17))


def test_validation_documents_never_reach_training(corpus, mixture):
    held_out = _encoded(corpus, "b", VALIDATION)
    assert held_out and not set(held_out) & set(_encoded(corpus, "b", TRAIN))
    spec = index_source("b", str(corpus["root"] / "tokens" / "b"), TRAIN, seed=mixture.seed,
                        validation_fraction=0.0, tokenizer=None, eot_id=mixture.eot_id)
    stream = SourceStream(spec, 17, mixture.seed)
    assert not set(_split_docs(stream.tokens(0, stream.epoch_tokens), mixture.eot_id)) & set(held_out)
    batches = list(validation_batches(mixture, 8, 2, "b", max_batches=1000))
    assert batches and all(x.shape == (2, 8) for x, _ in batches)
    flat = np.concatenate([np.concatenate([x[0].numpy(), y[0, -1:].numpy(), x[1].numpy(), y[1, -1:].numpy()])
                           for x, y in batches])
    # consecutive rows rebuild the validation stream from its start: whole held-out documents
    docs = _split_docs(flat, mixture.eot_id)
    assert docs and set(docs) <= set(held_out)


def test_batches_are_inputs_and_targets_shifted_by_one(mixture):
    x, y = next(iter(MixtureLoader(mixture, block_size=32, batch_size=4)))
    assert x.dtype == y.dtype == torch.long and x.shape == (4, 32)
    assert (x[:, 1:] == y[:, :-1]).all()


def test_spark_written_int32_and_text_sources(corpus, tmp_path):
    """A token folder without manifest (list<int32>, as Spark writes it) and a text Parquet folder
    tokenized on the fly give the same documents as the tokenizer does."""
    tok = bpe.load(corpus["tokenizer"])
    table = corpus["docs"]["c"]
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    encoded = bpe.encode_batch(tok, texts)
    (tmp_path / "ints").mkdir()
    pq.write_table(pa.table({"id": ids, "tokens": pa.array(encoded, pa.list_(pa.int32())),
                             "n_tokens": pa.array([len(e) for e in encoded], pa.int32())}),
                   tmp_path / "ints" / "part-00000.parquet", row_group_size=40)
    (tmp_path / "text").mkdir()
    pq.write_table(table, tmp_path / "text" / "part-00000.parquet", row_group_size=40)
    mix = {"seed": 5, "token_budget": 10000, "tokenizer": corpus["tokenizer"], "validation_fraction": 0.2,
           "sources": [{"name": "ints", "path": str(tmp_path / "ints"), "weight": 1},
                       {"name": "text", "path": str(tmp_path / "text"), "weight": 1}]}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mix))
    mixture = load_mixture(str(tmp_path / "m.yaml"))
    assert [s.kind for s in mixture.sources] == ["tokens", "text"]
    assert any("no manifest" in w for w in mixture.warnings)
    keys = order_keys(5, ids)
    train = collections.Counter(tuple(e) for e, k in zip(encoded, keys) if k >= 0.2 and e)
    for spec in source_specs(mixture, TRAIN):
        stream = SourceStream(spec, 9, mixture.seed)
        assert _split_docs(stream.tokens(0, stream.epoch_tokens), mixture.eot_id) == train
    x, y = next(iter(MixtureLoader(mixture, block_size=8, batch_size=4)))
    assert x.shape == (4, 8)
    assert len(list(validation_batches(mixture, 8, 2, "text", 3))) == 3
