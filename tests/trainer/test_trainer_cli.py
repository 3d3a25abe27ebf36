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
    ("no_such_key=1", "unknown config key 'no_such_key'"),
    ("train.no_such=1", "unknown config key 'train.no_such'"),
    ("model.n_head=3", "not divisible"),
    ("lr=fast", "'train.lr' must be a float"),
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
