"""The `train` command on the real data side (pipeline.tokens.mixture / training.data) with a tiny text
corpus and tokenizer; then `train sample`, `train export` and the Hugging Face equality check."""
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from pipeline.tokens import bpe
from training import checkpoint as ckpt
from training.cli import main

WORDS = ("the cat dog sat on mat ran far away and then came back home to eat some food with a friend "
         "who was very happy about it").split()


def write_source(folder, name, n_docs, seed):
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) + "." for _ in range(n_docs)]
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": [f"{name}-{i}" for i in range(n_docs)], "text": texts}),
                   folder / "part-0.parquet", row_group_size=50)
    return texts


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    texts = write_source(root / "web", "web", 300, 1) + write_source(root / "books", "books", 150, 2)
    tok_path = bpe.save(bpe.train_bpe(texts, vocab_size=300), str(root / "tok"))
    mix = root / "mix.yaml"
    mix.write_text(f"seed: 3\ntoken_budget: 20K\ntokenizer: {tok_path}\nvalidation_fraction: 0.1\n"
                   f"root: {root}\nsources:\n  - {{name: web, path: web, weight: 0.7}}\n"
                   f"  - {{name: books, path: books, weight: 0.3}}\n")
    torch.set_num_threads(1)
    args = ["--mixture", str(mix), "--model", "tiny", "--out", str(root / "run"), "model.attn_pattern=dense",
            "batch_size=4", "max_steps=30", "eval_every=15", "ckpt_every=15", "log_every=5", "lr=3e-3",
            "progress=log"]
    assert main(args) == 0
    return {"root": root, "mix": mix, "out": root / "run", "args": args}


def test_train_runs_on_the_real_stream(run, capsys):
    recs = [json.loads(l) for l in (run["out"] / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in recs if r["kind"] == "train"]
    assert [r["step"] for r in train] == [5, 10, 15, 20, 25, 30]
    assert train[-1]["loss"] < train[0]["loss"] - 1.0          # it learns the toy language
    val = [r for r in recs if r["kind"] == "val"]
    assert [r["step"] for r in val] == [15, 30] and {"loss/web", "loss/books"} <= set(val[0])
    state = ckpt.load_train_state(ckpt.resolve(run["out"]))
    assert state["data"][0]["rows"] == 30 * 4


def test_resume_auto_on_the_real_stream_continues_exactly(run, tmp_path):
    """15 steps, stop, resume auto, 15 more == the 30 straight steps of the fixture's run."""
    out = tmp_path / "r"
    args = [a for a in run["args"] if not a.startswith(("--out", "max_steps"))]
    args = [a for a in args if a != str(run["out"])]
    assert main(args + ["--out", str(out), "max_steps=15", "schedule_steps=30"]) == 0
    assert main(args + ["--out", str(out), "max_steps=30", "--resume", "auto"]) == 0
    losses = lambda d: {r["step"]: r["loss"] for r in map(json.loads, (d / "metrics.jsonl").read_text().splitlines())
                        if r["kind"] == "train"}
    straight, resumed = losses(run["out"]), losses(out)
    assert all(abs(straight[s] - resumed[s]) <= 1e-6 for s in straight)


def test_export_loads_in_transformers_with_the_same_logits(run, tmp_path):
    transformers = pytest.importorskip("transformers")
    hf = tmp_path / "hf"
    assert main(["export", "--checkpoint", str(run["out"]), "--hf", str(hf)]) == 0
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in hf.iterdir()}
    from training.sample import load_model
    ours, meta, _ = load_model(run["out"])
    theirs = transformers.GPT2LMHeadModel.from_pretrained(hf).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(hf)
    ids = torch.tensor([tokenizer.encode("the cat sat on the mat and then came back home")])
    with torch.no_grad():
        a = ours(ids)[0][..., : ours.config.vocab_size]
        b = theirs(ids).logits
    assert a.shape == b.shape
    assert (a - b).abs().max().item() <= 1e-4


def test_sample_continues_a_prompt(run, capsys):
    assert main(["sample", "--checkpoint", str(run["out"]), "--prompt", "the cat", "--max-tokens", "12",
                 "--temperature", "0.8", "--top-k", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the cat") and len(out.split()) > 3


def test_banded_models_export_as_gpt_neo(run, tmp_path):
    out = tmp_path / "banded"
    args = [a for a in run["args"] if a not in ("model.attn_pattern=dense",) and not a.startswith("max_steps")]
    args[args.index(str(run["out"]))] = str(out)
    assert main(args + ["max_steps=1"]) == 0
    assert main(["export", "--checkpoint", str(out), "--hf", str(tmp_path / "hf")]) == 0
    assert json.loads((tmp_path / "hf" / "config.json").read_text())["architectures"] == ["GPTNeoForCausalLM"]


def test_tokenizer_mismatch_on_resume_is_one_line(run, tmp_path, capsys):
    other = tmp_path / "tok2"
    bpe.save(bpe.train_bpe(["completely different text here"] * 20, vocab_size=300), str(other))
    text = run["mix"].read_text().replace(str(run["root"] / "tok" / "tokenizer.json"), str(other / "tokenizer.json"))
    mix2 = tmp_path / "mix2.yaml"
    mix2.write_text(text)
    args = list(run["args"])
    args[args.index(str(run["mix"]))] = str(mix2)
    assert main(args + ["--resume", "auto"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tokenizer" in err[0]
