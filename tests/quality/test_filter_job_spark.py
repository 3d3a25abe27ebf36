"""The quality_filter job end to end on the shared local Spark session: every real WARC file, the
raw-then-scored flow, determinism across partitionings, and the steps on text inputs."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.core.schema import DOC_ARROW_SCHEMA
from pipeline.quality.filter_job import QualityFilterJob
from pipeline.readers.warc_write import Page, write_warc

STEPS = ("read", "extract", "langid", "c4_lines", "gopher_quality", "gopher_repetition")
REASON = re.compile(r"^(kept|(read|extract|langid|heuristics|sample):[a-z0-9_]+)$")

SUBJECTS = "the farmer|the teacher|our neighbour|the old captain|a young doctor|the village baker|my sister".split("|")
VERBS = "repaired|described|painted|remembered|visited|measured|explained|carried".split("|")
OBJECTS = ("the bridge over the river|the history of the school|a letter from the harbour|the garden behind the "
           "church|the roof of the mill|a map of the valley|the price of the winter wheat").split("|")
SPAM = "casino|bonus|jackpot|free spins|crypto|winner|deal|discount|cheap|offer".split("|")


def sentence(rng: random.Random, spam: float) -> str:
    words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)]
    if rng.random() < spam:
        words.append("with the " + " and ".join(rng.sample(SPAM, 3)))
    tail = rng.choice(["in the spring", "after the storm", "for the last time", "with great care", "at dawn"])
    return (" ".join(words) + f" {tail} of year {rng.randint(1850, 2020)}.").capitalize()


def page_html(rng: random.Random, spam: float) -> bytes:
    paragraphs = "".join(f"<p>{sentence(rng, spam)} {sentence(rng, spam)}</p>" for _ in range(6))
    return f"<html><body><nav>Home | News</nav><article>{paragraphs}</article></body></html>".encode()


@pytest.fixture(scope="module")
def tiny_crawl(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crawl")
    rng = random.Random(7)
    for f in range(3):
        write_warc(str(folder / f"crawl-{f}.warc.gz"),
                   [Page(f"http://site{f}.example/{i}", page_html(rng, spam=rng.random())) for i in range(12)])
    return folder


@pytest.fixture(scope="module")
def model_dir(spark, tmp_path_factory) -> str:
    from pipeline.quality.classifier import SPARK_MODEL_DIR, build_pipeline, export_weights

    rng = random.Random(11)
    rows = [(" ".join(sentence(rng, 0.0) for _ in range(8)), 1.0) for _ in range(30)] + \
           [(" ".join(sentence(rng, 1.0) for _ in range(8)), 0.0) for _ in range(30)]
    train = spark.createDataFrame(rows, "text string, label double")
    model = build_pipeline("l2", 4096, 10000, 0.01, 0.0, 5).fit(train)
    out = str(tmp_path_factory.mktemp("model"))
    model.write().overwrite().save(f"{out}/{SPARK_MODEL_DIR}")
    export_weights(model, out, {"features": "l2", "num_features": 4096, "text_chars": 10000})
    return out


# the generated pages reuse a few templates: Gopher's n-gram repetition rules would drop them all
TEMPLATED = ("heuristics.duplicate_ngram_char_fractions=null", "heuristics.top_ngram_char_fractions=null")


def run_job(*argv: str) -> dict:
    output = argv[argv.index("--output") + 1]
    assert QualityFilterJob().main(list(argv)) == 0
    return json.loads((Path(output) / "_stats.json").read_text())


def written(folder: str) -> dict[str, float | None]:
    table = pq.read_table(folder)
    assert table.schema.names == DOC_ARROW_SCHEMA.names
    return dict(zip(table.column("id").to_pylist(), table.column("quality_score").to_pylist()))


def test_every_real_warc_file_is_processed_or_named(spark, realdata, tmp_path):
    stats = run_job("--input", str(realdata / "warc"), "--output", str(tmp_path / "out"))
    files = sorted(p for p in (realdata / "warc").rglob("*") if p.is_file())
    assert stats["files"]["files"] == len(files)
    assert stats["files"]["outcomes"] == {"ok": len(files) - 3, "truncated": 1, "whole_file_gzip": 1,
                                          "bad_record_length": 1}
    assert {p["outcome"] for p in stats["files"]["problems"]} == {"truncated", "whole_file_gzip", "bad_record_length"}
    assert all(REASON.match(r) for r in stats["drop_reasons"]), stats["drop_reasons"]
    assert [step["step"] for step in stats["funnel"]] == list(STEPS)
    funnel = {step["step"]: step for step in stats["funnel"]}
    assert funnel["read"]["in"] == stats["documents_in"] == stats["files"]["candidate_records"]
    assert funnel["gopher_repetition"]["out"] == stats["documents_out"] == len(written(str(tmp_path / "out")))
    assert set(stats["files"]["worker_seconds"]) == set(STEPS)
    # the heuristics steps share the heuristics: prefix; the funnel gives each its own rules
    assert set(funnel["c4_lines"]["dropped"]) <= {"lorem_ipsum", "c4_too_few_lines"}
    assert funnel["c4_lines"]["dropped"] and funnel["gopher_quality"]["dropped"]
    # ClueWeb's 29 Japanese pages all reach language ID and leave there (only English is kept)
    assert stats["drop_reasons"]["langid:language"] >= 29
    assert stats["examples"] and "kept" in stats["examples"]


def test_extract_once_then_score_deterministically(spark, tiny_crawl, model_dir, tmp_path, capsys):
    raw = str(tmp_path / "raw")
    raw_stats = run_job("--input", str(tiny_crawl), "--output", raw, "quality_filter.output_partitions=2", *TEMPLATED)
    assert raw_stats["files"]["outcomes"] == {"ok": 3}
    assert raw_stats["documents_out"] > 20 and "sample" not in [s["step"] for s in raw_stats["funnel"]]
    assert all(score is None for score in written(raw).values())

    one = str(tmp_path / "one")
    stats_one = run_job("--input", raw, "--model", model_dir, "--output", one, "--alpha", "2",
                        "quality_filter.output_partitions=1", *TEMPLATED)
    three = str(tmp_path / "three")
    stats_three = run_job("--input", str(tiny_crawl), "--model", model_dir, "--output", three, "--alpha", "2",
                          "quality_filter.output_partitions=3", *TEMPLATED)
    kept_one, kept_three = written(one), written(three)
    assert kept_one == kept_three                       # same documents, same scores
    assert 0 < len(kept_one) < raw_stats["documents_out"]
    assert all(0.0 <= s <= 1.0 for s in kept_one.values())
    sample_one = stats_one["funnel"][-1]
    assert sample_one["step"] == "sample" and sample_one["in"] == raw_stats["documents_out"]
    assert sample_one["dropped"] == {"pareto": raw_stats["documents_out"] - len(kept_one)}
    assert stats_three["drop_reasons"]["sample:pareto"] == sample_one["dropped"]["pareto"]
    assert sum(b["documents"] for b in stats_one["scores"]) == raw_stats["documents_out"]

    # the same command again is skipped
    capsys.readouterr()
    assert QualityFilterJob().main(["--input", raw, "--model", model_dir, "--output", one, "--alpha", "2",
                                    "quality_filter.output_partitions=1", *TEMPLATED]) == 0
    assert "skipped" in capsys.readouterr().out


def test_text_inputs_run_langid_and_heuristics_unless_switched_off(spark, tmp_path):
    """A document folder goes through langid and the heuristics steps (not extract); with
    langid.languages=[] and heuristics.enabled=false it passes untouched."""
    import pyarrow as pa

    rng = random.Random(3)
    english = ["\n".join(sentence(rng, 0.0) for _ in range(12)) for _ in range(6)]
    texts = english + ["Die Stadt am Fluss hat eine lange Geschichte, und die alte Fähre wurde stillgelegt."] * 2 + \
        ["Buy now.\nBest price!"] * 2
    folder = tmp_path / "docs"
    folder.mkdir()
    rows = [{"id": f"d{i}", "text": t, "source": "c4"} for i, t in enumerate(texts)]
    table = pa.Table.from_pylist([{name: row.get(name) for name in DOC_ARROW_SCHEMA.names} for row in rows],
                                 schema=DOC_ARROW_SCHEMA)
    pq.write_table(table, folder / "part-0.parquet")
    (folder / "_SUCCESS").touch()
    stats = run_job("--input", str(folder), "--output", str(tmp_path / "out"), *TEMPLATED)
    assert stats["documents_in"] == 10
    assert stats["drop_reasons"]["langid:language"] == 2 and stats["drop_reasons"]["heuristics:c4_too_few_lines"] == 2
    assert [s["step"] for s in stats["funnel"]] == list(STEPS) and stats["funnel"][1]["dropped"] == {}
    assert stats["documents_out"] == 6 and "files" not in stats
    off = run_job("--input", str(folder), "--output", str(tmp_path / "off"), "langid.languages=[]",
                  "heuristics.enabled=false")
    assert off["documents_out"] == 10 and [s["step"] for s in off["funnel"]] == ["read", "extract", "langid"]
    assert stats["languages"]["de"] == 2 and sum(stats["languages"].values()) == 10   # before the language filter
    langs = pq.read_table(tmp_path / "off").column("lang").to_pylist()
    assert sorted(langs).count("de") == 2 and langs.count("en") >= 6      # identified, nothing dropped
