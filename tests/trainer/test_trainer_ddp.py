"""DDP: two gloo processes on CPU give the losses of one process with the same global batch."""
import json
import socket

import torch.multiprocessing as mp
from trainer_doubles import ddp_worker, run_fake

from training import checkpoint as ckpt

COMMON = ["eval_every=0", "eval_batches=1", "log_every=1", "warmup_steps=2", "max_steps=4",
          "ckpt_every=2", "progress=log"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_matches_one_process(tmp_path):
    single = run_fake(tmp_path / "one", COMMON + ["batch_size=4"])
    result_file = tmp_path / "ddp_losses.json"
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path / "two"), COMMON + ["batch_size=2"],
                                         str(result_file)), nprocs=2, join=True, start_method="spawn")
    ddp = {int(k): v for k, v in json.loads(result_file.read_text()).items()}
    assert sorted(ddp) == [1, 2, 3, 4]
    for step, loss in single["losses"].items():
        assert abs(loss - ddp[step]) < 1e-5, (step, loss, ddp[step])
    state = ckpt.load_train_state(ckpt.resolve(tmp_path / "two"))
    assert state["world_size"] == 2 and state["data"] == [{"batches": 4}, {"batches": 4}]
    a = ckpt.load_model_state(ckpt.resolve(tmp_path / "one"))
    b = ckpt.load_model_state(ckpt.resolve(tmp_path / "two"))
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
