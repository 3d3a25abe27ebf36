"""The report's figures, drawn with matplotlib's non-interactive backend and embedded as PNG data
URIs, so the page is one self-contained file."""
from __future__ import annotations

import base64
import io
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
KEPT, DROPPED = "#2563eb", "#f59e0b"
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#f97316", "#64748b"]
SOURCE_COLORS = {"commoncrawl": "#2563eb", "webtext": "#f59e0b", "webtext2": "#f59e0b", "wikipedia": "#10b981",
                 "books": "#8b5cf6", "books1": "#8b5cf6", "books2": "#a78bfa"}

plt.rcParams.update({
    "font.size": 9.5, "axes.edgecolor": "#9ca3af", "axes.labelcolor": INK, "axes.titlesize": 11,
    "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.color": GRID, "grid.linewidth": 0.8,
    "axes.axisbelow": True, "xtick.color": MUTED, "ytick.color": MUTED, "legend.frameon": False,
    "figure.dpi": 100,
})


def png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def source_color(name: str, index: int = 0) -> str:
    return SOURCE_COLORS.get(name, PALETTE[index % len(PALETTE)])


def funnel(steps: list[tuple[str, int]], title: str) -> str:
    """Documents remaining after each step (horizontal bars, first step on top), each bar labelled
    with its count and the share of the first."""
    labels, counts = [s for s, _ in steps], [n for _, n in steps]
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(steps) + 1.1))
    y = np.arange(len(steps))[::-1]
    first = max(counts[0], 1)
    ax.barh(y, [first] * len(steps), color=GRID, height=0.62)
    ax.barh(y, counts, color=KEPT, height=0.62)
    for yi, n in zip(y, counts):
        ax.text(min(n, first) + first * 0.01, yi, f"{n:,}  ({100 * n / first:.0f}%)", va="center",
                color=INK, fontsize=8.5)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, first * 1.22)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("documents")
    ax.set_title(title)
    return png(fig)


def stage_bars(rows: list[tuple[str, int, int]]) -> str:
    """Documents in (grey) and out (blue) of each stage."""
    fig, ax = plt.subplots(figsize=(8.5, 0.36 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, [r[1] for r in rows], color=GRID, height=0.7, label="in")
    ax.barh(y, [r[2] for r in rows], color=KEPT, height=0.42, label="out")
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xscale("symlog", linthresh=10)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("documents (log scale)")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    ax.set_title("Documents in and out of each stage")
    return png(fig)


def language_mix(folders: dict[str, Counter], top: int = 8) -> str:
    """Per document folder, the share of each language (the most common `top`, the rest as other)."""
    overall = sum(folders.values(), Counter())
    langs = [lang for lang, _ in overall.most_common(top)]
    names = list(folders)
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(names) + 1.0))
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for i, lang in enumerate([*langs, "other"]):
        shares = np.array([(sum(v for k, v in folders[n].items() if k not in langs) if lang == "other"
                            else folders[n].get(lang, 0)) / max(sum(folders[n].values()), 1) for n in names])
        if shares.sum() == 0:
            continue
        ax.barh(y, shares, left=left, height=0.6, label=lang, color=PALETTE[i % len(PALETTE)])
        left += shares
    ax.set_yticks(y, [f"{n}  ({sum(folders[n].values()):,})" for n in names])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Language of the documents (fastText lid.176)")
    return png(fig)


def score_histograms(positives: dict | None, negatives: dict | None, commoncrawl: list[dict] | None,
                     alpha: float | None) -> str:
    """The classifier's held-out score histograms (positives, negatives), the CommonCrawl scores per
    decile with the share the pareto rule kept, and GPT-3's keep curve P(keep | s) = (2 - s)^-alpha."""
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    for name, hist, color in (("held-out positives (curated)", positives, "#10b981"),
                              ("held-out negatives (raw CommonCrawl)", negatives, "#ef4444")):
        if hist and sum(hist["counts"]):
            edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"], dtype=float)
            ax.stairs(counts / counts.sum(), edges, color=color, linewidth=2, label=name)
    if commoncrawl:
        total = max(sum(r["documents"] for r in commoncrawl), 1)
        lefts = np.array([r["score_from"] for r in commoncrawl])
        widths = np.array([r["score_to"] - r["score_from"] for r in commoncrawl])
        # per-decile shares on the 20-bin scale of the histograms: halve a decile's share per bin
        scale = 0.05 / widths
        ax.bar(lefts, [r["documents"] / total * s for r, s in zip(commoncrawl, scale)], width=widths,
               align="edge", color="#93c5fd", alpha=0.7, label="CommonCrawl scored")
        ax.bar(lefts, [r["kept"] / total * s for r, s in zip(commoncrawl, scale)], width=widths,
               align="edge", color=KEPT, alpha=0.85, label="CommonCrawl kept")
    ax.set_xlim(0, 1)
    ax.set_xlabel("classifier score P(high quality)")
    ax.set_ylabel("share of documents per 0.05 bin")
    handles, labels = ax.get_legend_handles_labels()
    if alpha:
        s = np.linspace(0, 1, 101)
        keep = ax.twinx()
        handles += keep.plot(s, (2 - s) ** -alpha, color=INK, linestyle="--", linewidth=1.4)
        labels.append(f"P(keep | s) = (2 - s)^-{alpha:g}")
        if commoncrawl:
            handles += keep.plot([(r["score_from"] + r["score_to"]) / 2 for r in commoncrawl],
                                 [r["keep_rate"] for r in commoncrawl], "o", color=INK, markersize=4)
            labels.append("observed keep rate")
        keep.set_ylim(0, 1.05)
        keep.set_ylabel("P(keep)")
        keep.grid(False)
        keep.spines["right"].set_visible(True)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, fontsize=8.5)
    ax.set_title("Quality classifier scores and the pareto keep curve")
    return png(fig)


def _bin_key(label: str) -> int:
    head = str(label).split("-")[0].rstrip("+")
    return int(head) if head.isdigit() else 10 ** 9


def cluster_sizes(histograms: dict[str, dict[str, int]]) -> str:
    """Clusters per size bin, one bar group per removal reason (exact_url, near_within, ...)."""
    bins = sorted({b for h in histograms.values() for b in h}, key=_bin_key)
    reasons = sorted(histograms)
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    x = np.arange(len(bins))
    width = 0.8 / max(len(reasons), 1)
    for i, reason in enumerate(reasons):
        ax.bar(x + (i - (len(reasons) - 1) / 2) * width, [histograms[reason].get(b, 0) for b in bins],
               width=width, label=reason, color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, bins)
    ax.set_xlabel("cluster size (documents)")
    ax.set_ylabel("clusters")
    if max((max(h.values()) for h in histograms.values()), default=0) > 50:
        ax.set_yscale("symlog", linthresh=1)
    else:
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend()
    ax.set_title("Duplicate cluster sizes")
    return png(fig)


def loss_curves(train: dict[int, float], val: dict[str, dict[int, float]]) -> str:
    """Training loss and each source's held-out loss against step."""
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    if train:
        steps = sorted(train)
        ax.plot(steps, [train[s] for s in steps], color=INK, linewidth=1.8, label="train")
    for i, (source, points) in enumerate(sorted(val.items())):
        steps = sorted(points)
        ax.plot(steps, [points[s] for s in steps], marker="o", markersize=4, linewidth=1.4,
                color=source_color(source, i), label=f"validation: {source}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats / token)")
    ax.legend(ncols=2)
    ax.set_title("Training loss and validation loss per source")
    return png(fig)


def mixture_shares(table: list[dict]) -> str:
    """Each source's share of the tokens available next to its share of the training draw."""
    names = [r["name"] for r in table]
    total = max(sum(r["tokens"] for r in table), 1)
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax.barh(y + 0.18, [r["tokens"] / total for r in table], height=0.34, color=GRID, label="share of tokens available")
    ax.barh(y - 0.18, [r["weight"] for r in table], height=0.34,
            color=[source_color(n, i) for i, n in enumerate(names)], label="weight in the training mix")
    ax.set_yticks(y, names)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    ax.set_title("Mixture: available tokens vs. sampling weight")
    return png(fig)
