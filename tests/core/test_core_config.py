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


def test_one_set_of_rules_for_values():
    config = load_config(overrides=["quality_filter.alpha=3e-4", "tokenizer.sample_chars=1e8",
                                    "langid.languages=en,de", "heuristics.min_words=null"])
    assert config["quality_filter"]["alpha"] == 3e-4            # YAML 1.1 reads 3e-4 as a string
    assert config["tokenizer"]["sample_chars"] == 100_000_000   # a whole number written as 1e8
    assert config["langid"]["languages"] == ["en", "de"]
    assert config["heuristics"]["min_words"] is None            # null switches a rule off
    with pytest.raises(ConfigError, match=r"^quality_filter\.alpha: .*not a boolean"):
        load_config(overrides=["quality_filter.alpha=true"])
    with pytest.raises(ConfigError, match=r"^dedup\.presets\.custom\.bandz: unknown key \(known here: bands"):
        load_config(overrides=["dedup.presets.custom.bandz=3"])


def test_parse_model_names_the_dotted_key_in_one_line():
    from pydantic import BaseModel, ConfigDict

    from pipeline.core.config import parse_model

    class Inner(BaseModel):
        model_config = ConfigDict(extra="forbid")
        lr: float = 1e-3

    class Section(BaseModel):
        model_config = ConfigDict(extra="forbid")
        batch_size: int = 8
        inner: Inner = Inner()
        tasks: list[str] = []

    assert parse_model(Section, {"inner": {"lr": "3e-4"}, "tasks": "a,b"}, "eval").inner.lr == 3e-4
    assert parse_model(Section, None, "eval").model_dump() == {"batch_size": 8, "inner": {"lr": 1e-3}, "tasks": []}
    for data, message in [({"inner": {"lr": "fast"}}, "eval.inner.lr: input should be a valid number"),
                          ({"inner": {"rl": 1}}, "eval.inner.rl: unknown key (known here: lr)"),
                          ({"batch_size": "x", "inner": {"lr": "y"}}, "eval.batch_size: "),
                          ("oops", "eval: must be a mapping")]:
        with pytest.raises(ConfigError) as info:
            parse_model(Section, data, "eval")
        assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_webmix_config_prints_the_resolved_config_or_one_line(tmp_path, capsys):
    import yaml

    from pipeline.cli import main

    user = tmp_path / "mine.yaml"
    user.write_text("quality_filter:\n  alpha: 3e-4\n")
    assert main(["config", "quality_filter", "--config", str(user), "quality_filter.seed=7"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert list(shown) == ["quality_filter"]
    assert shown["quality_filter"]["alpha"] == 3e-4 and shown["quality_filter"]["seed"] == 7
    assert main(["config", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("error: nosuch: unknown section")
