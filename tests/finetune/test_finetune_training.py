"""`train finetune` end to end on a planted task with a tiny model: it learns it, the auxiliary LM
loss enters the gradient exactly as λ·∇L_LM, a stopped run resumes exactly, bad rows and bad task
files are handled, and the fine-tuned checkpoint loads and exports like any other."""
from __future__ import annotations

import json

import pytest
import torch

from finetune_fixtures import write_planted_task
from training import checkpoint as ckpt
from training.cli import main
from training.finetune.config import load_finetune_config
from training.finetune.loop import BEST_DIR, RESULTS_FILE
from training.finetune.setup import prepare
from training.finetune.tasks import load_task_data
from training.finetune.transform import encode_items, make_batch
from training.metrics import read_records
from training.sample import load_model, load_tokenizer

FAST = ["progress=log", "log_every=5", "batch_size=16"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return write_planted_task(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def finetuned(pretrained, planted, tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ft") / "run"
    assert main(["finetune", "--checkpoint", str(pretrained), "--task", str(planted), "--out", str(out),
                 "lr=2e-3", "epochs=2", *FAST]) == 0
    return out


def test_a_tiny_model_learns_a_planted_separable_task(finetuned):
    result = json.loads((finetuned / RESULTS_FILE).read_text())
    assert result["dev"]["accuracy"] >= 0.95
    items = result["items"]
    assert items["train"] + items["select"] == 600 and 30 <= items["select"] <= 90 and items["dev"] == 200
    vals = [r for r in read_records(finetuned / "metrics.jsonl") if r["kind"] == "val"]
    assert len(vals) == 2 and result["best_step"] == max(vals, key=lambda r: r["select/accuracy"])["step"]


def test_the_finetuned_checkpoint_loads_and_exports_like_any_other(finetuned, pretrained, tmp_path):
    best = ckpt.resolve(finetuned / BEST_DIR)
    model, meta, _ = load_model(best)
    tokenizer = load_tokenizer(best)
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    assert model.config.vocab_size == size == load_model(pretrained)[0].config.vocab_size + 3
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<$>", "<e>")] == [size - 3, size - 2, size - 1]
    assert meta["tokenizer"]["added_tokens"] == ["<s>", "<$>", "<e>"]
    assert meta["tokenizer"]["base_sha256"] == meta["tokenizer_hash"] == ckpt.read_config(pretrained)["tokenizer_hash"]
    from training.export import export_hf
    hf = export_hf(best, tmp_path / "hf")
    assert json.loads((hf / "config.json").read_text())["vocab_size"] == size
    from training.eval.runner import load_scoring_model  # what `train eval` loads
    assert load_scoring_model(best).tokenizer.get_vocab_size(with_added_tokens=True) == size


def test_the_auxiliary_lm_loss_enters_the_gradient_as_lambda_times_its_own(pretrained, planted):
    task, settings = load_finetune_config(str(planted), ["head_dropout=0"])
    p = prepare(pretrained, task, settings, torch.device("cpu"))
    items = load_task_data(task, settings).train[:8]
    batch = make_batch(encode_items(task, items, p.tokenizer, p.specials, p.max_len), list(range(8)),
                       p.pad_id, regression=False)
    params = [p_ for p_ in p.model.parameters()]
    scores, lm_loss = p.model(batch)
    task_loss = p.model.task_loss(scores, batch.labels)
    grad = lambda loss: torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    flat = lambda gs: torch.cat([(g if g is not None else torch.zeros_like(q)).flatten() for g, q in zip(gs, params)])
    g_task, g_lm = flat(grad(task_loss)), flat(grad(lm_loss))
    assert torch.count_nonzero(flat(grad(0.0 * lm_loss))) == 0
    for lam in (0.0, 0.5):
        total = flat(grad(task_loss + lam * lm_loss))
        assert torch.allclose(total, g_task + lam * g_lm, atol=1e-6, rtol=0)
    # the LM head (tied to the embedding) gets a different gradient once λ > 0
    head = p.model.gpt.lm_head.weight
    assert not torch.allclose(grad(task_loss)[params.index(head)], grad(task_loss + 0.5 * lm_loss)[params.index(head)])


def test_a_stopped_run_resumes_exactly(pretrained, tmp_path):
    task = write_planted_task(tmp_path / "task", n_train=180, n_dev=40)
    common = ["--checkpoint", str(pretrained), "--task", str(task), "lr=1e-3", "epochs=2", "ckpt_every=4",
              *FAST, "log_every=1"]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert main(["finetune", *common, "--out", str(straight)]) == 0
    assert main(["finetune", *common, "--out", str(resumed), "stop_after=13"]) == 0
    assert not (resumed / RESULTS_FILE).exists() and ckpt.resolve(resumed).name == "step_00000013"
    assert main(["finetune", *common, "--out", str(resumed), "--resume", "auto"]) == 0
    losses = lambda d: {r["step"]: r["loss"] for r in read_records(d / "metrics.jsonl") if r["kind"] == "train"}
    a, b = losses(straight), losses(resumed)
    assert sorted(a) == sorted(b) == list(range(1, 23))
    assert all(abs(a[s] - b[s]) <= 1e-6 for s in a)
    wa, wb = (ckpt.load_model_state(ckpt.resolve(d)) for d in (straight, resumed))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    ra, rb = (json.loads((d / RESULTS_FILE).read_text()) for d in (straight, resumed))
    assert ra["dev"] == rb["dev"] and ra["best_step"] == rb["best_step"]


def test_bad_rows_are_skipped_under_named_reasons(tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\nfine row\t1\n\t0\nno label\t\nodd label\t7\nshort\n"
                                        "another fine row\t0\n")
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\ndev row\t1\n")
    (tmp_path / "t.yaml").write_text(f"name: t\nkind: classification\ndata: {{format: tsv, root: {tmp_path}, "
                                     "train: train.tsv, dev: dev.tsv}\nfields: {text: sentence, label: label}\n"
                                     "labels: ['0', '1']\n")
    task, settings = load_finetune_config(str(tmp_path / "t.yaml"), ["select_fraction=0"])
    data = load_task_data(task, settings)
    assert dict(data.skipped) == {"missing_field": 3, "unknown_label": 1}
    assert [i.texts["text"] for i in data.train] == ["fine row", "another fine row"] and data.read == 7


def test_a_task_file_naming_an_absent_column_stops_before_training_with_one_line(pretrained, planted, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(planted.read_text().replace("text: sentence", "text: sentense"))
    assert main(["finetune", "--checkpoint", str(pretrained), "--task", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'sentense' does not exist" in err and "columns: sentence, label" in err
    assert not (tmp_path / "o").exists()
