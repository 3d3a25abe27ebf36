"""Processes killed or stopped from outside: a SIGKILL mid-checkpoint leaves the previous one
loadable; SIGTERM saves a checkpoint at the current step and exits cleanly."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from trainer_doubles import run_fake

from training import checkpoint as ckpt
from training.train import find_resume

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FAST = ["eval_every=0", "eval_batches=1", "log_every=1", "warmup_steps=2", "batch_size=4", "progress=log"]


def start(out_dir, args):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(HERE / "trainer_doubles.py"), str(out_dir), *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("timed out")


def test_sigkill_while_writing_a_checkpoint_leaves_the_previous_one(tmp_path):
    proc = start(tmp_path, ["--pause-checkpoint", "4:60", *FAST, "max_steps=6", "ckpt_every=2"])
    root = tmp_path / "checkpoints"
    wait_for(lambda: any((p / ckpt.MODEL_FILE).exists() for p in root.glob(".step_00000004.tmp-*")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    previous = ckpt.step_dir(tmp_path, 2)
    assert ckpt.complete_checkpoints(tmp_path) == [previous]
    assert ckpt.load_train_state(previous)["step"] == 2
    assert "transformer.wte.weight" in ckpt.load_model_state(previous)
    said = []
    assert find_resume(tmp_path, "auto", said.append) == previous
    assert len(said) == 1 and said[0].startswith("resume: skipping incomplete checkpoint") and ".tmp-" in said[0]
    result = run_fake(tmp_path, FAST + ["max_steps=6", "ckpt_every=2"], resume="auto")
    assert sorted(result["losses"]) == [3, 4, 5, 6]
    assert not list(root.glob(".*tmp-*"))    # the debris of the killed write is gone


def test_sigterm_checkpoints_the_current_step_and_exits_cleanly(tmp_path):
    proc = start(tmp_path, FAST + ["max_steps=100000", "ckpt_every=0"])
    metrics = tmp_path / "metrics.jsonl"
    wait_for(lambda: metrics.exists() and metrics.read_text().count('"train"') >= 3, proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopping at step" in out and "SIGTERM" in out
    stopped = int(out.split("stopping at step ")[1].split(":")[0])
    assert ckpt.resolve(tmp_path) == ckpt.step_dir(tmp_path, stopped)
    state = torch.load(ckpt.step_dir(tmp_path, stopped) / ckpt.STATE_FILE, weights_only=True)
    assert state["step"] == stopped and state["data"] == [{"batches": stopped}]
