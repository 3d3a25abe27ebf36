"""Wikipedia articles from MediaWiki XML dumps: pages -> clean prose documents.

A page becomes a document when it is in an article namespace, not a redirect, not a disambiguation
page, and its cleaned text has at least `ingest.wikipedia_min_chars` characters; otherwise it is a
row with a named reason (`wikipedia:namespace`, `:redirect`, `:disambiguation`, `:stub`), and
damaged input is counted too (`wikipedia:truncated`, `:corrupt_bz2`, `:bad_xml`, `:unreadable`,
`:clean_error`). Ids are `<dbname>:<page id>` (e.g. `enwiki:12`): the same on every run and split.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

import fsspec

from pipeline.core.config import InputError
from pipeline.curated import mediawiki, wikitext
from pipeline.readers.corpus import BadRecordLog, document, dropped, parse_date
from pipeline.readers.read_plan import ReadPlan, row_plan

log = logging.getLogger("webmix.curated.wikipedia")

STEP = "wikipedia"
DUMP_SUFFIXES = (".xml.bz2", ".xml")


@dataclass(frozen=True)
class DumpTask:
    path: str
    rel: str
    start: int
    end: int
    site: mediawiki.SiteInfo | None     # None: the header could not be read (the task counts it)


@dataclass(frozen=True)
class PageRules:
    namespaces: frozenset[int]
    min_chars: int
    disambiguation: frozenset[str]
    names: wikitext.WikiNames
    base_url: str | None

    @classmethod
    def from_config(cls, section: dict, site: mediawiki.SiteInfo) -> "PageRules":
        files = site.names(6) | site.names(-2) | {"file", "image", "media"}
        categories = site.names(14) | {"category"}
        drop = frozenset(s.lower() for s in section["wikipedia_drop_sections"])
        return cls(namespaces=frozenset(section["wikipedia_namespaces"]),
                   min_chars=section["wikipedia_min_chars"],
                   disambiguation=frozenset(t.lower() for t in section["wikipedia_disambiguation_templates"]),
                   names=wikitext.WikiNames(frozenset(files), frozenset(categories), drop),
                   base_url=section["wikipedia_base_url"] or site.base_url)


def list_dumps(specs: list[str]) -> list[tuple[str, str, int]]:
    """(path, stable name, compressed size) of every dump a spec names; index files are skipped."""
    found = []
    for spec in specs:
        fs, root = fsspec.core.url_to_fs(spec)
        protocol = spec.split("://", 1)[0] + "://" if "://" in spec else ""
        if fs.isdir(root):
            paths = [p for p in sorted(fs.find(root)) if p.endswith(DUMP_SUFFIXES) and "-index" not in p]
        else:
            paths = sorted(fs.glob(root)) if any(c in root for c in "*?[") else [root]
            if not paths or not fs.exists(paths[0]):
                raise InputError(f"input not found: {spec}")
        if not paths:
            raise InputError(f"input {spec}: no .xml.bz2 / .xml dump files found")
        for path in paths:
            url = protocol + path if protocol and "://" not in path else path
            found.append((url, os.path.basename(path), fs.size(path)))
    return found


def plan_tasks(specs: list[str], split_bytes: int) -> list[DumpTask]:
    """Byte ranges of `split_bytes` compressed bytes; each task reads the bz2 streams that start in
    its range (see pipeline/curated/mediawiki.py)."""
    tasks = []
    for path, rel, size in list_dumps(specs):
        try:
            site = mediawiki.read_siteinfo(path)
        except (ValueError, OSError, EOFError) as exc:
            log.warning("%s: not readable as a MediaWiki dump: %s", rel, exc)
            tasks.append(DumpTask(path, rel, 0, size, None))
            continue
        ranges = range(0, size, split_bytes) if path.endswith(".bz2") else [0]
        tasks.extend(DumpTask(path, rel, start, min(start + split_bytes, size), site) for start in ranges)
    return tasks


def article_url(base_url: str | None, title: str) -> str | None:
    return base_url + quote(title.replace(" ", "_"), safe="/:()',!*;@$&+=~-.") if base_url else None


def page_row(page: mediawiki.Page, rules: PageRules, dbname: str, rel: str, source: str,
             bad: BadRecordLog) -> dict:
    """One page -> a document, or a row with the reason it is skipped."""
    doc_id = f"{dbname}:{page.page_id}"
    meta = {"title": page.title, "page_id": page.page_id, "revision_time": page.timestamp or "",
            "dump": rel}
    if page.ns not in rules.namespaces:
        return dropped(doc_id, f"{STEP}:namespace", source, meta)
    if page.redirect or page.text.lstrip()[:9].lower() == "#redirect":
        return dropped(doc_id, f"{STEP}:redirect", source, meta)
    try:
        code = wikitext.parse(page.text)
        if (page.title.endswith("(disambiguation)")
                or wikitext.top_templates(code) & rules.disambiguation):
            return dropped(doc_id, f"{STEP}:disambiguation", source, meta)
        text = wikitext.clean_parsed(code, rules.names)
    except Exception as exc:  # noqa: BLE001 - a parser bug on one page must not lose the task
        bad("clean_error", doc_id, repr(exc)[:120])
        return dropped(doc_id, f"{STEP}:clean_error", source, meta)
    if len(text) < rules.min_chars:
        return dropped(doc_id, f"{STEP}:stub", source, meta)
    return document(doc_id, text, source, url=article_url(rules.base_url, page.title),
                    date=parse_date(page.timestamp), meta=meta)


def task_rows(task: DumpTask, source: str, section: dict) -> Iterator[dict]:
    bad = BadRecordLog(task.rel)
    if task.site is None:
        bad("unreadable", 0)
        yield dropped(f"{task.rel}@0", f"{STEP}:unreadable", source, {"dump": task.rel})
        return
    rules = PageRules.from_config(section, task.site)
    for item in mediawiki.iter_pages(task.path, task.start, task.end, task.site.encoding):
        if isinstance(item, mediawiki.PageError):
            bad(item.reason, item.position, item.detail[:120])
            yield dropped(f"{task.rel}@{item.position}", f"{STEP}:{item.reason}", source,
                          {"dump": task.rel})
        else:
            yield page_row(item[1], rules, task.site.dbname, task.rel, source, bad)
    bad.close()


def plan_wikipedia(specs: list[str], source: str, config: dict) -> ReadPlan:
    """MediaWiki dumps -> a ReadPlan of staged document rows, one task per byte range."""
    section = config["ingest"]
    tasks = plan_tasks(specs, section["wikipedia_split_bytes"])
    return row_plan(tasks, lambda t: task_rows(t, source, section), section["batch_rows"])
