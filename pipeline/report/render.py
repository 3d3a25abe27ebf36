"""One self-contained HTML page from Jinja2 templates (templates/, autoescaped): a header with the
run's headline figures, a table of contents, the sections of pipeline.report.sections (each its
own template), and a script that records on <body data-images="ok/total"> how many figures
decoded, so a headless browser can check the page."""
from __future__ import annotations

from datetime import datetime, timezone

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.report import sections
from pipeline.report.attached import attached_sections
from pipeline.report.collect import RunData
from pipeline.report.formats import human, num


def environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True), undefined=StrictUndefined,
                      keep_trailing_newline=False)
    env.filters.update(num=num, human=human)
    return env


def render(data: RunData) -> str:
    built = [s for s in (builder(data) for builder in sections.BUILDERS) if s] + attached_sections(data.root)
    return environment().get_template("report.html.j2").render(
        name=data.root.name, root=str(data.root), when=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        tiles=sections.headline(data), sections=built)
