"""A stage's fingerprint is the resolved config plus the inputs: equivalent invocations share it."""
from pipeline.quality.filter_job import QualityFilterJob


def fingerprint(argv: list[str]) -> str:
    job = QualityFilterJob()
    args = job.parser().parse_args(["--input", "crawl/*.warc.gz", "--output", "out", *argv])
    job.doc_folders, job.paths = [], []  # what validate() would find; no files are read here
    return job.fingerprint(args, job.resolve(args))


def test_flag_key_value_config_file_and_default_share_one_fingerprint(tmp_path):
    config_file = tmp_path / "alpha.yaml"
    config_file.write_text("quality_filter:\n  alpha: 9\n")
    prints = {
        "no flag": fingerprint([]),
        "--alpha 9": fingerprint(["--alpha", "9"]),
        "key=value": fingerprint(["quality_filter.alpha=9"]),
        "--config": fingerprint(["--config", str(config_file)]),
        "3e-4 style": fingerprint(["quality_filter.alpha=9e0"]),
    }
    assert len(set(prints.values())) == 1, prints


def test_a_different_value_or_input_changes_the_fingerprint():
    base = fingerprint([])
    assert fingerprint(["--alpha", "4"]) != base
    assert fingerprint(["quality_filter.alpha=4"]) == fingerprint(["--alpha", "4"])
    assert fingerprint(["--lang", "en,de"]) == fingerprint(["langid.languages=[en, de]"]) != base
    job = QualityFilterJob()
    args = job.parser().parse_args(["--input", "other/*.warc.gz", "--output", "out"])
    job.doc_folders, job.paths = [], []
    assert job.fingerprint(args, job.resolve(args)) != base
