"""Input specs -> files: files, folders, globs, CommonCrawl listings; missing inputs fail early."""
from __future__ import annotations

import gzip

import pytest

from pipeline.core.config import InputError, load_config
from pipeline.readers.inputs import expand_inputs, is_document_folder

CONFIG = load_config()


@pytest.fixture()
def crawl(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.warc.gz").write_bytes(b"x")
    (tmp_path / "a" / "two.warc").write_bytes(b"x")
    (tmp_path / "a" / "notes.txt").write_bytes(b"x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "three.warc.wet.gz").write_bytes(b"x")
    return tmp_path


def test_files_folders_and_globs(crawl):
    one = str(crawl / "a" / "one.warc.gz")
    assert expand_inputs([one], CONFIG) == [one]
    assert expand_inputs([str(crawl)], CONFIG) == [
        str(crawl / "a" / "one.warc.gz"), str(crawl / "a" / "two.warc"), str(crawl / "b" / "three.warc.wet.gz")]
    assert expand_inputs([str(crawl / "*" / "*.gz"), one], CONFIG) == [
        one, str(crawl / "b" / "three.warc.wet.gz")]   # each file once, in order


def test_commoncrawl_listing(tmp_path):
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(
        b"crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz\n\ns3://other/b.warc.gz\n/local/c.warc.gz\n"))
    config = load_config(overrides=["readers.commoncrawl_base_url=https://data.commoncrawl.org"])
    assert expand_inputs([str(listing)], config) == [
        "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz",
        "s3://other/b.warc.gz", "/local/c.warc.gz"]


@pytest.mark.parametrize("spec, message", [
    ("missing.warc.gz", "input not found"),
    ("*.nothing", "no files match"),
    ("empty_dir", "no WARC/WET/ARC files"),
])
def test_missing_inputs_raise_one_line(tmp_path, spec, message):
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match=message) as err:
        expand_inputs([str(tmp_path / spec)], CONFIG)
    assert "\n" not in str(err.value)


def test_empty_listing_and_no_input(tmp_path):
    listing = tmp_path / "wet.paths"
    listing.write_text("\n")
    with pytest.raises(InputError, match="names no files"):
        expand_inputs([str(listing)], CONFIG)
    with pytest.raises(InputError, match="no input"):
        expand_inputs([], CONFIG)


def test_document_folder_needs_success_marker(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "part-0.parquet").write_bytes(b"x")
    assert not is_document_folder(str(tmp_path / "docs"))
    (tmp_path / "docs" / "_SUCCESS").write_bytes(b"")
    assert is_document_folder(str(tmp_path / "docs"))
    assert not is_document_folder(str(tmp_path / "docs" / "*"))
