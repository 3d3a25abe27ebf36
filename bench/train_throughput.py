"""Training throughput, honestly reported: tokens/s, the model's FLOP/s against what a plain matmul of
the same hidden size reaches in the same run (the machine's practical limit), MFU against the
device's peak where it is known, and the data stream's share of the step time.

    PYTHONPATH=. python bench/train_throughput.py                 # CPU: tiny and a ~30M GPT-2 shape
    PYTHONPATH=. python bench/train_throughput.py --device cuda   # GPU: gpt2-124m in bf16 (compiled)

Needs only torch (and numpy) from the environment: on a machine where the data side (pyarrow, the
tokenizer) cannot be imported, batches come from a synthetic stream and the report says so. The timed
step is the trainer's: forward under autocast, loss / accumulation, backward, clip at 1.0, AdamW
(fused), zero_grad; the wall time of each step ends with a device sync.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from training.metrics import mfu, peak_flops  # noqa: E402  (torch-only imports)
from training.model import GPT, GPTConfig  # noqa: E402

GPT2_VOCAB = 50257
SHAPES = {  # name: (model shape, batch_size, timed steps) for each device type
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, block_size=64),
    "gpt2-30m": dict(n_layer=6, n_head=6, n_embd=384, block_size=256),  # 30M with GPT-2's vocabulary
    "gpt2-124m": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024),
    "gpt3-125m": dict(n_layer=12, n_head=12, n_embd=768, block_size=2048, attn_pattern=["dense", "banded"],
                      band_width=256),
}
DEFAULTS = {"cpu": (["tiny", "gpt2-30m"], {"tiny": 16, "gpt2-30m": 4}, 4),
            "cuda": (["gpt2-124m", "gpt3-125m"], {"gpt2-124m": 16, "gpt3-125m": 8}, 30)}


def synthetic_corpus(folder: Path, vocab: int) -> Path:
    """Two token sources as Parquet (id, tokens) plus a tokenizer file, and the mixture YAML."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.tokens import bpe

    rng = np.random.default_rng(0)
    for name in ("web", "books"):
        docs = [rng.integers(0, vocab, rng.integers(200, 2000)).astype(np.uint16) for _ in range(1500)]
        (folder / name).mkdir(parents=True)
        table = pa.table({"id": [f"{name}-{i}" for i in range(len(docs))],
                          "tokens": pa.array(docs, type=pa.list_(pa.uint16()))})
        pq.write_table(table, folder / name / "part-0.parquet", row_group_size=100)
    tok = bpe.save(bpe.train_bpe(["a tokenizer only to satisfy the mixture"] * 10, vocab_size=300),
                   str(folder / "tok"))
    mix = folder / "mix.yaml"
    mix.write_text(f"seed: 1\ntoken_budget: 1B\ntokenizer: {tok}\nroot: {folder}\nsources:\n"
                   "  - {name: web, path: web, weight: 0.6}\n  - {name: books, path: books, weight: 0.4}\n")
    return mix


def make_stream(block_size: int, batch_size: int, vocab: int, device: torch.device, tmp: Path):
    """The real MixtureLoader over synthetic token shards, else random batches (and why)."""
    try:
        from training.data import MixtureLoader
        from pipeline.tokens.mixture import load_mixture
        mixture = load_mixture(str(synthetic_corpus(tmp / f"corpus{block_size}", vocab)))
        return iter(MixtureLoader(mixture, block_size, batch_size)), "MixtureLoader (synthetic token shards)"
    except ImportError as exc:
        g = torch.Generator().manual_seed(0)

        def random_batches():
            while True:
                rows = torch.randint(0, vocab, (batch_size, block_size + 1), generator=g)
                yield rows[:, :-1], rows[:, 1:]
        return random_batches(), f"synthetic random batches (the data side is not importable here: {exc})"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(tokens: int, hidden: int, device: torch.device, dtype: torch.dtype, seconds: float = 2.0) -> float:
    """FLOP/s of (tokens, hidden) @ (hidden, 4*hidden): the MLP's shape, the best case for the device."""
    a = torch.randn(tokens, hidden, device=device, dtype=dtype)
    b = torch.randn(hidden, 4 * hidden, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            a @ b
        sync(device)
        n += 10
    return 2 * tokens * hidden * 4 * hidden * n / (time.perf_counter() - start)


def bench_shape(name: str, batch_size: int, steps: int, device: torch.device, compile_model: bool,
                tmp: Path) -> dict:
    shape = SHAPES[name]
    cfg = GPTConfig(vocab_size=GPT2_VOCAB, **shape)
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1,
                                  fused=True)
    step_model = torch.compile(model) if compile_model else model
    bf16 = device.type == "cuda"
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    stream, stream_kind = make_stream(cfg.block_size, batch_size, GPT2_VOCAB, device, tmp)

    def step() -> tuple[float, float]:
        t0 = time.perf_counter()
        x, y = next(stream)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        data_s = time.perf_counter() - t0
        with amp:
            _, loss = step_model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()  # waits for the device
        return time.perf_counter() - t0, data_s

    warmup = 3 if compile_model else 2
    for _ in range(warmup):
        step()
    times = [step() for _ in range(steps)]
    total, data = sum(t for t, _ in times), sum(d for _, d in times)
    tokens = batch_size * cfg.block_size
    tok_s = tokens * steps / total
    fpt = model.flops_per_token()
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    limit = matmul_flops(tokens, cfg.n_embd, device, torch.bfloat16 if bf16 else torch.float32)
    return {"name": name, "params": model.num_params(), "tokens_per_step": tokens, "tok_s": tok_s,
            "model_flops": fpt * tok_s, "matmul_flops": limit, "data_share": data / total,
            "mfu": mfu(fpt, tok_s, device_name), "stream": stream_kind, "device": device_name or "cpu",
            "step_ms": 1000 * total / steps}


def check_flex(device: torch.device) -> str:
    """FlexAttention vs the SDPA mask on a banded model, forward and backward (needs CUDA)."""
    torch.manual_seed(0)
    base = dict(vocab_size=512, block_size=512, n_layer=2, n_head=4, n_embd=128,
                attn_pattern=["dense", "banded"], band_width=64)
    a = GPT(GPTConfig(**base, attn_impl="sdpa")).to(device)
    b = GPT(GPTConfig(**base, attn_impl="flex")).to(device)
    b.load_state_dict(a.state_dict())
    idx = torch.randint(0, 512, (4, 512), device=device)
    out = []
    for model in (a, b):
        logits, loss = model(idx, idx)
        loss.backward()
        out.append((logits, model.transformer.h[1].attn.c_attn.weight.grad))
    dl = (out[0][0] - out[1][0]).abs().max().item()
    dg = (out[0][1] - out[1][1]).abs().max().item()
    return f"flex vs sdpa mask (fp32, banded layer): max |logit diff| {dl:.2e}, max |grad diff| {dg:.2e}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), help="default: per device")
    p.add_argument("--steps", type=int, help="timed steps per shape (default: 4 on CPU, 30 on CUDA)")
    p.add_argument("--batch-size", type=int, help="rows per step (default: per shape)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                   help="torch.compile the model (auto: on CUDA only)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.getLogger("webmix.mixture").setLevel(logging.ERROR)  # "no manifest": true, and expected
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    names, batches, steps = DEFAULTS[device.type]
    compile_model = args.compile == "on" or (args.compile == "auto" and device.type == "cuda")
    print(f"torch {torch.__version__}, device {device}"
          f"{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, "
          f"{torch.get_num_threads()} CPU threads, compile {'on' if compile_model else 'off'}, "
          f"{'bf16 autocast' if device.type == 'cuda' else 'fp32'}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.shapes or names:
            r = bench_shape(name, args.batch_size or batches[name], args.steps or steps, device,
                            compile_model, Path(tmp))
            rows.append(r)
            print(f"  {name}: data from {r['stream']}", flush=True)
    header = ("shape", "params", "tok/step", "ms/step", "tokens/s", "model TFLOP/s", "matmul TFLOP/s",
              "model/matmul", "MFU", "data share")
    table = [header] + [(
        r["name"], f"{r['params'] / 1e6:.1f}M", str(r["tokens_per_step"]), f"{r['step_ms']:.0f}",
        f"{r['tok_s']:,.0f}", f"{r['model_flops'] / 1e12:.3f}", f"{r['matmul_flops'] / 1e12:.3f}",
        f"{100 * r['model_flops'] / r['matmul_flops']:.0f}%",
        f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "n/a", f"{100 * r['data_share']:.2f}%")
        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    if device.type == "cuda":
        peak = peak_flops(torch.cuda.get_device_name(device))
        print(f"peak bf16 for MFU: {peak / 1e12:.0f} TFLOP/s" if peak else
              "MFU: n/a (this device's name is not in the peak table)")
        print(check_flex(device))
    print("model/matmul: the model's training FLOP/s (6N + attention per token) over a plain matmul of the "
          "same hidden size in this run; data share: time waiting for the stream / step time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
