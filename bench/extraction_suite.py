"""The extraction development suite: seven human-labelled gold sets, their fixed tune / check split,
extractor runs (with a cache for the slow baselines) and their scores.

Scoring is the shared evaluation tool's own code (../shared/tools/extraction_eval.py, imported by
path), so that every number here is the one that tool would print: per page, tp / fp / fn of the
4-token shingle bags, divided by their sum; precision = mean over non-empty outputs, recall = mean
over pages, F1 = their harmonic mean.

The split: a page is a tuning page when sha1("set/id") mod 10 < 7, else a check page. It is
committed as a list (bench/extraction_split.tsv) so that a page added to a set later cannot move
another between the parts; `load_suite` refuses to run when the list and the data disagree.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REALDATA = Path(os.environ.get("WEBMIX_REALDATA", REPO.parent / "shared" / "realdata"))
DEFAULT_EVAL_TOOL = REPO.parent / "shared" / "tools" / "extraction_eval.py"
SPLIT_FILE = REPO / "bench" / "extraction_split.tsv"
CACHE_DIR = REPO / "runs" / "extraction_cache"
AEB = "aeb"
SIX = ("l3s-gn1", "cleaneval", "canola", "cleanportaleval", "google-trends-2017", "htmltotext-benchmark")
SETS = SIX + (AEB,)
PARTS = ("tune", "check")


@dataclass(frozen=True)
class Page:
    set: str
    id: str
    url: str
    html: bytes
    gold: str

    @property
    def key(self) -> str:
        return f"{self.set}/{self.id}"


def part_of(set_name: str, page_id: str) -> str:
    digest = int(hashlib.sha1(f"{set_name}/{page_id}".encode()).hexdigest(), 16)
    return "tune" if digest % 10 < 7 else "check"


def load_eval_tool(path: Path = DEFAULT_EVAL_TOOL):
    spec = importlib.util.spec_from_file_location("extraction_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    """{"set/id": part} from the committed list."""
    split = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            set_name, page_id, part = line.split("\t")
            split[f"{set_name}/{page_id}"] = part
    return split


def write_split(pages: list[Page], path: Path = SPLIT_FILE) -> None:
    lines = ["# set\tid\tpart (sha1(set/id) mod 10 < 7: tune); pages with non-empty gold"]
    lines += [f"{p.set}\t{p.id}\t{part_of(p.set, p.id)}" for p in pages]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_suite(tool, realdata: Path = DEFAULT_REALDATA, sets=SETS, only: set[str] | None = None) -> list[Page]:
    """Every page with non-empty gold of `sets` (in set order, then the tool's page order);
    `only`: the "set/id" keys to keep."""
    pages = []
    for set_name in sets:
        if set_name == AEB:
            pages += [Page(AEB, p.pid, p.url, p.html, p.gold)
                      for p in tool.load_aeb_set(str(realdata / "html" / "scrapinghub_aeb"))]
        else:
            pages += _load_gold_folder(realdata / "html" / "extraction_gold" / set_name, set_name, only)
    return [p for p in pages if p.gold.strip() and (only is None or p.key in only)]


def _load_gold_folder(folder: Path, set_name: str, only: set[str] | None) -> list[Page]:
    """As the tool's load_gold_folder (index.jsonl, gzipped HTML, plain-text gold)."""
    pages = []
    for line in (folder / "index.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else None
        if item and (only is None or f"{set_name}/{item['id']}" in only):
            with gzip.open(folder / item["html_path"], "rb") as fh:
                html = fh.read()
            gold = (folder / item["gold_path"]).read_text(encoding="utf-8")
            pages.append(Page(set_name, item["id"], item.get("url") or "", html, gold))
    return pages


REGRESSION_PAGES = {"l3s-gn1": 12, "cleaneval": 12, "canola": 8, "cleanportaleval": 8,
                    "google-trends-2017": 8, "htmltotext-benchmark": 6, AEB: 6}


def regression_keys(split: dict[str, str]) -> set[str]:
    """The real-data regression test's 60 check pages: per set, the first of its check pages in
    sha1(set/id) order (a fixed choice that favours no kind of page)."""
    keys = set()
    for set_name, count in REGRESSION_PAGES.items():
        check = [k for k, part in split.items() if part == "check" and k.startswith(set_name + "/")]
        keys.update(sorted(check, key=lambda k: hashlib.sha1(k.encode()).hexdigest())[:count])
    return keys


def check_split(pages: list[Page], split: dict[str, str]) -> None:
    missing = [p.key for p in pages if p.key not in split]
    moved = [p.key for p in pages if p.key in split and split[p.key] != part_of(p.set, p.id)]
    if missing or moved:
        raise SystemExit(f"bench/extraction_split.tsv disagrees with the data: {len(missing)} pages "
                         f"missing (e.g. {missing[:2]}), {len(moved)} in the wrong part (e.g. {moved[:2]})")


def run_extractor(func, pages: list[Page]) -> tuple[list[str], list[float]]:
    """Outputs and CPU seconds (process_time) of each call, after one warm-up call on the first page.
    A raising extractor scores an empty output, as in the evaluation tool."""
    func(pages[0].html, pages[0].url)
    outputs, seconds = [], []
    for page in pages:
        start = time.process_time()
        try:
            text = func(page.html, page.url) or ""
        except Exception:   # a failing extractor is data: an empty output
            text = ""
        seconds.append(time.process_time() - start)
        outputs.append(text)
    return outputs, seconds


def cached_run(name: str, version: str, func, pages: list[Page]) -> tuple[list[str], list[float]]:
    """run_extractor through a per-page cache under runs/extraction_cache/NAME-VERSION/ (keyed by
    the page and the sha1 of its bytes): the slow baselines are measured once."""
    folder = CACHE_DIR / f"{name}-{version}"
    cache = {}
    for path in folder.glob("*.jsonl") if folder.is_dir() else ():
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            cache[(record["key"], record["sha1"])] = (record["text"], record["cpu_s"])
    keys = [(p.key, hashlib.sha1(p.html).hexdigest()) for p in pages]
    todo = [i for i, key in enumerate(keys) if key not in cache]
    if todo:
        outputs, seconds = run_extractor(func, [pages[i] for i in todo])
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{int(time.time() * 1000)}.jsonl", "w", encoding="utf-8") as fh:
            for i, text, cpu in zip(todo, outputs, seconds):
                cache[keys[i]] = (text, cpu)
                fh.write(json.dumps({"key": keys[i][0], "sha1": keys[i][1], "text": text, "cpu_s": cpu},
                                    ensure_ascii=False) + "\n")
    return [cache[k][0] for k in keys], [cache[k][1] for k in keys]


class Scorer:
    """Per-page rows (tp, fp, fn, exact) of the tool, gold bags computed once."""

    def __init__(self, tool, pages: list[Page]):
        self.tool = tool
        self.gold = {}
        for p in pages:
            toks = tool.tokens(p.gold)
            self.gold[p.key] = (toks, tool.shingle_bag(toks, 4))

    def rows(self, pages: list[Page], outputs: list[str]) -> list[tuple]:
        rows = []
        for page, text in zip(pages, outputs):
            gold_toks, gold_bag = self.gold[page.key]
            toks = self.tool.tokens(text)
            rows.append(self.tool.bag_overlap(gold_bag, self.tool.shingle_bag(toks, 4))
                        + (float(toks == gold_toks),))
        return rows

    def metrics(self, rows, n_boot: int = 0, seed: int = 0, other=None) -> dict:
        """precision / recall / f1 (and, with n_boot, their 95% half-widths: of the difference from
        `other`'s rows when given, paired by page)."""
        value = self.tool.bag_metrics(rows)
        if other is not None:
            value = {k: value[k] - self.tool.bag_metrics(other)[k] for k in value}
        if n_boot:
            ci = self.tool.bootstrap(rows, self.tool.bag_metrics, n_boot, seed, other_rows=other)
            value["ci95"] = {k: v[1] for k, v in ci.items()}
        return value
