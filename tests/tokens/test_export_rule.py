"""build_mixture's export rule (issue 22): by default one pass over the tokens on disk, never more
than the mixture's budget; a run larger than the free disk is refused in one line, before Spark."""
from __future__ import annotations

import shutil

import pytest

from pipeline.core.config import InputError
from pipeline.tokens.exports import export_bytes, free_bytes
from pipeline.tokens.mixture_job import check_disk, export_tokens


def test_default_is_the_budget_or_the_tokens_on_disk_whichever_is_smaller():
    assert export_tokens(0, budget=300_000_000_000, available=4_200_000) == 4_200_000   # GPT-3 on a sample
    assert export_tokens(0, budget=1_000_000, available=4_200_000) == 1_000_000
    assert export_tokens(2_000_000, budget=300_000_000_000, available=4_200_000) == 2_000_000  # asked for


def test_export_bytes_counts_every_format_and_the_token_width():
    assert export_bytes(rows=10, row_tokens=1025, vocab_size=50257, formats=3) == 10 * 1025 * 2 * 3
    assert export_bytes(rows=10, row_tokens=1025, vocab_size=100_000, formats=1) == 10 * 1025 * 4


def test_free_bytes_of_a_folder_not_made_yet_is_its_disk(tmp_path):
    assert free_bytes(str(tmp_path / "not" / "yet")) == pytest.approx(shutil.disk_usage(tmp_path).free, rel=0.01)
    assert free_bytes("s3a://bucket/mixture") is None      # remote: unknown, not refused


def test_an_export_larger_than_the_free_disk_is_refused_in_one_line(tmp_path):
    rows = shutil.disk_usage(tmp_path).free // (1025 * 2 * 3) + 1000
    with pytest.raises(InputError) as refused:
        check_disk(rows, 1024, 50257, ["parquet", "llmc", "megatron"], str(tmp_path / "mixture"))
    message = str(refused.value)
    assert "\n" not in message and "build_mixture.tokens" in message and "GB free" in message
    check_disk(1000, 1024, 50257, ["parquet", "llmc", "megatron"], str(tmp_path / "mixture"))   # fits
    check_disk(10 ** 15, 1024, 50257, ["parquet"], "s3a://bucket/mixture")   # remote: not checked
