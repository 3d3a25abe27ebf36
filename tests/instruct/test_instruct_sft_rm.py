"""The chat format and readers (bad input skipped under named reasons), SFT's response-only loss and
packing, the reward model's loss and K-wise batching, and exact resume of the three commands."""
from __future__ import annotations

import gzip
import json
import shutil

import pytest
import torch
import torch.nn.functional as F

from pipeline.core.config import InputError
from training import checkpoint as ckpt
from training.instruct.chat import ChatFormat
from training.instruct.config import PPOSettings, RMSettings, SFTSettings
from training.instruct.data import Skips, read_prefs, read_prompts, read_sft, split_hh
from training.instruct.ppo import train_ppo
from training.instruct.reward import ScalarHead, ranking_loss
from training.instruct.rm import Group, group_batch_loss, train_rm
from training.instruct.run import load_chat_model
from training.instruct.sft import batch_loss, make_batch, train_sft

from instruct_fixtures import corpus, write_jsonl

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def chat_model(base_ckpt):
    return load_chat_model(base_ckpt, CPU, seed=0)


def test_template_masks_only_assistant_turns(chat_model):
    chat = chat_model.chat
    turns = [("user", "hi"), ("assistant", "yes"), ("user", "tell me"), ("assistant", "no good")]
    ids, mask = chat.example(turns)
    assert ids == chat.prompt_ids(turns[:-1]) + chat.response_ids("no good")
    masked = [i for i, m in zip(ids, mask) if m]
    assert masked == chat.response_ids("yes") + chat.response_ids("no good")
    assert chat.render(turns[:2]) == "<|user|>hi<|end|><|assistant|>yes<|end|>"


def test_readers_skip_bad_records_under_named_reasons(tmp_path):
    sft = tmp_path / "sft.json"
    sft.write_text(json.dumps([{"instruction": "a", "output": "b"}, {"instruction": "a", "output": " "},
                               {"instruction": "q", "input": "ctx", "output": "r", "history": [["h", "i"]]}]))
    skips = Skips()
    convs = read_sft([sft], skips)
    assert convs == [[("user", "a"), ("assistant", "b")],
                     [("user", "h"), ("assistant", "i"), ("user", "q\n\nctx"), ("assistant", "r")]]
    assert skips == {"empty_turn": 1}
    hh = tmp_path / "hh.jsonl.gz"
    rows = [{"chosen": "\n\nHuman: hi\n\nAssistant: ok\n\nHuman: more?\n\nAssistant: yes", "rejected":
             "\n\nHuman: hi\n\nAssistant: ok\n\nHuman: more?\n\nAssistant: no"},
            {"chosen": "\n\nHuman: a\n\nAssistant: same", "rejected": "\n\nHuman: a\n\nAssistant: same"},
            {"chosen": "\n\nHuman: a\n\nAssistant: x", "rejected": "\n\nHuman: b\n\nAssistant: y"},
            {"chosen": "\n\nHuman: a\n\nAssistant: x", "rejected": "\n\nHuman: a\n\nAssistant:  "}]
    with gzip.open(hh, "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    skips = Skips()
    groups = read_prefs([hh], skips)
    assert [(g.prompt, g.responses) for g in groups] == [
        ([("user", "hi"), ("assistant", "ok"), ("user", "more?")], ["yes", "no"])]
    assert skips == {"identical_pair": 1, "prompts_differ": 1, "empty_response": 1}
    tree = {"message_tree_id": "t", "prompt": {"message_id": "p", "role": "prompter", "text": "q", "replies": [
        {"role": "assistant", "text": "second", "rank": 1, "replies": []},
        {"role": "assistant", "text": "best", "rank": 0, "replies": []},
        {"role": "assistant", "text": "bot", "rank": 2, "synthetic": True, "replies": []},
        {"role": "assistant", "text": "third", "rank": 3, "replies": []}]}}
    skips = Skips()
    (group,) = read_prefs([write_jsonl(tmp_path / "oa.jsonl", [tree])], skips)
    assert group.responses == ["best", "second", "third"] and skips == {"synthetic_reply": 1}
    assert split_hh("\n\nHuman: x\n\nAssistant: y") == ([("user", " x")], " y")
    with pytest.raises(InputError, match="record 1 is not a preference record"):
        read_prefs([write_jsonl(tmp_path / "bad.jsonl", [{"text": "x"}])], Skips())
    with pytest.raises(InputError, match="record 1 is not an SFT record"):
        read_sft([write_jsonl(tmp_path / "bad2.jsonl", [{"prompt": "x"}])], Skips())
    assert read_prompts([write_jsonl(tmp_path / "p.jsonl", ["a", {"prompt": "b"}, ""])], skips) == [
        [("user", "a")], [("user", "b")]]


def _examples(chat: ChatFormat, n: int = 6):
    return [chat.example([("user", "tell me about water " * (1 + i % 3)), ("assistant", "yes good " * (1 + i))])
            for i in range(n)]


def test_loss_gradients_flow_only_from_response_tokens(chat_model):
    gpt, chat = chat_model.gpt, chat_model.chat
    examples = _examples(chat, 3)
    batch = make_batch(examples, "padded", 256, chat.end)
    captured = {}

    def keep(module, inputs, out):
        out.retain_grad()
        captured["logits"] = out

    handle = gpt.lm_head.register_forward_hook(keep)
    try:
        batch_loss(gpt, batch, CPU).backward()
    finally:
        handle.remove()
        gpt.zero_grad(set_to_none=True)
    flows = captured["logits"].grad.abs().sum(-1) > 0
    expected = torch.zeros_like(flows)
    for row, (ids, mask) in enumerate(examples):
        for i in range(1, len(ids)):
            expected[row, i - 1] = mask[i]  # position i-1 predicts token i
    assert torch.equal(flows, expected)


def test_packed_loss_equals_padded_and_per_example_loss(chat_model):
    gpt, chat = chat_model.gpt.eval(), chat_model.chat
    examples = _examples(chat)
    with torch.no_grad():
        packed = batch_loss(gpt, make_batch(examples, "packed", 256, chat.end), CPU)
        padded = batch_loss(gpt, make_batch(examples, "padded", 256, chat.end), CPU)
        total = count = 0.0
        for ex in examples:
            n = sum(ex[1][1:])
            total += batch_loss(gpt, make_batch([ex], "padded", 256, chat.end), CPU).item() * n
            count += n
    assert make_batch(examples, "packed", 256, chat.end)["idx"].size(0) < len(examples)  # really packed
    assert packed.item() == pytest.approx(total / count, rel=1e-5)
    assert padded.item() == pytest.approx(total / count, rel=1e-5)


def test_ranking_loss_equals_the_formula_on_hand_set_rewards():
    rewards = torch.tensor([2.0, 0.5, -1.0, 0.3, 0.7])  # a prompt ranked K=3, then a pair
    loss = ranking_loss(rewards, [3, 2])
    ls = lambda x: -F.logsigmoid(torch.tensor(x)).item()  # noqa: E731
    first = (ls(2.0 - 0.5) + ls(2.0 + 1.0) + ls(0.5 + 1.0)) / 3
    assert loss.item() == pytest.approx((first + ls(0.3 - 0.7)) / 2, rel=1e-6)


def test_k_wise_batch_equals_its_pairs_one_by_one(chat_model):
    chat = chat_model.chat
    model = ScalarHead(chat_model.gpt, generator=torch.Generator().manual_seed(1))
    prompt = chat.prompt_ids([("user", "tell me about fire")])
    seqs = [prompt + chat.response_ids(t) for t in ("yes good", "no", "the cat sat", "bad bad")]
    kwise, _ = group_batch_loss(model, [Group(seqs)], chat.end, CPU)
    kwise.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    pairs = [Group([seqs[i], seqs[j]]) for i in range(4) for j in range(i + 1, 4)]
    one_by_one = sum(group_batch_loss(model, [p], chat.end, CPU)[0] for p in pairs) / len(pairs)
    one_by_one.backward()
    assert kwise.item() == pytest.approx(one_by_one.item(), rel=1e-5)
    for g, p in zip(grads, model.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-6)
    model.zero_grad()


def _same_weights(a, b) -> None:
    sa, sb = ckpt.load_model_state(ckpt.resolve(a)), ckpt.load_model_state(ckpt.resolve(b))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    ta, tb = ckpt.load_train_state(ckpt.resolve(a)), ckpt.load_train_state(ckpt.resolve(b))
    for key in ("head", "value"):
        if key in ta:
            assert all(torch.equal(ta[key][k], tb[key][k]) for k in ta[key])


def test_resume_is_exact_for_sft_rm_and_ppo(base_ckpt, tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", [{"instruction": f"tell me about water {i}", "output": "yes good " * (i % 4 + 1)}
                                                for i in range(24)])
    common = {"device": "cpu", "progress": "log", "log_every": 50}
    sft = SFTSettings(max_steps=4, batch_size=6, model_dropout=0.1, **common)
    train_sft(base_ckpt, [data], tmp_path / "sft_full", sft)
    half = sft.model_copy(update={"ckpt_every": 2})
    train_sft(base_ckpt, [data], tmp_path / "sft_cut", half.model_copy(update={"max_steps": 2}))
    # the second run continues the first's schedule (horizon max_steps=4) from its step-2 checkpoint
    (tmp_path / "sft_cut" / "checkpoints" / "step_00000002").rename(tmp_path / "sft_keep")
    train_sft(base_ckpt, [data], tmp_path / "sft_res", half, resume=str(tmp_path / "sft_keep"))
    _same_weights(tmp_path / "sft_full", tmp_path / "sft_res")

    prefs = write_jsonl(tmp_path / "p.jsonl", [{"chosen": f"\n\nHuman: q {i}\n\nAssistant: yes good",
                                                 "rejected": f"\n\nHuman: q {i}\n\nAssistant: no"} for i in range(20)])
    rm = RMSettings(max_steps=4, batch_prompts=4, heldout_fraction=0.2, **common)
    train_rm(tmp_path / "sft_full", [prefs], tmp_path / "rm_full", rm)
    train_rm(tmp_path / "sft_full", [prefs], tmp_path / "rm_cut", rm.model_copy(update={"ckpt_every": 2}))
    shutil.rmtree(tmp_path / "rm_cut" / "checkpoints" / "step_00000004")  # as if killed after step 2
    train_rm(tmp_path / "sft_full", [prefs], tmp_path / "rm_cut", rm, resume="auto")
    _same_weights(tmp_path / "rm_full", tmp_path / "rm_cut")

    prompts = write_jsonl(tmp_path / "pr.jsonl", [f"tell me about fire {i}" for i in range(12)])
    ppo = PPOSettings(iterations=2, rollout_batch=4, minibatch=2, ppo_epochs=2, max_new_tokens=6, eval_prompts=0,
                      **common)
    train_ppo(tmp_path / "sft_full", tmp_path / "rm_full", [prompts], tmp_path / "ppo_full", ppo)
    train_ppo(tmp_path / "sft_full", tmp_path / "rm_full", [prompts], tmp_path / "ppo_cut",
              ppo.model_copy(update={"iterations": 1}))
    train_ppo(tmp_path / "sft_full", tmp_path / "rm_full", [prompts], tmp_path / "ppo_cut", ppo, resume="auto")
    _same_weights(tmp_path / "ppo_full", tmp_path / "ppo_cut")


def test_ppo_ptx_mixes_pretraining_loss_and_judges_with_two_reward_models(base_ckpt, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    base_meta = ckpt.read_config(ckpt.resolve(base_ckpt))
    tok_file = str(ckpt.resolve(base_ckpt) / ckpt.TOKENIZER_FILE)
    (tmp_path / "text").mkdir()
    texts = corpus(50)
    pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}),
                   tmp_path / "text" / "part-0.parquet")
    mixture = tmp_path / "mix.yaml"
    mixture.write_text(json.dumps({"seed": 1, "token_budget": 100000, "tokenizer": tok_file,
                                   "sources": [{"name": "text", "path": str(tmp_path / "text"), "weight": 1.0}]}))
    assert base_meta["tokenizer_hash"]
    common = {"device": "cpu", "progress": "log", "log_every": 50}
    prefs = write_jsonl(tmp_path / "p.jsonl", [{"chosen": f"\n\nHuman: q {i}\n\nAssistant: yes good",
                                                 "rejected": f"\n\nHuman: q {i}\n\nAssistant: no"} for i in range(16)])
    for half in ("a", "b"):
        train_rm(base_ckpt, [prefs], tmp_path / f"rm_{half}", RMSettings(max_steps=1, half=half, **common))
    prompts = write_jsonl(tmp_path / "pr.jsonl", [f"tell me about fire {i}" for i in range(12)])
    settings = PPOSettings(iterations=1, rollout_batch=4, minibatch=4, ppo_epochs=1, max_new_tokens=4, eval_prompts=4,
                           ptx_mixture=str(mixture), ptx_batch=2, ptx_block=32, **common)
    result = train_ppo(base_ckpt, tmp_path / "rm_a", [prompts], tmp_path / "ppo", settings, judge_ckpt=tmp_path / "rm_b")
    record = result["history"][0]
    assert record["ptx_loss"] > 0 and record["grad_norm_ptx"] > 0 and record["grad_norm_ppo"] > 0
    assert set(result["win_rate"]) >= {"reward", "judge", "kl_k1", "kl_k3"}
    assert len((tmp_path / "ppo" / "samples.jsonl").read_text().splitlines()) == 4


def test_cli_trains_and_stops_on_a_wrong_shape_file_with_one_line(base_ckpt, tmp_path, capsys):
    from training.cli import main

    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "tell me", "output": "yes"}] * 4)
    assert main(["sft", "--checkpoint", base_ckpt, "--data", data, "--out", str(tmp_path / "sft"),
                 "max_steps=1", "device=cpu", "progress=log"]) == 0
    assert ckpt.complete_checkpoints(tmp_path / "sft")
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "x"}])
    capsys.readouterr()
    assert main(["rm", "--checkpoint", str(tmp_path / "sft"), "--pairs", bad, "--out", str(tmp_path / "rm")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "record 1 is not a preference record" in err[0]
    assert main(["ppo", "--policy", "x", "--reward", "y", "--prompts", data, "--out", str(tmp_path / "p"),
                 "kl_coef=-1"]) == 2
