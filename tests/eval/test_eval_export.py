"""Hugging Face folders both ways: the export loaded back (no transformers) gives the checkpoint's
per-item log-likelihoods; transformers' GPT2LMHeadModel / GPTNeoForCausalLM give the same logits."""
import json

import pytest
import torch

from training import checkpoint as ckpt
from training.cli import main
from training.eval.runner import evaluate, load_scoring_model
from training.export import load_hf, write_hf
from training.model import GPT, GPTConfig


def jiggled(config: GPTConfig, seed: int = 0) -> GPT:
    """A random model with weights far enough from init that its logits are not near-uniform."""
    torch.manual_seed(seed)
    model = GPT(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def test_export_round_trip_gives_the_same_item_log_likelihoods(planted_run, tmp_path):
    hf = tmp_path / "hf"
    assert main(["export", "--checkpoint", str(planted_run["run"]), "--hf", str(hf)]) == 0
    task = tmp_path / "t.yaml"
    (tmp_path / "t.jsonl").write_text('{"ctx": "apple river", "a": "stone cloud", "b": "tiger"}\n'
                                      '{"ctx": "meadow", "a": "rocket pillow garden", "b": "mirror"}\n')
    task.write_text(f"kind: multiple_choice\ndata: {{file: {tmp_path / 't.jsonl'}, reader: jsonl}}\n"
                    "context: '{ctx}'\nchoices: [' {a}', ' {b}']\ngold: _line\ngold_map: {'1': 0, '2': 1}\n")
    ours = evaluate(planted_run["run"], [str(task)], [0, 1], out=tmp_path / "a")
    exported = evaluate(hf, [str(task)], [0, 1], out=tmp_path / "b")
    items = lambda d: [l for l in (d / "items" / "t.1shot.jsonl").read_text().splitlines()]
    for a, b in zip(items(tmp_path / "a"), items(tmp_path / "b")):
        assert json.loads(a)["logprobs"] == pytest.approx(json.loads(b)["logprobs"], abs=1e-4)
    assert [r["value"] for r in ours["results"]] == [r["value"] for r in exported["results"]]
    assert load_scoring_model(hf).fingerprint != load_scoring_model(planted_run["run"]).fingerprint


@pytest.mark.parametrize("pattern,qkv_bias", [(["dense"], True), (["dense", "banded"], False),
                                              (["banded", "dense"], True)])
def test_transformers_gives_the_same_logits(tmp_path, pattern, qkv_bias):
    transformers = pytest.importorskip("transformers")
    config = GPTConfig(vocab_size=100, block_size=48, n_layer=2, n_head=2, n_embd=32, attn_pattern=pattern,
                       band_width=8, qkv_bias=qkv_bias, attn_impl="sdpa")
    model = jiggled(config)
    if qkv_bias:     # a k and v bias export exactly (dropped / folded); a q bias cannot
        for block in model.transformer.h:
            block.attn.c_attn.bias.data[: config.n_embd] = 0
    hf = write_hf(model, tmp_path / "hf", eot_id=0)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(hf).eval()
    expected = "GPT2LMHeadModel" if pattern == ["dense"] else "GPTNeoForCausalLM"
    assert type(theirs).__name__ == expected
    ids = torch.randint(0, 100, (2, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a = model(ids)[0][..., : config.vocab_size]
        b = theirs(ids).logits
        c = load_hf(hf)[0](ids)[0][..., : config.vocab_size]
    assert (a - b).abs().max().item() < 1e-4
    assert (a - c).abs().max().item() < 1e-4


def test_a_query_bias_is_refused_for_gpt_neo(tmp_path):
    config = GPTConfig(vocab_size=100, block_size=32, n_layer=2, n_head=2, n_embd=32,
                       attn_pattern=["dense", "banded"], band_width=8, qkv_bias=True)
    model = jiggled(config)
    with pytest.raises(ckpt.CheckpointError, match="query bias"):
        write_hf(model, tmp_path / "hf")
