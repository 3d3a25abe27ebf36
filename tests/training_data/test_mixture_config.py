"""Mixture files: GPT-3's Table 2.2 from the resolver, the shipped YAMLs, and every bad input
stopped with one clear line before training."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pyarrow import table as arrow_table

from pipeline.tokens import bpe
from pipeline.tokens.tokenize_job import tokenize_local
from pipeline.tokens.mixture import (GPT3_BUDGET, GPT3_TABLE, MixtureError, format_table, load_mixture, parse_count,
                              resolve_table)

REPO = Path(__file__).resolve().parents[2]


def test_gpt3_table_epochs_follow_from_its_token_counts():
    table = resolve_table(GPT3_TABLE, GPT3_BUDGET)
    epochs = {row["name"]: round(row["epochs"], 2) for row in table}
    assert epochs == {"commoncrawl": 0.43, "webtext2": 3.44, "books1": 1.98, "books2": 0.43, "wikipedia": 2.97}
    assert abs(sum(row["weight"] for row in table) - 1) < 1e-12  # the paper's weights sum to 1.01
    assert abs(sum(row["drawn"] for row in table) - GPT3_BUDGET) < 1
    text = format_table(table, GPT3_BUDGET)
    assert "commoncrawl" in text and "410B" in text and "3.44" in text and "300B budget" in text


def test_mixture_table_counts_the_tokens_on_disk(mixture):
    rows = resolve_table(mixture)
    assert [r["name"] for r in rows] == ["a", "b", "c"]
    for row, source in zip(rows, mixture.sources):
        assert row["tokens"] == source.tokens > 0
        assert row["epochs"] == pytest.approx(1_000_000 * source.weight / source.tokens)


def test_token_counts_parse():
    assert parse_count("300B", "k") == 300_000_000_000
    assert parse_count(3e11, "k") == parse_count("3e11", "k") == 300_000_000_000
    assert parse_count("1.5M", "k") == 1_500_000
    with pytest.raises(MixtureError):
        parse_count("lots", "token_budget")


@pytest.mark.parametrize("conf", ["gpt3_mix.yaml", "cc_webtext_60_40.yaml"])
def test_shipped_mixtures_load(corpus, tmp_path, conf):
    raw = yaml.safe_load((REPO / "conf" / conf).read_text())
    names = [s["path"].split("/")[-1] for s in raw["sources"]]
    for folder, name in zip(names, ["a", "b", "c", "a", "b"]):
        if conf.startswith("gpt3") and folder in ("books2", "wikipedia"):
            continue  # the user lacks these two: left out, the rest renormalised
        shutil.copytree(corpus["root"] / "tokens" / name, tmp_path / "tokens" / folder)
    mixture = load_mixture(str(REPO / "conf" / conf), {"root": str(tmp_path)})
    assert abs(sum(s.weight for s in mixture.sources) - 1) < 1e-12
    assert mixture.token_budget == 300_000_000_000
    if conf.startswith("gpt3"):
        assert [s.name for s in mixture.sources] == ["commoncrawl", "webtext2", "books1"]
        assert mixture.sources[0].weight == pytest.approx(0.60 / 0.90)
        assert any("books2, wikipedia" in w for w in mixture.warnings)
    else:
        assert [s.weight for s in mixture.sources] == pytest.approx([0.6, 0.4])


def _bad(tmp_path, corpus, sources, **top) -> str:
    spec = {"seed": 1, "token_budget": 1000, **top, "sources": sources}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(MixtureError) as info:
        load_mixture(str(path), {"root": str(corpus["root"])})
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_mixtures_fail_with_one_line(corpus, tmp_path):
    a = {"name": "a", "path": "tokens/a", "weight": 1}
    assert "does not exist" in _bad(tmp_path, corpus, [a, {"name": "x", "path": "tokens/nope", "weight": 1}])
    assert _bad(tmp_path, corpus, [a, {"name": "b", "path": "tokens/b", "weight": -0.5}]) == \
        "mixture.sources.b.weight: input should be greater than or equal to 0, got -0.5"
    assert "sum to zero" in _bad(tmp_path, corpus, [{**a, "weight": 0}])
    assert "listed twice" in _bad(tmp_path, corpus, [a, a])
    assert "mixture.sources.a.wieght: unknown key" in _bad(tmp_path, corpus, [{**a, "wieght": 1}])
    assert "mixture.token_budget: must be a token count like 300B" in _bad(tmp_path, corpus, [a], token_budget="lots")
    assert "mixture.sources.a.weight: input should be a valid number" in \
        _bad(tmp_path, corpus, [{**a, "weight": "heavy"}])
    assert "mixture.seed: " in _bad(tmp_path, corpus, [a], seed="x")


def test_mixture_overrides_follow_the_one_loader(mixture, corpus):
    """`sources.<name>.<key>` addresses a source by name; "3e-4"-style strings are numbers."""
    from pipeline.tokens.mixture import read_mixture_file

    spec = read_mixture_file(corpus["mix"], {"sources.a.weight": "5e-1", "token_budget": "2e6"})
    assert [s.weight for s in spec.sources] == [0.5, 0.3, 0.2] and spec.token_budget == 2_000_000


def test_zero_token_source_is_refused(corpus, tmp_path):
    empty = arrow_table({"id": ["e1", "e2"], "text": ["", None]})
    tokenize_local(empty, str(tmp_path / "empty"), corpus["tokenizer"], source="empty")
    message = _bad(tmp_path, corpus, [{"name": "a", "path": "tokens/a", "weight": 1},
                                      {"name": "empty", "path": str(tmp_path / "empty"), "weight": 1}])
    assert "empty" in message and "no training tokens" in message


def test_shards_of_another_tokenizer_are_refused(corpus, tmp_path):
    other = bpe.save(bpe.train_bpe(["something else entirely"] * 20, vocab_size=280), str(tmp_path / "other"))
    tokenize_local(corpus["docs"]["a"], str(tmp_path / "tokens" / "a2"), other, source="a2")
    message = _bad(tmp_path, corpus, [{"name": "a", "path": "tokens/a", "weight": 1},
                                      {"name": "a2", "path": str(tmp_path / "tokens" / "a2"), "weight": 1}])
    assert "a2" in message and "tokenized with tokenizer" in message
