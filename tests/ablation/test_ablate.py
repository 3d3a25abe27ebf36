"""`webmix ablate` end to end on a synthetic ablation with a planted signal: the `planted` variant's
corpus is drawn from the held-out distribution (a small English-like grammar), the `noise` variant's
is random letters, and `mix` is a mixture variant (half noise's corpus, half the planted text read
as a source of its own, its WebText hold-out slice dropped), built by build_mixture. Through the
command (real stages in one JVM, `train`, `train eval`), planted must rank first, mix between, and a
rerun gives the identical ablation.json."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.quality.heldout import is_heldout

REPO_ROOT = Path(__file__).resolve().parents[2]
WEBMIX = [sys.executable, "-m", "pipeline.cli", "ablate"]

SUBJECTS = "the cat|a dog|my friend|the old man|our teacher|a small bird|the farmer|her brother".split("|")
VERBS = "sees|likes|finds|brings|watches|carries|paints|follows|remembers|builds".split("|")
OBJECTS = "a red ball|the river|some bread|the green house|a long letter|the garden|an apple|the road".split("|")
TAILS = "in the morning|after dinner|near the hill|with great care|before the rain|every day|at night".split("|")


def grammar_documents(seed: int, n: int, sentences: int = 30) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                     f"{rng.choice(TAILS)}." for _ in range(sentences)) for _ in range(n)]


def noise_documents(seed: int, n: int, words: int = 150) -> list[str]:
    rng = random.Random(seed)
    return [" ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 8)))
                     for _ in range(words)) for _ in range(n)]


def write_jsonl(path: Path, texts: list[str]) -> str:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return str(path)


def mixture_config(tmp: Path) -> str:
    """Weights by source name; `books` has no corpus in the ablation: optional, so left out."""
    path = tmp / "mix.yaml"
    path.write_text(yaml.safe_dump({"token_budget": "1M", "sources": [
        {"name": "grammar", "path": "unused", "weight": 0.5}, {"name": "letters", "path": "unused", "weight": 0.5},
        {"name": "books", "path": "unused", "weight": 0.2, "optional": True}]}))
    return str(path)


def synthetic_config(tmp: Path) -> Path:
    data = tmp / "data"
    data.mkdir()
    planted = write_jsonl(data / "planted.jsonl", grammar_documents(3, 120))
    config = {
        "train_tokens": "60K", "model": "tiny-ablation", "seeds": [1], "vocab_size": 400, "threads": 1,
        "train": {"model.block_size": 64, "model.n_layer": 1, "model.n_head": 2, "model.n_embd": 32,
                  "batch_size": 8, "eval_every": 0, "ckpt_every": 1000, "warmup_steps": 5, "lr": 0.003},
        "heldout": [{"name": "grammar", "jsonl": [write_jsonl(data / "heldout.jsonl", grammar_documents(1, 30))]}],
        "bootstrap": 200,
        "variants": {
            "noise": {"documents": {"input": [{"kind": "jsonl", "input": [
                write_jsonl(data / "noise.jsonl", noise_documents(2, 150))]}]}},
            "planted": {"documents": {"input": [{"kind": "jsonl", "input": [planted]}]}},
            "mix": {"mixture": mixture_config(tmp), "sources": {
                "grammar": {"text": {"kind": "jsonl", "input": [planted], "drop_heldout": True}},
                "letters": {"variant": "noise"}}},
        },
    }
    path = tmp / "ablation.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def ablate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*WEBMIX, *args], cwd=REPO_ROOT, text=True, capture_output=True, timeout=600)


def test_planted_variant_ranks_first_and_rerun_is_identical(tmp_path, spark_submit):
    config, out = synthetic_config(tmp_path), tmp_path / "run"
    done = ablate("--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first = json.loads((out / "ablation.json").read_text())
    assert first["ranking"]["grammar"] == ["planted", "mix", "noise"]
    planted, mix = first["variants"]["planted"], first["variants"]["mix"]
    assert planted["heldout"]["grammar"]["vs_baseline"]["verdict"] == "better"
    assert all(v["epochs"] <= 4 for v in first["variants"].values())
    # build_mixture drew the training rows half and half from the two sources given (books left out)
    assert set(mix["mixture"]) == {"grammar", "letters"}
    rows = [mix["mixture"][s]["rows"] for s in ("grammar", "letters")]
    assert abs(rows[0] - rows[1]) <= 1 and mix["mixture"]["grammar"]["weight"] == 0.5
    # the mixture's own copy of the planted text holds no document of the WebText hold-out slice
    kept = [json.loads(line)["text"] for line in next((out / "inputs").glob("*.jsonl")).read_text().splitlines()]
    assert kept and len(kept) == sum(not is_heldout(t) for t in grammar_documents(3, 120))
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings["variants"]) == {"noise", "planted", "mix"} and timings["variants"]["mix"]["tokens_per_s"] > 0
    assert (out / "report" / "ablation.png").stat().st_size > 0
    assert "planted" in (out / "report" / "ablation.md").read_text()
    # rerun: the Spark stages are complete for their fingerprints (skipped); the mixture variant
    # trains again from scratch (the others resume their finished runs: the suite's time budget) and
    # every variant is evaluated again: the same numbers
    shutil.rmtree(out / "train" / "mix")
    shutil.rmtree(out / "eval")
    again = ablate("--config", str(config), "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("(complete: skipped)") == 11, again.stdout   # every Spark stage
    assert json.loads((out / "ablation.json").read_text()) == first


@pytest.mark.parametrize("edit, key", [
    ({"seeds": []}, "ablation.seeds"),
    ({"variants": {"a": {"commoncrawl": {"steps": ["extract", "typo"]}}, "b": {}}}, "ablation.variants.a"),
    ({"train_tokens": "lots"}, "ablation.train_tokens"),
    ({"colour": 1}, "colour"),
    ({"variants": {"a": {"documents": {"input": [{"kind": "text", "input": ["x"]}]}},
                   "m": {"mixture": "conf/gpt3_mix.yaml", "sources": {"books9": {"variant": "a"}}}}},
     "ablation.variants.m.sources.books9"),
])
def test_config_mistake_fails_fast_with_one_line(tmp_path, edit, key):
    config = yaml.safe_load(synthetic_config(tmp_path).read_text()) | edit
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    done = ablate("--config", str(path), "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert not (tmp_path / "run").exists()
