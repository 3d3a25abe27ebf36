"""The evaluation section of the run report, written as files so the pipeline report (which must not
import training) can include them: <eval out>/report/
  section.html       a self-contained <section> (table + figure as a data: URI), to paste in as is
  table.md           the same table in Markdown (closing notes, README)
  accuracy_vs_k.png  each task's first metric against the number of shots, with 95% intervals
A result whose interval includes the task's chance level is marked "≈ chance".
"""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

CHANCE_MARK = "≈ chance"


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"


def table_rows(document: dict) -> list[list[str]]:
    rows = []
    for r in document["results"]:
        low, high = r["interval"]
        rows.append([r["task"], str(r["shots"]), r["metric"], _fmt(r["value"]), f"[{_fmt(low)}, {_fmt(high)}]",
                     _fmt(r["chance"]), CHANCE_MARK if r.get("interval_includes_chance") else "",
                     str(r["n"]), str(r["truncated"])])
    return rows


HEADER = ["task", "k", "metric", "value", "95% interval", "chance", "", "n", "truncated"]


def format_table(document: dict) -> str:
    """A plain-text table for the terminal."""
    rows = [HEADER] + table_rows(document)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def markdown_table(document: dict) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(document)]
    return "\n".join(lines) + "\n"


def accuracy_vs_k_png(document: dict) -> bytes | None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = {}
    for r in document["results"]:
        if r["kind"] != "perplexity":
            first.setdefault(r["task"], r["metric"])
    if not first:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for n, (task, metric) in enumerate(sorted(first.items())):
        rs = sorted((r for r in document["results"] if r["task"] == task and r["metric"] == metric),
                    key=lambda r: r["shots"])
        ks = [r["shots"] for r in rs]
        values = [r["value"] for r in rs]
        errors = [[v - r["interval"][0] for v, r in zip(values, rs)], [r["interval"][1] - v for v, r in zip(values, rs)]]
        line = ax.errorbar(ks, values, yerr=errors, marker="o", capsize=3, label=f"{task} ({metric})")
        if rs[0]["chance"] is not None:
            ax.axhline(rs[0]["chance"], color=line[0].get_color(), linestyle=":", linewidth=1)
    ax.set_xlabel("examples in the prompt (k)")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy against k (dotted: chance)")
    ax.set_xticks(sorted({r["shots"] for r in document["results"]}))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def section_html(document: dict, png: bytes | None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in table_rows(document))
    model = document["model"]
    figure = (f'<figure><img alt="accuracy against k" src="data:image/png;base64,'
              f'{base64.b64encode(png).decode()}"></figure>') if png else ""
    return (f'<section id="evaluation"><h2>Evaluation</h2><p class="lead">Zero- and few-shot tasks and '
            f'held-out bits per byte of {html.escape(model["source"])} (weights sha256 '
            f'{model["fingerprint"][:12]}); bootstrap 95% intervals; {CHANCE_MARK}: the interval '
            f'includes the chance level.</p><table><tr>{head}</tr>{body}</table>{figure}</section>\n')


def write_report_section(folder: Path, document: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    png = accuracy_vs_k_png(document)
    if png:
        (folder / "accuracy_vs_k.png").write_bytes(png)
    (folder / "table.md").write_text(markdown_table(document), encoding="utf-8")
    (folder / "section.html").write_text(section_html(document, png), encoding="utf-8")
    return folder
