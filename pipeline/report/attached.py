"""Sections other tools write into the run folder: `train eval --out RUN/eval` and `webmix ablate
--out RUN/ablation` each leave RUN/<name>/report/section.html (a fragment with its own heading).
pipeline/ never imports training/, so the report takes their HTML as written by those tools, with
each figure the fragment names (<img src="x.png">, beside it) inlined, so the page stays one file."""
from __future__ import annotations

import base64
import re
from pathlib import Path

from pipeline.report.sections import Section

SECTION_FILE = "section.html"
_IMAGE = re.compile(r'src="([A-Za-z0-9_.-]+\.png)"')
_HEADING = re.compile(r"<h2>(.*?)</h2>", re.S)


def _inline_images(html: str, folder: Path) -> str:
    def data_uri(match: re.Match) -> str:
        image = folder / match.group(1)
        if not image.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"'
    return _IMAGE.sub(data_uri, html)


def attached_sections(root: Path) -> list[Section]:
    """One Section per RUN/<name>/report/section.html, in folder-name order."""
    found = []
    for path in sorted(Path(root).glob(f"*/report/{SECTION_FILE}")):
        html = _inline_images(path.read_text(encoding="utf-8"), path.parent)
        heading = _HEADING.search(html)
        title = re.sub(r"<[^>]+>", "", heading.group(1)).strip() if heading else path.parent.parent.name
        html = _HEADING.sub("", html, count=1)  # the report writes the heading itself
        found.append(Section(f"attached-{path.parent.parent.name}", title, {"html": html},
                             template_file="sections/attached.html.j2"))
    return found
