"""Test doubles with the data interface of pipeline.tokens.mixture / training.data, so the loop is tested
without token shards: rows come from a generator seeded by (seed, row number), and the stream's
state is the number of batches it has handed out."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class FakeSource:
    name: str
    path: str = ""
    weight: float = 1.0


@dataclass
class FakeMixture:
    sources: list = field(default_factory=lambda: [FakeSource("web", weight=0.6), FakeSource("books", weight=0.4)])
    token_budget: int = 0
    seed: int = 7
    tokenizer: str | None = None
    tokenizer_hash: str = "fake-tokenizer"
    vocab_size: int = 100
    eot_id: int = 0


def fake_row(seed: int, index: int, length: int, vocab: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + index)
    return torch.randint(0, vocab, (length + 1,), generator=g)


class FakeLoader:
    """Global batch k is rows [k*B*W, (k+1)*B*W); rank r takes its r-th slice of B rows, so one
    process with batch B*W sees exactly what W processes with batch B see together."""

    def __init__(self, mixture, block_size, batch_size, split="train", rank=0, world_size=1, num_workers=0):
        self.m, self.T, self.B, self.rank, self.world = mixture, block_size, batch_size, rank, world_size
        self.batches = 0

    def __iter__(self):
        while True:
            first = self.batches * self.B * self.world + self.rank * self.B
            rows = torch.stack([fake_row(self.m.seed, first + j, self.T, self.m.vocab_size) for j in range(self.B)])
            self.batches += 1
            yield rows[:, :-1].contiguous(), rows[:, 1:].contiguous()

    def state_dict(self):
        return {"batches": self.batches}

    def load_state_dict(self, state):
        self.batches = state["batches"]


class FixedBatchLoader(FakeLoader):
    """The same batch for ever: for the overfitting test."""

    def __iter__(self):
        rows = torch.stack([fake_row(self.m.seed, j, self.T, self.m.vocab_size) for j in range(self.B)])
        while True:
            self.batches += 1
            yield rows[:, :-1].contiguous(), rows[:, 1:].contiguous()


def fake_validation(mixture, block_size, batch_size, source, max_batches):
    offset = 10_000_000 + 1_000_000 * [s.name for s in mixture.sources].index(source)
    for k in range(max_batches):
        rows = torch.stack([fake_row(mixture.seed, offset + k * batch_size + j, block_size, mixture.vocab_size)
                            for j in range(batch_size)])
        yield rows[:, :-1], rows[:, 1:]


def run_fake(out_dir, overrides=(), resume=None, mixture=None, loader_cls=FakeLoader):
    """train() on the fake stream with the tiny preset."""
    from training.config import load_run_config
    from training.train import train

    mixture = mixture or FakeMixture()
    cfg = load_run_config("tiny", list(overrides), vocab_size=mixture.vocab_size)
    return train(cfg, mixture, out_dir, resume=resume, loader_cls=loader_cls, val_fn=fake_validation)


def ddp_worker(rank, world_size, port, out_dir, overrides, result_file):
    """One process of a gloo DDP run (torchrun's environment, set by hand)."""
    import json
    import os

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    result = run_fake(out_dir, overrides)
    if rank == 0:
        with open(result_file, "w") as fh:
            json.dump({str(k): v for k, v in result["losses"].items()}, fh)
    torch.distributed.destroy_process_group()


def pause_checkpoint_write(step: int, seconds: float) -> None:
    """Sleep inside the write of `step`'s checkpoint, after its weights and before the rest (the
    training state is the next file written), so a test can SIGKILL the writer at the worst moment."""
    import time
    from pathlib import Path

    from training.checkpoint import step_dir

    save, writing = torch.save, f".{step_dir(Path('.'), step).name}.tmp-"

    def slow_save(obj, path, *args, **kwargs):
        if Path(path).parent.name.startswith(writing):
            time.sleep(seconds)
        return save(obj, path, *args, **kwargs)

    torch.save = slow_save  # this process is a test double: nothing else here calls torch.save


def take_option(args: list[str], name: str) -> str | None:
    if name not in args:
        return None
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


if __name__ == "__main__":
    # python trainer_doubles.py OUT_DIR [--resume auto] [--pause-checkpoint STEP:SECONDS] [key=value ...]:
    # a training process for the signal tests.
    import sys

    args = sys.argv[1:]
    resume = take_option(args, "--resume")
    pause = take_option(args, "--pause-checkpoint")
    if pause:
        pause_checkpoint_write(int(pause.split(":")[0]), float(pause.split(":")[1]))
    torch.set_num_threads(1)
    run_fake(args[0], args[1:], resume=resume)
