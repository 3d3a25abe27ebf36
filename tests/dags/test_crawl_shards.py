"""The crawl split into shards and the shards gathered into one document folder
(pipeline/readers/crawl_shards.py): pure Python, plus one Spark read of a gathered folder."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.chain import shard_arguments
from pipeline.core.config import ConfigError, InputError, load_config
from pipeline.core.output import is_complete, read_stats, write_stats
from pipeline.core.schema import DOC_ARROW_SCHEMA, docs_to_arrow, empty_doc
from pipeline.readers.corpus import list_tasks
from pipeline.readers.crawl_shards import gather, main, merge_stats, split, split_evenly
from pipeline.readers.inputs import expand_inputs, is_document_folder

CONFIG = load_config()


def test_split_evenly_is_balanced_contiguous_and_never_empty():
    paths = [f"f{i:02d}" for i in range(10)]
    runs = split_evenly(paths, 4)
    assert [len(r) for r in runs] == [3, 3, 2, 2]
    assert sum(runs, []) == paths                     # the crawl's order, each file once
    assert split_evenly(paths[:3], 8) == [["f00"], ["f01"], ["f02"]]
    assert split_evenly(paths[:1], 1) == [["f00"]]


@pytest.fixture()
def crawl(tmp_path):
    folder = tmp_path / "crawl"
    folder.mkdir()
    for i in range(5):
        (folder / f"CC-{i}.warc.gz").write_bytes(b"x")
    return folder


def test_split_writes_listings_quality_filter_reads(crawl, tmp_path):
    listings, docs = tmp_path / "run" / "crawl_shards", tmp_path / "run" / "docs" / "cc_raw"
    args = split([str(crawl / "*.warc.gz")], 2, str(listings), str(docs), CONFIG)
    assert args == [["--input", f"{listings}/shard=00000.warc.paths", "--output", f"{docs}/shard=00000"],
                    ["--input", f"{listings}/shard=00001.warc.paths", "--output", f"{docs}/shard=00001"]]
    files = expand_inputs([str(crawl)], CONFIG)
    assert expand_inputs([args[0][1]], CONFIG) == files[:3]   # full paths: no base URL put before them
    assert expand_inputs([args[1][1]], CONFIG) == files[3:]


def test_split_again_keeps_unchanged_listings_and_drops_stale_ones(crawl, tmp_path):
    listings, docs = tmp_path / "crawl_shards", tmp_path / "cc_raw"
    split([str(crawl)], 3, str(listings), str(docs), CONFIG)
    first = listings / "shard=00000.warc.paths"
    os.utime(first, (1, 1))        # an unchanged listing keeps its mtime: the shard's fingerprint holds
    docs.mkdir()
    (docs / "_SUCCESS").touch()
    split([str(crawl)], 3, str(listings), str(docs), CONFIG)
    assert first.stat().st_mtime == 1
    assert not (docs / "_SUCCESS").exists()         # not complete until gathered again
    split([str(crawl)], 2, str(listings), str(docs), CONFIG)
    assert sorted(p.name for p in listings.iterdir()) == ["shard=00000.warc.paths", "shard=00001.warc.paths"]
    assert first.stat().st_mtime != 1               # its files changed


def test_split_command_prints_the_shards_arguments_last(crawl, tmp_path, capsys):
    assert main(["split", "--input", str(crawl), "--shards", "8", "--listings", str(tmp_path / "l"),
                 "--documents", str(tmp_path / "d")]) == 0
    shards = shard_arguments(capsys.readouterr().out)   # what the DAG and the demo parse
    assert len(shards) == 5 and shards[4] == ["--input", f"{tmp_path}/l/shard=00004.warc.paths",
                                              "--output", f"{tmp_path}/d/shard=00004"]


def test_split_errors_are_one_line(crawl, tmp_path, capsys):
    with pytest.raises(ConfigError, match="--shards must be at least 1"):
        split([str(crawl)], 0, str(tmp_path / "l"), str(tmp_path / "d"), CONFIG)
    assert main(["split", "--input", str(tmp_path / "nothing*.warc.gz"), "--shards", "2",
                 "--listings", str(tmp_path / "l"), "--documents", str(tmp_path / "d")]) == 2
    assert capsys.readouterr().err.strip() == f"error: no files match {tmp_path}/nothing*.warc.gz"


def shard_stats(kept: int, dropped: int, fingerprint: str) -> dict:
    counts = {"kept": kept, "langid:language": dropped}
    return {"job": "quality_filter", "fingerprint": fingerprint, "seconds": 1.5, "version": "0.1.0",
            "documents_in": kept + dropped, "documents_out": kept, "drop_reasons": counts,
            "funnel": [{"step": "read", "in": kept + dropped, "out": kept + dropped, "dropped": {}},
                       {"step": "langid", "in": kept + dropped, "out": kept, "dropped": {"language": dropped}}],
            "examples": {"kept": [{"id": f"{fingerprint}-{i}", "url": None, "text": "t"} for i in range(3)]},
            "inputs": {"warc_files": 2, "document_folders": [], "model": None},
            "files": {"files": 2, "outcomes": {"ok": 2}, "problems": [], "worker_peak_rss_mb": float(kept)}}


def write_shard(folder, ids: list[str], fingerprint: str) -> None:
    folder.mkdir(parents=True)
    rows = [empty_doc(id=i, digest=i, text=f"text of {i}", source="commoncrawl", lang="en") for i in ids]
    pq.write_table(pa.Table.from_batches([docs_to_arrow(rows, DOC_ARROW_SCHEMA)]),
                   folder / "part-00000.zstd.parquet")
    (folder / "_SUCCESS").touch()
    write_stats(str(folder), shard_stats(len(ids), 1, fingerprint))


@pytest.fixture()
def gathered(tmp_path):
    """A run whose crawl was split in two shards, both extracted, then gathered; the folder also
    held a shard of an earlier, larger split and the part file of an unsharded run."""
    listings, docs = tmp_path / "crawl_shards", tmp_path / "cc_raw"
    listings.mkdir()
    for k in range(2):
        (listings / f"shard={k:05d}.warc.paths").write_text(f"/crawl/{k}.warc.gz\n")
    write_shard(docs / "shard=00000", ["a", "b"], "fp0")
    write_shard(docs / "shard=00001", ["c", "d", "e"], "fp1")
    write_shard(docs / "shard=00002", ["stale"], "fp2")
    (docs / "part-00000-old.parquet").write_bytes(b"unsharded")
    assert gather(str(docs), str(listings))
    return docs, listings


def test_gather_commits_the_shards_as_one_document_folder(gathered):
    docs, listings = gathered
    assert sorted(p.name for p in docs.iterdir()) == ["_SUCCESS", "_stats.json", "shard=00000", "shard=00001"]
    stats = read_stats(str(docs))
    assert stats["shards"] == ["shard=00000", "shard=00001"] and stats["output"] == str(docs)
    assert (stats["documents_in"], stats["documents_out"]) == (7, 5)
    assert stats["drop_reasons"] == {"kept": 5, "langid:language": 2}
    assert stats["funnel"][-1] == {"step": "langid", "in": 7, "out": 5, "dropped": {"language": 2}}
    assert [e["id"] for e in stats["examples"]["kept"]] == ["fp0-0", "fp0-1", "fp0-2"]
    assert stats["files"]["files"] == 4 and stats["files"]["worker_peak_rss_mb"] == 3.0
    assert stats["seconds"] == 3.0 and stats["job"] == "quality_filter"
    assert is_complete(str(docs), stats["fingerprint"])
    assert not gather(str(docs), str(listings))       # unchanged shards: nothing to do


def test_a_gathered_folder_is_an_input_like_any_other(gathered):
    docs, _ = gathered
    assert is_document_folder(str(docs))
    tasks = list_tasks([str(docs)])   # the classifier's negatives: one document folder, a task per file
    files = sorted(str(p) for p in docs.glob("shard=*/*.parquet"))
    assert len(files) == 2 and [(t.kind, t.path) for t in tasks] == [("docs", f) for f in files]
    assert [t.rel for t in tasks][0] == f"{docs.name}/shard=00000/{Path(files[0]).name}"


def test_a_changed_shard_changes_the_gathered_fingerprint(gathered):
    docs, listings = gathered
    before = read_stats(str(docs))["fingerprint"]
    write_stats(str(docs / "shard=00001"), shard_stats(3, 1, "fp1-redone"))
    assert gather(str(docs), str(listings))
    assert read_stats(str(docs))["fingerprint"] != before


def test_gather_refuses_incomplete_shards(gathered):
    docs, listings = gathered
    (docs / "shard=00001" / "_SUCCESS").unlink()
    with pytest.raises(InputError, match=r"1 of 2 shards are not complete, e.g. .*shard=00001"):
        gather(str(docs), str(listings))
    with pytest.raises(InputError, match="no shard listings"):
        gather(str(docs), str(docs / "nowhere"))


def test_merge_stats_of_one_shard_is_that_shard():
    one = shard_stats(4, 2, "fp")
    assert merge_stats([json.loads(json.dumps(one))]) == one


def test_spark_reads_a_gathered_folder_whole(gathered, spark):
    from pipeline.core.schema import DOC_COLUMNS
    from pipeline.readers.corpus import kept, read_corpus

    docs, _ = gathered
    negatives = kept(read_corpus(spark, [str(docs)], "commoncrawl", CONFIG))    # train_classifier
    assert sorted(r.id for r in negatives.collect()) == ["a", "b", "c", "d", "e"]
    filtered = spark.read.parquet(str(docs)).select(*DOC_COLUMNS)                # quality_filter --input
    assert filtered.count() == 5 and filtered.columns == DOC_COLUMNS
