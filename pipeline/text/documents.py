"""WARC records -> staged document rows, in the Python worker that owns the file.

`DocumentMaker.file_batches(path)` reads one file (pipeline.readers.warc), extracts each HTML page
as soon as it is read (so at most one raw page is in memory), then runs language ID and the
heuristics on batches of `langid.batch_size` texts and yields Arrow-ready rows in the staged schema
(documents + `drop_reason`, null = kept); an optional per-batch step (the quality filter's scoring,
pipeline.quality.keep) runs last on each batch, in the same pass. The last batch of a file also carries one *file row*
(`kind = "file"`): how the file ended (`file:<outcome>`), its record counts, the seconds each step
took and the worker's peak memory, so `_stats.json` is computed from the data, never from
accumulators. Rows dropped after extraction keep only a snippet of their text, so a cached
DataFrame stays small.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Iterator

import pyarrow as pa

from pipeline.core.hashing import text_digest
from pipeline.core.schema import STAGED_ARROW_SCHEMA, STAGED_SPARK_DDL, docs_to_arrow
from pipeline.readers.warc import ReadSettings, Record, WarcFile
from pipeline.text import langid
from pipeline.text.extract import ExtractCaps, extract_page
from pipeline.text.heuristics import rules_for

KIND = "kind"
DOC, FILE = "doc", "file"
READ_ARROW_SCHEMA = STAGED_ARROW_SCHEMA.append(pa.field(KIND, pa.string()))
READ_SPARK_DDL = STAGED_SPARK_DDL + f", {KIND} string"
SNIPPET_CHARS = 300
STEPS = ("read", "extract", "langid", "heuristics", "score")
BatchStep = Callable[[list[dict]], list[dict]]


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM), 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class DocumentMaker:
    """Per-worker state (extraction caps, compiled heuristics, the optional last step); the fastText
    model is cached by pipeline.text.langid for the life of the worker."""

    def __init__(self, config: dict, source: str, last_step: BatchStep | None = None):
        self.source = source
        self.last_step = last_step
        self.settings = ReadSettings.from_config(config)
        self.caps = ExtractCaps.from_config(config["extract"])
        self.min_text_chars = int(config["extract"].get("min_text_chars", 1))
        self.lang_section = config["langid"]
        self.languages = frozenset(config["langid"]["languages"])
        self.min_score = float(config["langid"]["min_score"])
        self.rules = rules_for(config["heuristics"])
        self.batch_rows = max(1, int(config["langid"]["batch_size"]))

    # --- one record ------------------------------------------------------------------------------
    def _row(self, rec: Record, seconds: Counter) -> dict:
        row = {"id": rec.id, "source": self.source, "url": rec.url, "date": rec.date, "meta": rec.meta,
               "drop_reason": rec.drop_reason, KIND: DOC, "text": rec.text}
        if rec.payload is not None and rec.drop_reason is None:
            start = time.perf_counter()
            text, reason = extract_page(rec.payload, rec.url or "", self.caps, rec.charset)
            seconds["extract"] += time.perf_counter() - start
            row["text"] = text
            row["drop_reason"] = f"extract:{reason}" if reason else None
        if row["drop_reason"] is None:
            text = (row["text"] or "").strip()
            if len(text) < self.min_text_chars:
                row["drop_reason"], row["text"] = "extract:empty", None
        return row

    # --- a batch of rows: language ID and heuristics on the texts still kept --------------------------
    def _finish(self, rows: list[dict], seconds: Counter) -> list[dict]:
        live = [row for row in rows if row["drop_reason"] is None]
        if live:
            start = time.perf_counter()
            langs, scores = langid.predict([row["text"] for row in live], self.lang_section)
            seconds["langid"] += time.perf_counter() - start
            start = time.perf_counter()
            for row, lang, score in zip(live, langs, scores):
                row["lang"], row["lang_score"] = lang, float(score)
                reason = langid.drop_reason(lang, float(score), self.languages, self.min_score)
                if reason is None:
                    text, reason = self.rules.apply(row["text"], lang)
                    if reason is None:
                        row["text"], row["digest"] = text, text_digest(text)
                row["drop_reason"] = reason
            seconds["heuristics"] += time.perf_counter() - start
        if self.last_step is not None:
            start = time.perf_counter()
            rows = self.last_step(rows)
            seconds["score"] += time.perf_counter() - start
        for row in rows:
            if row["drop_reason"] is not None and row["text"]:
                row["text"] = row["text"][:SNIPPET_CHARS]
        return rows

    def _file_row(self, warc: WarcFile, seconds: Counter, documents: int) -> dict:
        out = warc.outcome
        meta = {"warc_file": warc.name, "records": str(out.records), "documents": str(documents),
                "offset": str(out.offset), "peak_rss_kb": str(peak_rss_kb())}
        meta.update({f"records_{k}": str(v) for k, v in sorted(out.record_types.items())})
        meta.update({f"seconds_{step}": f"{seconds[step]:.6f}" for step in STEPS})
        if out.error:
            meta["error"] = out.error
        return {"id": out.path, "source": self.source, "meta": meta,
                "drop_reason": f"file:{out.outcome}", KIND: FILE}

    def file_batches(self, path: str) -> Iterator[list[dict]]:
        """Rows of one file in batches; the last batch ends with the file row."""
        seconds: Counter = Counter()
        warc = WarcFile(path, self.settings)
        records = iter(warc)
        pending: list[dict] = []
        documents = 0
        while True:
            start = time.perf_counter()
            rec = next(records, None)
            seconds["read"] += time.perf_counter() - start
            if rec is None:
                break
            pending.append(self._row(rec, seconds))
            documents += 1
            if len(pending) >= self.batch_rows:
                yield self._finish(pending, seconds)
                pending = []
        yield self._finish(pending, seconds) + [self._file_row(warc, seconds, documents)]


def read_partition(config: dict, source: str, last_step: BatchStep | None = None):
    """The mapInArrow function: batches of `path` rows in, staged rows (+ file rows) out."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        maker = DocumentMaker(config, source, last_step)
        for batch in batches:
            for path in batch.column("path").to_pylist():
                for rows in maker.file_batches(path):
                    if rows:
                        yield docs_to_arrow(rows, READ_ARROW_SCHEMA)
    return run
