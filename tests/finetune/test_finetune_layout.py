"""GPT-1's input transformations: the token layout of each kind (synthetic and on real rows),
truncation, similarity's symmetry and multiple choice's softmax over one item's options."""
from __future__ import annotations

import pytest
import torch

from pipeline.tokens import bpe
from training.finetune.config import load_finetune_config
from training.finetune.head import TaskModel
from training.finetune.tasks import Item, load_task_data
from training.finetune.transform import (SPECIAL_TOKENS, Specials, encode_items, fit, item_rows,
                                         make_batch)
from training.sample import load_model, load_tokenizer
from training.special_tokens import add_special_tokens, extend_model_vocab

S, D, E = 1001, 1002, 1003
SP = Specials(S, D, E)
CONF = "conf/finetune"


def test_layout_per_kind_synthetic():
    a, b, c = [1, 2, 3], [4, 5], [6]
    assert item_rows("classification", {"text": a}, SP, 64) == ([[S, 1, 2, 3, E]], False)
    assert item_rows("entailment", {"premise": a, "hypothesis": b}, SP, 64) == ([[S, 1, 2, 3, D, 4, 5, E]], False)
    assert item_rows("similarity", {"a": a, "b": b}, SP, 64) == (
        [[S, 1, 2, 3, D, 4, 5, E], [S, 4, 5, D, 1, 2, 3, E]], False)
    assert item_rows("multiple_choice", {"context": a, "options": [b, c]}, SP, 64) == (
        [[S, 1, 2, 3, D, 4, 5, E], [S, 1, 2, 3, D, 6, E]], False)


def test_truncation_cuts_the_longest_segment_from_its_start_and_keeps_special_tokens():
    premise, hypothesis = list(range(100, 120)), [7, 8, 9]
    rows, cut = item_rows("entailment", {"premise": premise, "hypothesis": hypothesis}, SP, 16)
    assert cut and len(rows[0]) == 16
    assert rows[0] == [S, *range(110, 120), D, 7, 8, 9, E]  # the premise's end survives
    # two long segments shrink together, never below each other
    (x, y), cut = fit([list(range(10)), list(range(20, 28))], 10)
    assert cut and (len(x), len(y)) == (5, 5) and x == [5, 6, 7, 8, 9] and y == [23, 24, 25, 26, 27]


@pytest.fixture(scope="module")
def tok(pretrained):
    tokenizer = load_tokenizer(pretrained)
    ids = add_special_tokens(tokenizer, SPECIAL_TOKENS)
    return tokenizer, Specials(*(ids[t] for t in SPECIAL_TOKENS))


def segments_of(row: list[int], sp: Specials) -> list[list[int]]:
    assert row[0] == sp.start and row[-1] == sp.extract
    body, out, cur = row[1:-1], [], []
    for t in body:
        if t == sp.delim:
            out.append(cur)
            cur = []
        else:
            assert t not in (sp.start, sp.extract)
            cur.append(t)
    return out + [cur]


@pytest.mark.parametrize("name, roles", [
    ("sst2", [("text",)]), ("cola", [("text",)]), ("rte", [("premise", "hypothesis")]),
    ("snli", [("premise", "hypothesis")]), ("mnli", [("premise", "hypothesis")]),
    ("mrpc", [("a", "b"), ("b", "a")]), ("stsb", [("a", "b"), ("b", "a")]),
    ("storycloze", "options"), ("openbookqa", "options")])
def test_layout_on_real_rows(realdata, tok, name, roles):
    tokenizer, sp = tok
    task, settings = load_finetune_config(f"{CONF}/{name}.yaml", [f"task.data.root={realdata}"])
    items = load_task_data(task, settings).dev[:20]
    enc = encode_items(task, items, tokenizer, sp, max_len=4096)
    assert enc.truncated == 0
    encode = lambda text: bpe.encode_batch(tokenizer, [text])[0]
    for item, rows in zip(items, enc.rows):
        if roles == "options":
            expect = [[encode(item.texts["context"]), encode(o)] for o in item.texts["options"]]
        else:
            expect = [[encode(item.texts[r]) for r in order] for order in roles]
        assert [segments_of(r, sp) for r in rows] == expect
        assert len(rows) == len(expect)


def test_real_rows_longer_than_the_model_are_truncated_and_counted(realdata, tok):
    tokenizer, sp = tok
    task, settings = load_finetune_config(f"{CONF}/rte.yaml", [f"task.data.root={realdata}"])
    items = load_task_data(task, settings).dev
    enc = encode_items(task, items, tokenizer, sp, max_len=256)  # this tokenizer is near byte level
    assert 0 < enc.truncated < len(items)
    assert max(enc.lengths) == 256
    assert all(r[0] == sp.start and r[-1] == sp.extract and r.count(sp.delim) == 1 for rows in enc.rows for r in rows)


@pytest.fixture(scope="module")
def tiny_model(pretrained, tok):
    tokenizer, sp = tok
    gpt, _, _ = load_model(pretrained)
    extend_model_vocab(gpt, tokenizer)
    return gpt, tokenizer, sp


def task_of(pretrained, kind: str, **extra):
    from training.finetune.config import TaskSpec
    fields = {"similarity": {"a": "x", "b": "y", "label": "l"},
              "multiple_choice": {"context": "c", "options": ["o1", "o2", "o3"], "label": "l"}}[kind]
    return TaskSpec.model_validate({"name": "t", "kind": kind, "data": {"format": "tsv", "single": "x"},
                                    "fields": fields, "labels": ["0", "1", "2"][:3 if kind == "multiple_choice" else 2],
                                    **extra})


def test_similarity_is_symmetric_by_construction(pretrained, tiny_model):
    gpt, tokenizer, sp = tiny_model
    task = task_of(pretrained, "similarity")
    model = TaskModel(gpt, task, head_dropout=0.1, generator=torch.Generator().manual_seed(0)).eval()
    ab = Item("k", {"a": "the cat sat on the mat", "b": "a dog ran"}, 1)
    ba = Item("k", {"a": "a dog ran", "b": "the cat sat on the mat"}, 1)
    enc = encode_items(task, [ab, ba], tokenizer, sp, max_len=8)  # truncated alike in both orders
    assert enc.rows[0] == enc.rows[1][::-1] and enc.truncated == 2
    scores, _ = model(make_batch(enc, [0, 1], sp.extract, regression=False), with_lm=False)
    assert torch.equal(scores[0], scores[1])


def test_multiple_choice_softmax_runs_over_one_items_options(pretrained, tiny_model):
    gpt, tokenizer, sp = tiny_model
    task = task_of(pretrained, "multiple_choice")
    model = TaskModel(gpt, task, head_dropout=0.0).eval()
    items = [Item("1", {"context": "the cat", "options": ["sat", "ran far away", "flew"]}, 2),
             Item("2", {"context": "a dog was", "options": ["happy", "sad", "very bad"]}, 0)]
    enc = encode_items(task, items, tokenizer, sp, max_len=64)
    batch = make_batch(enc, [0, 1], sp.extract, regression=False)
    scores, _ = model(batch, with_lm=False)
    assert scores.shape == (2, 3)
    # each score is its own row's: the rows scored one at a time give the same numbers
    alone = torch.stack([model(make_batch(enc, [i], sp.extract, False), with_lm=False)[0][0] for i in (0, 1)])
    assert torch.allclose(scores, alone, atol=1e-5)
    loss = model.task_loss(scores, batch.labels)
    expect = -(torch.log_softmax(alone, dim=1)[0, 2] + torch.log_softmax(alone, dim=1)[1, 0]) / 2
    assert torch.allclose(loss, expect, atol=1e-5)
    # changing item 2's options leaves item 1's probabilities untouched
    items[1].texts["options"] = ["the the the", "on", "mat"]
    enc2 = encode_items(task, items, tokenizer, sp, max_len=64)
    scores2, _ = model(make_batch(enc2, [0, 1], sp.extract, False), with_lm=False)
    assert torch.allclose(scores.softmax(1)[0], scores2.softmax(1)[0], atol=1e-6)


def test_glue_metrics():
    from training.finetune.metrics import compute
    pred, gold = [1, 1, 0, 0, 1], [1, 0, 0, 0, 1]
    out = compute(["accuracy", "f1", "matthews"], pred, gold)
    assert out["accuracy"] == 0.8 and out["f1"] == pytest.approx(0.8)
    assert out["matthews"] == pytest.approx((2 * 2 - 1 * 0) / (3 * 2 * 3 * 2) ** 0.5)
    corr = compute(["pearson", "spearman"], [1.0, 2.0, 3.0, 5.0], [2.0, 4.0, 6.0, 7.0])
    assert corr["spearman"] == pytest.approx(1.0) and 0.9 < corr["pearson"] < 1.0
    assert compute(["pearson"], [1.0, 1.0], [0.0, 2.0]) == {"pearson": 0.0}
    # a constant float guess whose std rounds to 1e-16 (STS-B's train mean over its 1,500 dev rows)
    constant = compute(["pearson", "spearman"], [2.7012345678] * 1500, [0.0, 5.0] * 750)
    assert constant == {"pearson": 0.0, "spearman": 0.0}
