"""One self-contained HTML page: the sections of pipeline.report.sections, a header with the run's
headline figures, a table of contents, and a script that records on <body data-images="ok/total">
how many figures decoded, so a headless browser can check the page."""
from __future__ import annotations

import html
from datetime import datetime, timezone

from pipeline.report.collect import RunData

STYLE = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--soft:#f8fafc;--blue:#2563eb;--amber:#b45309}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;background:#fff}
header{background:linear-gradient(120deg,#0f172a,#1e3a8a);color:#fff;padding:2.2em 0 1.6em}
header .wrap h1{margin:0;font-size:1.9em;letter-spacing:-.01em} header .sub{color:#cbd5e1;margin:.2em 0 1.2em}
.wrap{max-width:1120px;margin:0 auto;padding:0 1.4em}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.8em}
.tile{background:rgba(255,255,255,.09);border:1px solid rgba(255,255,255,.16);border-radius:10px;padding:.7em .9em}
.tile b{display:block;font-size:1.45em;font-variant-numeric:tabular-nums} .tile span{color:#cbd5e1;font-size:.82em}
nav{position:sticky;top:0;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);z-index:2}
nav .wrap{display:flex;flex-wrap:wrap;gap:.2em 1.1em;padding-top:.55em;padding-bottom:.55em}
nav a{color:var(--muted);text-decoration:none;font-size:.9em} nav a:hover{color:var(--blue)}
section{padding:1.2em 0 .6em;border-bottom:1px solid var(--line)}
h2{font-size:1.35em;margin:.4em 0 .2em} h3{font-size:1.05em;margin:1.2em 0 .4em}
p.lead{color:var(--muted);margin:.1em 0 .9em;max-width:60em}
figure{margin:.8em 0} figure img{max-width:100%;display:block}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em;font-variant-numeric:tabular-nums}
th,td{padding:.35em .7em;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.85em;text-transform:uppercase;letter-spacing:.03em}
th:first-child,td:first-child,td.l,th.l{text-align:left}
tr:hover td{background:var(--soft)}
.chip{display:inline-block;background:#fef3c7;color:#92400e;border-radius:999px;padding:0 .55em;margin:.1em .2em .1em 0;font-size:.8em;white-space:nowrap}
.chip.ok{background:#dbeafe;color:#1e40af} .chip.bad{background:#fee2e2;color:#991b1b}
.muted{color:var(--muted)} .small{font-size:.85em}
.bar{display:inline-block;height:.55em;background:var(--blue);border-radius:3px;vertical-align:middle}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.7em;margin:.4em 0 1em}
.cards.pairs{grid-template-columns:1fr 1fr}
.card{border:1px solid var(--line);border-radius:9px;padding:.6em .8em;background:#fff}
.card.kept{border-left:4px solid var(--blue)} .card.dropped{border-left:4px solid #f59e0b}
.card .url{font-size:.78em;color:var(--muted);word-break:break-all;margin:.2em 0}
.card pre{white-space:pre-wrap;font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;margin:.3em 0 0;max-height:11em;overflow:auto;color:#374151}
pre.samples{white-space:pre-wrap;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.8em;font-size:.85em}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:0 2em}
footer{color:var(--muted);font-size:.8em;padding:1.5em 0 3em}
"""

# Records on <body> how many figures decoded, so a headless browser can check the page.
CHECK_IMAGES = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
"""


def e(value) -> str:
    return html.escape(str(value))


def num(value, digits: int = 3) -> str:
    """A number as a person reads it: thousands separated, floats to a few significant digits."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return e(value)


def human(n) -> str:
    """1234567 -> 1.23M (token counts)."""
    if not isinstance(n, (int, float)):
        return ""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.0f}"


def table(header: list[str], rows: list[list], left: int = 1) -> str:
    """An HTML table; cells are pre-rendered HTML strings (or numbers, formatted here)."""
    head = "".join(f'<th class="{"l" if i < left else ""}">{e(h)}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(
        f'<td class="{"l" if i < left else ""}">{c if isinstance(c, str) else num(c)}</td>'
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(src: str, alt: str) -> str:
    return f'<figure><img alt="{e(alt)}" src="{src}"></figure>'


def chips(reasons: dict[str, int], kind: str = "") -> str:
    return "".join(f'<span class="chip {kind}">{e(r)} <b>{num(n)}</b></span>'
                   for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]) if n)


def section(anchor: str, title: str, lead: str, body: str) -> tuple[str, str, str]:
    return anchor, title, (f'<section id="{anchor}"><div class="wrap"><h2>{e(title)}</h2>'
                           f'<p class="lead">{lead}</p>{body}</div></section>')


def render(data: RunData) -> str:
    from pipeline.report import sections

    built = [s for s in (builder(data) for builder in sections.BUILDERS) if s]
    nav = "".join(f'<a href="#{anchor}">{e(title)}</a>' for anchor, title, _ in built)
    tiles = "".join(f'<div class="tile"><b>{value}</b><span>{e(label)}</span></div>'
                    for label, value in sections.headline(data))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>webmix run report: {e(data.root.name)}</title><style>{STYLE}</style></head><body>"
        f"<header><div class='wrap'><h1>webmix run report</h1>"
        f"<p class='sub'>{e(data.root)} &middot; rendered {when}</p>"
        f"<div class='tiles'>{tiles}</div></div></header>"
        f"<nav><div class='wrap'>{nav}</div></nav>"
        + "".join(body for _, _, body in built)
        + "<footer><div class='wrap'>Rendered by <code>webmix report</code> from the stages' "
          "<code>_stats.json</code>, the classifier's <code>report.json</code>, the mixture and token "
          "manifests and the trainer's <code>metrics.jsonl</code>.</div></footer>"
        f"<script>{CHECK_IMAGES}</script></body></html>")
