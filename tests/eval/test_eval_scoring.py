"""The scorer on a model trained in a fixture: planted multiple choice, shared-context rows equal
separate rows, bits per byte by hand, the metrics' definitions."""
import json
import math

import numpy as np
import pytest
import torch

from pipeline.evaltasks.spec import load_task, read_items
from training.eval import metrics as M
from training.eval.perplexity import document_nats, windows
from training.eval.runner import evaluate, load_scoring_model
from training.eval.scoring import Request, score_requests


def write_planted_task(folder, sentences):
    """Context: a planted sentence's first four words. Options: its true rest (the text the model was
    trained on, verbatim) and the rests of two other sentences, of other lengths."""
    rows = []
    for i, words in enumerate(sentences):
        others = [sentences[(i + 3) % len(sentences)], sentences[(i + 7) % len(sentences)]]
        options = [" ".join(words[4:])] + [" ".join(o[4:]) for o in others]
        gold = i % 3
        options[0], options[gold] = options[gold], options[0]
        rows.append({"ctx": " ".join(words[:4]), "options": options, "label": gold})
    (folder / "planted.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = folder / "planted.yaml"
    task.write_text(f"kind: multiple_choice\ndata: {{file: {folder / 'planted.jsonl'}, reader: jsonl}}\n"
                    "context: '{ctx}'\nchoices: {each: options, template: ' {choice}'}\ngold: label\n"
                    "fewshot: {source: same}\nmetrics: [acc, acc_norm, acc_per_token]\n")
    return task


def test_planted_multiple_choice_is_solved(planted_run, tmp_path):
    task = write_planted_task(tmp_path, planted_run["sentences"])
    doc = evaluate(planted_run["run"], [str(task)], [0, 2], out=tmp_path / "out")
    acc = {(r["shots"], r["metric"]): r for r in doc["results"]}
    assert acc[(0, "acc")]["value"] == 1.0 and acc[(2, "acc")]["value"] == 1.0
    assert acc[(0, "acc")]["interval_includes_chance"] is False
    assert acc[(0, "acc")]["chance"] == pytest.approx(1 / 3)
    golds = [i % 3 for i in range(len(planted_run["sentences"]))]
    assert acc[(0, "acc")]["majority"] == max(golds.count(g) for g in range(3)) / len(golds)
    records = [json.loads(l) for l in (tmp_path / "out" / "items" / "planted.0shot.jsonl").read_text().splitlines()]
    assert len(records) == len(planted_run["sentences"])
    for r in records:       # acc_norm divides by characters, acc_per_token by tokens
        assert r["predicted"]["acc_norm"] == int(np.argmax(np.array(r["logprobs"]) / np.array(r["chars"])))
        assert r["predicted"]["acc_per_token"] == int(np.argmax(np.array(r["logprobs"]) / np.array(r["tokens"])))
    assert any(len(set(r["chars"])) > 1 for r in records)


def test_acc_norm_differs_from_acc_where_lengths_differ():
    # a long option with a lower total but a higher per-character log-likelihood
    picks = M.predictions([-12.0, -5.0], chars=[60, 5], tokens=[15, 1])
    assert picks == {"acc": 1, "acc_norm": 0, "acc_per_token": 0}
    assert M.predictions([-12.0, -5.0], [5, 5], [1, 1])["acc_norm"] == 1    # equal lengths: same as acc
    assert M.predictions([-3.0, -5.0], [5, 5], [1, 1], uncond=[-1.0, -4.5])["acc_uncond"] == 1


def test_shared_context_rows_equal_separate_rows(planted_run):
    sm = load_scoring_model(planted_run["run"])
    rng = np.random.default_rng(0)
    requests = []
    for n in range(12):
        context = tuple(int(t) for t in rng.integers(1, 300, size=int(rng.integers(1, 40))))
        for m in range(int(rng.integers(1, 5))):
            requests.append(Request(context, tuple(int(t) for t in rng.integers(1, 300, size=int(rng.integers(1, 9))))))
    shared = score_requests(sm.model, requests, max_batch_tokens=256)
    separate = score_requests(sm.model, requests, share_context=False)
    for a, b in zip(shared, separate):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
        assert (a.n_tokens, a.greedy) == (b.n_tokens, b.greedy)
    # by hand for one request: sum of log-softmax at the continuation positions
    req = requests[0]
    ids = torch.tensor([req.context + req.continuation])
    with torch.no_grad():
        logp = torch.log_softmax(sm.model(ids)[0][0, :, : sm.model.config.vocab_size].double(), -1)
    start = len(req.context)
    by_hand = sum(logp[start - 1 + j, t].item() for j, t in enumerate(req.continuation))
    assert shared[0].logprob == pytest.approx(by_hand, abs=1e-4)


def test_overlong_context_is_cut_from_the_left_and_counted(planted_run):
    sm = load_scoring_model(planted_run["run"])
    block = sm.model.config.block_size
    long_ctx = tuple([5] * (block + 50))
    scores = score_requests(sm.model, [Request(long_ctx, (6, 7)), Request(long_ctx[-10:], (6, 7))])
    assert scores[0].truncated and not scores[1].truncated
    cut = score_requests(sm.model, [Request(long_ctx[-(block - 1):], (6, 7))])[0]
    assert scores[0].logprob == pytest.approx(cut.logprob, abs=1e-5)


def test_windows_score_every_token_once_with_enough_context():
    ids = list(range(1000))
    reqs = windows(ids, block_size=64, stride=16)
    scored = [t for r in reqs for t in r.continuation]
    assert scored == ids[1:]
    for r in reqs:
        assert len(r.context) + len(r.continuation) - 1 <= 64
        assert r is reqs[0] or len(r.context) >= 64 - 16


def test_bits_per_byte_equals_the_hand_computation(planted_run):
    sm = load_scoring_model(planted_run["run"])
    texts = ["apple river stone cloud tiger. Café ünïcode — bytes!", "meadow rocket pillow garden"]
    docs, stride = document_nats(sm.model, sm.tokenizer, texts, sm.eot_id)
    assert stride == sm.model.config.block_size // 2
    total_nats = 0.0
    for text, doc in zip(texts, docs):
        ids = [sm.eot_id] + sm.tokenizer.encode(text, add_special_tokens=False).ids
        with torch.no_grad():
            logits = sm.model(torch.tensor([ids]))[0][0, :, : sm.model.config.vocab_size].double()
        nats = -torch.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum().item()
        assert doc["nats"] == pytest.approx(nats, abs=1e-4)
        assert doc["bytes"] == len(text.encode("utf-8")) and doc["tokens"] == len(ids) - 1
        total_nats += nats
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert M.bits_per_byte(np.array([d["nats"] for d in docs]), np.array([d["bytes"] for d in docs])) == \
        pytest.approx(total_nats / (math.log(2) * n_bytes), rel=1e-6)


def test_perplexity_task_reports_bits_per_byte_and_stride(planted_run, tmp_path):
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in
                                                 ["apple river stone " * 60, "tiger violin harbor " * 5]))
    task = tmp_path / "bpb.yaml"
    task.write_text(f"kind: perplexity\ndata: {{file: {tmp_path / 'docs.jsonl'}, reader: jsonl}}\ntext: '{{text}}'\n"
                    "stride: 32\n")
    doc = evaluate(planted_run["run"], [str(task)], [0, 1])
    bpb = [r for r in doc["results"] if r["metric"] == "bits_per_byte"]
    assert len(bpb) == 1 and bpb[0]["stride"] == 32 and bpb[0]["shots"] == 0
    assert bpb[0]["bytes"] == sum(len(t.encode()) for t in ["apple river stone " * 60, "tiger violin harbor " * 5])
    assert 0 < bpb[0]["value"] < 8 and bpb[0]["interval"][0] <= bpb[0]["value"] <= bpb[0]["interval"][1]
