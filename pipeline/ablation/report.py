"""The ablation's results: ablation.json (deterministic numbers only), timings.json (seconds and
tokens/s) and RUN/report/ (ablation.md, section.html, ablation.png) for the run report.

Per variant, seed and held-out set: bits per byte = sum of the documents' nats / (ln 2 x their
UTF-8 bytes), read from `train eval`'s per-document records. Against the baseline variant: Δ of the
seed-mean bits per byte, with a paired bootstrap over held-out documents (the same resampled
documents for both variants) and Δ per seed (seed s of a variant against seed s of the baseline).
A variant is "better" when the interval lies below 0 and every seed's Δ is negative.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from pipeline.ablation.config import AblationConfig

BOOTSTRAP_SEED = 1234       # fixed: the interval is part of the deterministic result
LEVEL = 0.95


def _records(run: Path, variant: str, seed: int, task: str) -> list[dict]:
    stem = Path(task).stem if task.endswith(".yaml") else task
    path = run / "eval" / variant / f"seed{seed}" / "items" / f"{stem}.0shot.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _bpb(nats: np.ndarray, n_bytes: np.ndarray) -> float:
    return float(nats.sum() / (math.log(2) * n_bytes.sum()))


def paired_bootstrap(nats_v: np.ndarray, nats_b: np.ndarray, n_bytes: np.ndarray, draws: int) -> list[float]:
    """Percentile interval of bpb(variant) - bpb(baseline) over documents resampled with replacement."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(n_bytes), size=(draws, len(n_bytes)))
    deltas = (nats_v[idx].sum(1) - nats_b[idx].sum(1)) / (math.log(2) * n_bytes[idx].sum(1))
    lo, hi = np.quantile(deltas, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return [round(float(lo), 6), round(float(hi), 6)]


def mixture_table(run: Path, variant: str) -> dict:
    """GPT-3 Table 2.2 for a mixture variant, from its build_mixture manifest: per source the weight,
    unique tokens, the rows build_mixture drew (its first seed's training rows) and the epochs."""
    manifest = json.loads((run / "stages" / f"mixture_{variant}" / "manifest.json").read_text())
    block = manifest["block_size"]
    return {s["name"]: {"weight": round(s["weight"], 6), "unique_tokens": s["tokens_available"],
                        "rows": s["rows"], "epochs": round(s["rows"] * block / max(s["tokens_available"], 1), 4)}
            for s in manifest["sources"]}


def build_results(cfg: AblationConfig, run: Path, tasks: dict[str, str], unique: dict[str, int],
                  epochs: dict[str, float], plan) -> dict:
    base = cfg.baseline_name
    nats = {}   # (variant, heldout) -> array (seeds, documents)
    n_bytes = {}
    for v in cfg.variants:
        for name, task in tasks.items():
            rows = [_records(run, v, s, task) for s in cfg.seeds]
            nats[v, name] = np.array([[r["nats"] for r in seed_rows] for seed_rows in rows])
            n_bytes[name] = np.array([r["bytes"] for r in rows[0]], dtype=float)
    variants = {}
    for v in cfg.variants:
        heldout = {}
        for name in tasks:
            per_seed = [round(_bpb(n, n_bytes[name]), 6) for n in nats[v, name]]
            entry = {"bits_per_byte": dict(zip(map(str, cfg.seeds), per_seed)),
                     "mean": round(float(np.mean(per_seed)), 6),
                     "spread": round(float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0, 6),
                     "documents": int(len(n_bytes[name])), "bytes": int(n_bytes[name].sum())}
            if v != base:
                base_seeds = [_bpb(n, n_bytes[name]) for n in nats[base, name]]
                seed_delta = [round(p - b, 6) for p, b in zip(per_seed, base_seeds)]
                interval = paired_bootstrap(nats[v, name].mean(0), nats[base, name].mean(0), n_bytes[name],
                                            cfg.bootstrap)
                entry["vs_baseline"] = {
                    "delta": round(float(np.mean(per_seed) - np.mean(base_seeds)), 6),
                    "interval": interval, "seed_deltas": seed_delta,
                    "verdict": ("better" if interval[1] < 0 and all(d < 0 for d in seed_delta) else
                                "worse" if interval[0] > 0 and all(d > 0 for d in seed_delta) else "no difference")}
            heldout[name] = entry
        variants[v] = {"unique_train_tokens": unique[v], "epochs": round(epochs[v], 4), "heldout": heldout}
        if v in plan.mixtures:
            variants[v]["mixture"] = mixture_table(run, v)
    return {"train_tokens": cfg.train_tokens, "model": cfg.model, "seeds": cfg.seeds, "baseline": base,
            "interval": f"paired bootstrap over held-out documents, {cfg.bootstrap} draws, {LEVEL:.0%}",
            "heldout": list(tasks), "variants": variants,
            "ranking": {name: sorted(cfg.variants, key=lambda v: variants[v]["heldout"][name]["mean"])
                        for name in tasks}}


def stage_seconds(plan) -> dict[str, float]:
    """Each Spark stage's compute seconds as its own `_stats.json` recorded them when it ran (a rerun
    that skipped the stage does not make it look free)."""
    seconds = {}
    for stage in plan.stages:
        stats = Path(stage.output) / "_stats.json"
        if stats.is_file():
            seconds[stage.name] = round(float(json.loads(stats.read_text()).get("seconds") or 0.0), 2)
    return seconds


def build_timings(cfg: AblationConfig, seconds: dict[str, float], plan) -> dict:
    """Per variant: the Spark seconds of the stages its corpus needs (shared stages counted in each),
    training seconds and tokens/s, evaluation seconds. `seconds`: wall seconds of this run folder's
    steps (logs/seconds/)."""
    spark = stage_seconds(plan)
    out = {"wall_seconds": seconds, "spark_stage_seconds": spark, "variants": {}}
    for v in cfg.variants:
        train = [seconds.get(f"train_{v}_seed{s}", 0.0) for s in cfg.seeds]
        out["variants"][v] = {
            "spark_seconds": round(sum(spark.get(s, 0.0) for s in plan.lineage[v]), 1),
            "train_seconds": round(sum(train), 1),
            "tokens_per_s": round(cfg.train_tokens * len(train) / sum(train), 1) if sum(train) else None,
            "eval_seconds": round(sum(seconds.get(f"eval_{v}_seed{s}", 0.0) for s in cfg.seeds), 1)}
    out["spark_seconds_total"] = round(sum(spark.values()), 1)
    out["train_seconds_total"] = round(sum(v for k, v in seconds.items() if k.startswith("train_")), 1)
    out["eval_seconds_total"] = round(sum(v for k, v in seconds.items() if k.startswith("eval_")), 1)
    return out


def table(results: dict, timings: dict) -> str:
    names = results["heldout"]
    head = ["variant", "unique tokens", "epochs"] + [f"{n} bpb (mean ± sd)" for n in names] + \
           [f"Δ {n} vs {results['baseline']} [95% CI] verdict" for n in names] + ["Spark s", "train s", "tok/s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v, r in results["variants"].items():
        t = timings["variants"][v]
        cells = [v, f"{r['unique_train_tokens']:,}", f"{r['epochs']:.2f}"]
        cells += [f"{r['heldout'][n]['mean']:.4f} ± {r['heldout'][n]['spread']:.4f}" for n in names]
        for n in names:
            d = r["heldout"][n].get("vs_baseline")
            cells.append("—" if d is None else
                         f"{d['delta']:+.4f} [{d['interval'][0]:+.4f}, {d['interval'][1]:+.4f}] {d['verdict']}")
        cells += [f"{t['spark_seconds']:.0f}", f"{t['train_seconds']:.0f}",
                  "—" if t["tokens_per_s"] is None else f"{t['tokens_per_s']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for v, r in results["variants"].items():
        if "mixture" in r:
            lines += ["", f"{v}, GPT-3 Table 2.2 form (the rows build_mixture drew: the first seed's training rows; "
                      "its epochs column above is the most repeated source's):", "",
                      "| source | weight | unique tokens | rows drawn | epochs |", "|---|---|---|---|---|"]
            lines += [f"| {name} | {m['weight']:.1%} | {m['unique_tokens']:,} | {m['rows']:,} | {m['epochs']:.2f} |"
                      for name, m in r["mixture"].items()]
    return "\n".join(lines)


def figure(cfg: AblationConfig, run: Path, results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, variants = results["heldout"], list(results["variants"])
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(4 * (len(names) + 1), 3.4))
    for ax, name in zip(axes, names):
        for x, v in enumerate(variants):
            values = list(results["variants"][v]["heldout"][name]["bits_per_byte"].values())
            ax.scatter([x] * len(values), values, s=22)
            ax.hlines(np.mean(values), x - 0.25, x + 0.25, color="#1f2937")
        ax.set_xticks(range(len(variants)), variants, rotation=20)
        ax.set_title(f"{name}: bits per byte")
    ax = axes[-1]
    for i, v in enumerate(variants):
        for j, seed in enumerate(cfg.seeds):
            rows = [json.loads(line) for line in (run / "train" / v / f"seed{seed}" / "metrics.jsonl")
                    .read_text().splitlines() if '"train"' in line]
            ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], color=f"C{i}", lw=1,
                    alpha=0.9, label=v if j == 0 else None)
    ax.set_title("training loss")
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(cfg: AblationConfig, run: Path, results: dict, timings: dict) -> str:
    (run / "ablation.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (run / "timings.json").write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
    folder = run / "report"
    folder.mkdir(exist_ok=True)
    text = table(results, timings)
    (folder / "ablation.md").write_text(
        f"## Data ablation\n\n{cfg.model}, {results['train_tokens']:,} training tokens per run, seeds "
        f"{results['seeds']}; Δ: {results['interval']}.\n\n{text}\n\n![ablation](ablation.png)\n")
    (folder / "section.html").write_text(
        f"<section><h2>Data ablation</h2><pre>{html.escape(text)}</pre>"
        f"<img src=\"ablation.png\" alt=\"held-out bits per byte per variant; loss curves\"></section>\n")
    figure(cfg, run, results, folder / "ablation.png")
    return text
