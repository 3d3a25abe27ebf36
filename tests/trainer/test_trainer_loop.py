"""The loop on the fake stream: exact resume, overfitting, accumulation, schedule, bad checkpoints."""
import math

import pytest
import torch
from trainer_doubles import FakeMixture, FixedBatchLoader, run_fake

from training import checkpoint as ckpt
from training.train import lr_multiplier, make_optimizer
from training.config import load_run_config
from training.model import GPT

FAST = ["eval_every=0", "eval_batches=1", "log_every=1", "warmup_steps=2", "batch_size=4",
        "progress=log"]


def test_resume_is_exact(tmp_path):
    """2N steps straight == N steps, stop, --resume auto, N more: losses to 1e-6 (dropout on, so
    the RNG states must come back too)."""
    common = FAST + ["model.dropout=0.1", "schedule_steps=8", "ckpt_every=0"]
    straight = run_fake(tmp_path / "a", common + ["max_steps=8"])
    first = run_fake(tmp_path / "b", common + ["max_steps=4"])
    second = run_fake(tmp_path / "b", common + ["max_steps=8"], resume="auto")
    assert sorted(first["losses"]) == [1, 2, 3, 4] and sorted(second["losses"]) == [5, 6, 7, 8]
    resumed = {**first["losses"], **second["losses"]}
    for step, loss in straight["losses"].items():
        assert abs(loss - resumed[step]) <= 1e-6, (step, loss, resumed[step])
    a = ckpt.load_model_state(ckpt.resolve(tmp_path / "a"))
    b = ckpt.load_model_state(ckpt.resolve(tmp_path / "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_tiny_overfits_a_small_batch(tmp_path):
    result = run_fake(tmp_path, FAST + ["max_steps=150", "lr=3e-3", "warmup_steps=10", "ckpt_every=0",
                                        "log_every=10"], loader_cls=FixedBatchLoader)
    assert result["losses"][10] > 3.0
    assert result["losses"][150] < 0.05, result["losses"]


def test_grad_accumulation_equals_a_bigger_batch(tmp_path):
    big = run_fake(tmp_path / "big", FAST + ["max_steps=3", "batch_size=4", "ckpt_every=0"])
    acc = run_fake(tmp_path / "acc", FAST + ["max_steps=3", "batch_size=2", "tokens_per_step=256",
                                              "ckpt_every=0"])
    for step in (1, 2, 3):
        assert abs(big["losses"][step] - acc["losses"][step]) < 1e-5


def test_outputs_and_keep_last(tmp_path):
    run_fake(tmp_path, FAST + ["max_steps=6", "ckpt_every=1", "keep_last=2", "eval_every=3"])
    assert [p.name for p in ckpt.complete_checkpoints(tmp_path)] == ["step_00000005", "step_00000006"]
    assert (tmp_path / "loss_curve.png").stat().st_size > 1000
    from training.metrics import read_records
    records = read_records(tmp_path / "metrics.jsonl")
    assert sum(r["kind"] == "train" for r in records) == 6
    val = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in val] == [3, 6] and {"loss/web", "loss/books"} <= set(val[0])
    assert all(r["mfu"] is None for r in records if r["kind"] == "train")  # CPU: no MFU
    assert list((tmp_path / "tensorboard").iterdir())
    state = torch.load(ckpt.resolve(tmp_path) / ckpt.STATE_FILE, weights_only=True)
    assert state["step"] == 6 and state["data"] == [{"batches": 6}]
    assert set(state["rng"][0]) >= {"torch", "python", "numpy"}


def test_checkpoint_of_another_shape_or_tokenizer_fails_in_one_line(tmp_path):
    run_fake(tmp_path, FAST + ["max_steps=1"])
    with pytest.raises(ckpt.CheckpointError, match="another model shape: n_layer=2 .*this run: 3"):
        run_fake(tmp_path, FAST + ["max_steps=2", "model.n_layer=3"], resume="auto")
    other = FakeMixture(tokenizer_hash="another")
    with pytest.raises(ckpt.CheckpointError, match="tokenizer fake-tokenizer.*uses tokenizer another"):
        run_fake(tmp_path, FAST + ["max_steps=2"], resume="auto", mixture=other)


def test_corrupt_checkpoint_fails_in_one_line(tmp_path):
    run_fake(tmp_path, FAST + ["max_steps=1"])
    path = ckpt.resolve(tmp_path)
    for name in (ckpt.STATE_FILE, ckpt.MODEL_FILE):  # same size, so the marker still matches
        data = bytearray((path / name).read_bytes())
        data[:64] = b"\x00" * 64
        (path / name).write_bytes(bytes(data))
    with pytest.raises(ckpt.CheckpointError, match="corrupt") as err:
        run_fake(tmp_path, FAST + ["max_steps=2"], resume="auto")
    assert "\n" not in str(err.value)
    with pytest.raises(ckpt.CheckpointError, match="train_state.pt is corrupt"):
        ckpt.load_train_state(path)


def test_resume_auto_skips_an_incomplete_checkpoint(tmp_path, capsys):
    run_fake(tmp_path, FAST + ["max_steps=2", "ckpt_every=1"])
    newest = ckpt.resolve(tmp_path)
    (newest / ckpt.MARKER).unlink()           # as if the marker was never written
    result = run_fake(tmp_path, FAST + ["max_steps=3"], resume="auto")
    out = capsys.readouterr().out
    assert f"skipping incomplete checkpoint {newest}" in out
    assert "from " in out and "step_00000001 at step 1" in out
    assert sorted(result["losses"]) == [2, 3]


def test_lr_schedule_warmup_then_cosine_to_ten_percent():
    m = [lr_multiplier(s, warmup=10, horizon=110, min_ratio=0.1) for s in range(0, 130)]
    assert m[0] == pytest.approx(0.1) and m[9] == pytest.approx(1.0)
    assert m[60] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert m[110] == pytest.approx(0.1) and m[129] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(m[10:], m[11:]))


def test_no_weight_decay_on_biases_norms_and_embeddings():
    cfg = load_run_config("tiny", vocab_size=100)
    model = GPT(cfg.model)
    decay, no_decay = make_optimizer(model, cfg.train).param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    ids = {id(p) for p in decay["params"]}
    assert id(model.transformer.wte.weight) not in ids and id(model.transformer.wpe.weight) not in ids
    assert all(p.dim() == 2 for p in decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    cfg = load_run_config("tiny", ["decay_embeddings=true"], vocab_size=100)
    decay, _ = make_optimizer(model, cfg.train).param_groups
    assert id(model.transformer.wte.weight) in {id(p) for p in decay["params"]}


def test_a_run_folder_with_checkpoints_needs_resume(tmp_path):
    run_fake(tmp_path, FAST + ["max_steps=1"])
    with pytest.raises(ckpt.CheckpointError, match="already holds checkpoints: continue with --resume auto"):
        run_fake(tmp_path, FAST + ["max_steps=2"])


def test_threads_setting_sets_torch_intra_op_threads(tmp_path):
    """train.threads reaches torch (the suite's fixture runs these tests on one thread and restores
    the count afterwards); 0 leaves torch's count alone."""
    run_fake(tmp_path / "two", FAST + ["max_steps=1", "threads=2"])
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    run_fake(tmp_path / "default", FAST + ["max_steps=1"])
    assert torch.get_num_threads() == 1
