"""Training metrics: JSON lines (the record), TensorBoard scalars, a progress bar on a terminal (or one
log line every log_every steps elsewhere), model FLOPs utilisation on known GPUs, and a loss-curve PNG.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# Dense bf16 tensor-core peak FLOP/s by the full name torch.cuda.get_device_name() gives. An H100
# PCIe is not an H100 SXM, so there is no match on a prefix: an unknown name gets no MFU at all
# rather than a wrong one.
PEAK_BF16_FLOPS = {
    "NVIDIA A100-SXM4-40GB": 312e12,
    "NVIDIA A100-SXM4-80GB": 312e12,
    "NVIDIA A100-PCIE-40GB": 312e12,
    "NVIDIA A100 80GB PCIe": 312e12,
    "NVIDIA H100 80GB HBM3": 989e12,   # SXM5
    "NVIDIA H100 PCIe": 756e12,
    "NVIDIA H100 NVL": 835e12,
    "NVIDIA H200": 989e12,
    "NVIDIA H200 NVL": 835e12,
}


def peak_flops(device_name: str | None) -> float | None:
    return PEAK_BF16_FLOPS.get(device_name or "")


def mfu(flops_per_token: float, tokens_per_s: float, device_name: str | None,
        world_size: int = 1) -> float | None:
    """Achieved model FLOP/s over the peak of all devices, or None for a device not in the table."""
    peak = peak_flops(device_name)
    return None if peak is None else flops_per_token * tokens_per_s / (peak * world_size)


class MetricsLogger:
    """Rank 0's sink for every scalar; other ranks pass enabled=False and log nothing."""

    def __init__(self, out_dir: Path, total_steps: int, start_step: int = 0, enabled: bool = True,
                 progress: str = "auto"):
        self.enabled = enabled
        self.out_dir = Path(out_dir)
        self.bar = self.tb = self.jsonl = None
        if not enabled:
            return
        self.jsonl = open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8")
        from torch.utils.tensorboard import SummaryWriter
        self.tb = SummaryWriter(str(self.out_dir / "tensorboard"), purge_step=start_step + 1)
        if progress == "bar" or (progress == "auto" and sys.stderr.isatty()):
            from tqdm import tqdm
            self.bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)

    def log(self, step: int, kind: str, values: dict) -> None:
        """One record: {"step", "kind" (train | val), values...}, to every sink."""
        if not self.enabled:
            return
        self.jsonl.write(json.dumps({"step": step, "kind": kind, **values}) + "\n")
        self.jsonl.flush()
        for key, value in values.items():
            if isinstance(value, (int, float)):
                self.tb.add_scalar(f"{kind}/{key}", value, step)
        line = " ".join(f"{k} {_fmt(v)}" for k, v in values.items() if v is not None)
        if self.bar is not None:
            if kind == "train":
                self.bar.set_postfix_str(line)
            else:
                self.bar.write(f"step {step} {kind}: {line}")
        else:
            print(f"step {step} {kind}: {line}", flush=True)

    def advance(self, steps: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(steps)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        self.tb.close()
        self.jsonl.close()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def read_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plot_loss_curve(metrics_path: Path, png_path: Path) -> Path | None:
    """Training loss and each source's validation loss against step; None when nothing was logged.
    A resumed run appends to the same JSON lines; the latest record of a step wins."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, val = {}, {}
    for rec in read_records(metrics_path):
        if rec["kind"] == "train" and "loss" in rec:
            train[rec["step"]] = rec["loss"]
        elif rec["kind"] == "val":
            for key, value in rec.items():
                if key.startswith("loss/"):
                    val.setdefault(key[5:], {})[rec["step"]] = value
    if not train:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = sorted(train)
    ax.plot(steps, [train[s] for s in steps], label="train")
    for source, points in sorted(val.items()):
        s = sorted(points)
        ax.plot(s, [points[i] for i in s], marker="o", markersize=3, label=f"val {source}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return png_path
