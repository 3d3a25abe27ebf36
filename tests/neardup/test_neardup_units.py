"""Shingles, LSH presets and S-curves, URL keys, input checks: pure logic, no Spark."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.config import ConfigError, InputError, load_config
from pipeline.neardup import lsh
from pipeline.neardup.exact import normalize_url
from pipeline.neardup.inputs import check_schemas, parse_inputs, parse_priority
from pipeline.neardup.shingles import normalized_words, shingles, word_spans
from pipeline.neardup.survivors import size_histogram
from pipeline.neardup.synthetic import to_docs


def test_words_are_lower_case_without_punctuation():
    assert normalized_words("Hello,  WORLD! Don't — “stop”.") == ["hello", "world", "dont", "stop"]
    assert normalized_words(None) == [] and normalized_words(" ... !!! ") == []


def test_short_documents_are_one_shingle_never_dropped():
    assert shingles("Click here", 5) == ["click here"]
    assert shingles("a b c d e f", 5) == ["a b c d e", "b c d e f"]
    assert shingles("", 5) == []


def test_word_spans_point_into_the_original_text():
    text = "Hello, World—again  x"
    words, spans = word_spans(text)
    assert words == ["hello", "worldagain", "x"]
    assert [text[s:e] for s, e in spans] == ["Hello,", "World—again", "x"]


def test_presets_and_s_curve():
    conf = load_config()["dedup"]
    fineweb = lsh.from_config(conf, 262144)
    assert (fineweb.bands, fineweb.rows, fineweb.num_perm, fineweb.ngram) == (14, 8, 112, 5)
    gpt3 = lsh.from_config({**conf, "preset": "gpt3"}, 262144)
    assert (gpt3.bands, gpt3.rows, gpt3.features, gpt3.verify) == (10, 1, "terms", "exact")
    curve = lsh.s_curve(14, 8)
    assert curve["0.50"] == pytest.approx(1 - (1 - 0.5 ** 8) ** 14, abs=1e-4)
    assert list(curve.values()) == sorted(curve.values())
    assert "P(candidate | Jaccard 0.80) = 0.9235" in lsh.format_s_curve(fineweb)


def test_preset_mistakes_name_the_key():
    conf = load_config()["dedup"]
    with pytest.raises(ConfigError, match="dedup.preset"):
        lsh.from_config({**conf, "preset": "nope"}, 10)
    bad = {**conf, "presets": {**conf["presets"], "custom": {**conf["presets"]["custom"], "verify": "exact"}},
           "preset": "custom"}
    with pytest.raises(ConfigError, match="dedup.presets.custom.verify"):
        lsh.from_config(bad, 10)
    with pytest.raises(ConfigError, match="dedup.presets.fineweb.bands"):
        load_config(overrides=["dedup.presets.fineweb.bands=many"])


def test_url_keys():
    assert normalize_url("HTTP://www.Example.com:80/a/../b/?b=2&a=1#frag") == "example.com/b?a=1&b=2"
    assert normalize_url("https://example.com/b?a=1&b=2") == "example.com/b?a=1&b=2"
    assert normalize_url("https://example.com:8443/") == "example.com:8443"
    assert normalize_url(None) is None and normalize_url("  ") is None and normalize_url("http://[x") is None


def test_priority_and_inputs():
    inputs = parse_inputs(["webtext=/a", "commoncrawl=/b"])
    assert parse_priority(None, list(inputs)) == ["webtext", "commoncrawl"]
    assert parse_priority("commoncrawl,webtext", list(inputs)) == ["commoncrawl", "webtext"]
    for bad in ("webtext", "webtext,books"):
        with pytest.raises(InputError):
            parse_priority(bad, list(inputs))
    for bad in (["webtext"], ["a=/x", "a=/y"], ["removed=/x"]):
        with pytest.raises(InputError):
            parse_inputs(bad)


def test_different_schemas_fail_naming_the_column(tmp_path):
    good = to_docs(["a"], ["some text"])
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    pq.write_table(good, tmp_path / "a" / "part-0.parquet")
    pq.write_table(good.drop(["lang_score"]), tmp_path / "b" / "part-0.parquet")
    pq.write_table(good.set_column(2, "text", pa.array([1], pa.int64())), tmp_path / "c" / "part-0.parquet")
    check_schemas({"a": str(tmp_path / "a")})
    with pytest.raises(InputError, match="'lang_score'"):
        check_schemas({"a": str(tmp_path / "a"), "b": str(tmp_path / "b")})
    with pytest.raises(InputError, match="'text'"):
        check_schemas({"a": str(tmp_path / "a"), "c": str(tmp_path / "c")})
    with pytest.raises(InputError, match="not found"):
        check_schemas({"z": str(tmp_path / "missing")})


def test_cluster_size_histogram_bins():
    assert size_histogram({2: 5, 3: 1, 4: 2, 9: 3, 100: 1}) == {"2": 5, "3-4": 3, "9-16": 3, "65-128": 1}


def test_jobs_fail_before_spark_naming_the_column(tmp_path, capsys):
    from pipeline.neardup.decontam_job import DecontaminateJob
    from pipeline.neardup.dedup_job import DedupJob
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    good = to_docs(["a"], ["some text"])
    pq.write_table(good, tmp_path / "a" / "part-0.parquet")
    pq.write_table(good.append_column("extra", pa.array([1])), tmp_path / "b" / "part-0.parquet")
    args = ["--input", f"a={tmp_path / 'a'}", "--input", f"b={tmp_path / 'b'}", "--output", str(tmp_path / "o")]
    assert DedupJob().main(args) == 2
    assert "'extra'" in capsys.readouterr().err
    evals = tmp_path / "e.txt"
    evals.write_text("an example\n")
    assert DecontaminateJob().main([*args, "--eval", str(evals)]) == 2
    assert "'extra'" in capsys.readouterr().err
    assert DedupJob().main([args[0], args[1], "--output", "o", "dedup.preset=nope"]) == 2
    assert "dedup.preset" in capsys.readouterr().err
