"""Is the mixture stream ever the bottleneck? Tokens/s it delivers (0, 1, 2 DataLoader workers,
block size 1024) beside the tokens/s a GPT-2 124M training step consumes, here and on an H100.

    .venv/bin/python bench/loader.py [--tokens-per-source 4000000] [--batches 150] [--model-steps 2]

The data: three token folders written exactly as tokenize_corpus writes them (uint16 shards, 1M-token
row groups, manifest), holding synthetic token ids with GPT-2-like document lengths (log-normal,
median ~400 tokens): the loader's work does not depend on which ids they are. The mixture weights
are GPT-3's first three rows. "bare DataLoader hand-over": a dataset yielding one
constant batch, the ceiling PyTorch's worker-to-main transfer alone puts on any loader with workers
here. CPU: one fwd+bwd of training.model's GPT-2 124M in fp32 (batch 1 x 1024), timed here. H100: 989e12 dense bf16 FLOP/s x 0.45 MFU / (6 x 124e6 FLOP per token), i.e. the
6N rule without the attention term, an assumption, not a measurement.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.tokens import bpe  # noqa: E402
from pipeline.tokens.shards import TRAIN, ShardWriter, shard_name  # noqa: E402
from pipeline.tokens.tokenize_job import finish  # noqa: E402
from training.data import MixtureLoader, _as_is  # noqa: E402
from pipeline.tokens.mixture import load_mixture  # noqa: E402

BLOCK = 1024
H100_FLOPS, H100_MFU, PARAMS = 989e12, 0.45, 124e6


def make_source(folder: Path, tokenizer: str, n_tokens: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    writer = ShardWriter(str(folder / "_temporary" / "bench" / shard_name(TRAIN, 0)), np.uint16, 1 << 20)
    written, i = 0, 0
    while written < n_tokens:
        n = int(min(rng.lognormal(6.0, 1.0) + 1, 20000))
        writer.add(f"{folder.name}-{i}", rng.integers(1, 50257, n, dtype=np.uint16))
        written, i = written + n, i + 1
    stats = writer.close()
    entry = {"temp": f"_temporary/bench/{shard_name(TRAIN, 0)}", "file": shard_name(TRAIN, 0), "split": TRAIN,
             **stats, "dropped_empty": 0}
    finish(str(folder), [entry], source=folder.name, tokenizer_path=tokenizer, seed=seed, validation_fraction=0.0)


def loader_rate(mixture, workers: int, batch_size: int, batches: int) -> float:
    loader = MixtureLoader(mixture, BLOCK, batch_size, num_workers=workers)
    it = iter(loader)
    for _ in range(workers + 1):  # worker start-up and first row groups are not the steady state
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        x, y = next(it)
    seconds = time.perf_counter() - start
    del it
    return batches * batch_size * BLOCK / seconds


class _Constant(torch.utils.data.IterableDataset):
    """The same batch forever, handed over as MixtureLoader's are (a uint16 numpy array): what the
    DataLoader's worker -> main transfer alone costs."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size

    def __iter__(self):
        while True:
            yield np.zeros((self.batch_size, BLOCK + 1), dtype=np.uint16)


def handover_rate(workers: int, batch_size: int, batches: int) -> float:
    it = iter(torch.utils.data.DataLoader(_Constant(batch_size), batch_size=None, num_workers=workers,
                                          collate_fn=_as_is, prefetch_factor=4))
    for _ in range(workers + 1):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size * BLOCK / (time.perf_counter() - start)


def model_rate(steps: int) -> float:
    from training.model import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(0, 50257, (1, BLOCK))

    def step():
        _, loss = model(x, x)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # allocations, first-touch
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BLOCK / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens-per-source", type=int, default=4_000_000)
    parser.add_argument("--batches", type=int, default=150, help="batches timed per worker count")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model-steps", type=int, default=2, help="timed fwd+bwd steps (0: skip the CPU model)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tokenizer = bpe.save(bpe.train_bpe(["bench " * 10] * 10, vocab_size=260), str(root / "tok"))
        weights = {"commoncrawl": 0.60, "webtext2": 0.22, "books1": 0.08}
        for i, name in enumerate(weights):
            make_source(root / name, tokenizer, args.tokens_per_source, i)
        mix = {"seed": 1, "token_budget": "300B",
               "sources": [{"name": n, "path": str(root / n), "weight": w} for n, w in weights.items()]}
        (root / "mix.yaml").write_text(yaml.safe_dump(mix))
        mixture = load_mixture(str(root / "mix.yaml"))
        rates = {w: loader_rate(mixture, w, args.batch_size, args.batches) for w in (0, 1, 2)}
    ceilings = {w: handover_rate(w, args.batch_size, args.batches) for w in (1, 2)}
    cpu = model_rate(args.model_steps) if args.model_steps else None
    h100 = H100_FLOPS * H100_MFU / (6 * PARAMS)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; block {BLOCK}, "
          f"batch {args.batch_size}, {args.batches} batches per worker count")
    print(f"{'stream':<34}{'tokens/s':>14}{'x CPU step':>12}{'x H100 step':>13}")
    for w, rate in rates.items():
        vs_cpu = f"{rate / cpu:.1f}x" if cpu else "-"
        print(f"{f'MixtureLoader, {w} worker(s)':<34}{rate:>14,.0f}{vs_cpu:>12}{rate / h100:>12.2f}x")
    for w, rate in ceilings.items():
        print(f"{f'bare DataLoader hand-over, {w} w.':<34}{rate:>14,.0f}{'':>12}{rate / h100:>12.2f}x")
    if cpu:
        print(f"{'GPT-2 124M fwd+bwd, fp32, this CPU':<34}{cpu:>14,.0f}")
    print(f"{'GPT-2 124M on one H100 (assumed)':<34}{h100:>14,.0f}   = 989e12 x 0.45 / (6 x 124e6)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
