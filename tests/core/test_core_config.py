import pytest

from pipeline.core.config import ConfigError, load_config, parse_override


def test_defaults_load_every_stage_section():
    config = load_config()
    assert config["quality_filter"]["alpha"] == 9.0
    assert "heuristics" in config and "classifier" in config


def test_override_is_typed_and_merged():
    config = load_config(overrides=["quality_filter.alpha=4", "langid.languages=[en, de]"])
    assert config["quality_filter"]["alpha"] == 4.0 and isinstance(config["quality_filter"]["alpha"], float)
    assert config["langid"]["languages"] == ["en", "de"]


def test_unknown_key_fails_with_its_name():
    with pytest.raises(ConfigError, match="quality_filter.alpah"):
        load_config(overrides=["quality_filter.alpah=3"])


def test_ill_typed_value_fails_with_its_name():
    with pytest.raises(ConfigError, match="heuristics.min_words"):
        load_config(overrides=["heuristics.min_words=lots"])


def test_user_file_is_checked(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("classifier:\n  features: raw\n  bogus: 1\n")
    with pytest.raises(ConfigError, match="classifier.bogus"):
        load_config(user)


def test_override_syntax():
    assert parse_override("a.b=1") == (["a", "b"], 1)
    with pytest.raises(ConfigError):
        parse_override("novalue")
