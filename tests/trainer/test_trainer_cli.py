"""The command line: --help everywhere, config and checkpoint mistakes as one line with exit 2."""
import pytest

from training.cli import main


@pytest.mark.parametrize("argv", [["--help"], ["sample", "--help"], ["export", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: train" in capsys.readouterr().out


def test_help_lists_the_config_keys(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "tokens_per_step=0" in out and "band_width=256" in out


@pytest.mark.parametrize("override,words", [
    ("no_such_key=1", "no_such_key: unknown key"),
    ("train.no_such=1", "train.no_such: unknown key"),
    ("model.n_head=3", "not divisible"),
    ("lr=fast", "train.lr: input should be a valid number"),
    ("train.dtype=fp8", "train.dtype: input should be 'auto', 'float32' or 'bfloat16'"),
])
def test_config_mistakes_exit_2_in_one_line(override, words, tmp_path, capsys):
    code = main(["--mixture", str(tmp_path / "missing.yaml"), "--out", str(tmp_path), override])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err and len(err.splitlines()) == 1, err


def test_unknown_preset_and_missing_checkpoint(tmp_path, capsys):
    assert main(["--mixture", "m.yaml", "--model", "huge"]) == 2
    assert "unknown model preset 'huge'" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(tmp_path / "nothing"), "--prompt", "x"]) == 2
    assert capsys.readouterr().err.strip() == f"train sample: error: checkpoint not found: {tmp_path / 'nothing'}"


def test_config_file_sections_and_one_line_mistakes(tmp_path, capsys):
    from training.cli import read_run_file
    from training.config import load_run_config

    run_file = tmp_path / "run.yaml"
    run_file.write_text("train:\n  lr: 3e-4\nmodel:\n  dropout: 1e-1\nmixture:\n  root: data\n")
    sections, mixture = read_run_file(str(run_file))
    config = load_run_config("tiny", ["max_steps=5"], config_file=sections)
    assert config.train.lr == 3e-4 and config.model.dropout == 0.1 and config.train.max_steps == 5
    assert mixture == {"root": "data"}
    run_file.write_text("train:\n  lr: 3e-4\n  warmup: 3\n")
    code = main(["--mixture", str(tmp_path / "m.yaml"), "--config", str(run_file)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "train.warmup: unknown key" in err and len(err.splitlines()) == 1, err
