"""The one generic reader of plain corpora: JSONL (.jsonl, .json, .ndjson, optionally .gz/.bz2/.xz/.zst),
Parquet, folders of .txt files, and stage outputs already in the document schema.

    df = read_corpus(spark, ["data/positives/", "more.jsonl.gz"], "webtext", config, text_field="text")
    docs = kept(df)                        # the documents; `reason_counts(df)` gives the drop reasons
    plan_corpus([...], "webtext", config).write(spark, "curated/webtext")   # tasks write the Parquet

The driver only lists files and peeks at the first records of each spec, so a wrong field name fails
before any Spark job with one line naming the fields it did find (InputError). Each file (or byte range
of a large uncompressed JSONL file, or Parquet file of a document folder) is one task, read inside
the executor that owns it and emitted as Arrow batches in the staged document schema (document +
`drop_reason`, null = kept): as a DataFrame (`read_corpus`), or written by the task itself
(`ReadPlan.write`, the ingest job). A bad record
never stops the job: it becomes a row with text null and a named reason (`read:not_json`,
`read:missing_text`, `read:not_utf8`, `read:empty_file`, `read:truncated`, `read:unreadable`),
logged once with its file and position. Ids are stable: the id field when given, else
`<file>@<byte offset>` (Parquet: `<file>@<row>`; .txt: `<file>`, or `<file>@<offset>` per block).
"""
from __future__ import annotations

import json
import logging
import lzma
import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import fsspec
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.config import InputError
from pipeline.core.hashing import text_digest
from pipeline.core.schema import DOC_ARROW_SCHEMA, DOC_COLUMNS, DROP_REASON, docs_to_arrow, empty_doc
from pipeline.core.task_output import parquet_files
from pipeline.readers.read_plan import ReadPlan, batched

log = logging.getLogger("webmix.readers.corpus")

STEP = "read"
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
# Errors a damaged compressed stream raises while being read (truncated gzip: EOFError).
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
PEEK_RECORDS = 20
MAX_LOGGED_PER_FILE = 5

DEFAULTS = {"batch_rows": 500, "split_bytes": 128 << 20, "min_chars": 1, "legacy_encoding": None}


@dataclass(frozen=True)
class FileTask:
    """One unit of reading work: a file, or a byte range [start, end) of an uncompressed JSONL file."""
    path: str            # as fsspec opens it
    rel: str             # the stable name used in ids: spec folder name + path inside it
    kind: str            # jsonl | parquet | txt | docs
    compression: str | None = None
    start: int = 0
    end: int = -1        # -1: to the end of the file


def settings(config: dict | None) -> dict:
    """The `ingest` section's reader keys, with defaults when the caller's config lacks them."""
    section = (config or {}).get("ingest") or {}
    return {k: section.get(k, v) for k, v in DEFAULTS.items()}


# --- listing and peeking (driver) ---------------------------------------------------------------

def _suffixes(name: str) -> tuple[str, str | None]:
    """`a.jsonl.gz` -> ("a.jsonl" suffix kind, compression)."""
    lower = name.lower()
    compression = None
    for ext, codec in COMPRESSIONS.items():
        if lower.endswith(ext):
            compression, lower = codec, lower[: -len(ext)]
            break
    if lower.endswith(JSONL_SUFFIXES):
        return "jsonl", compression
    if lower.endswith(".parquet") and compression is None:
        return "parquet", None
    if lower.endswith((".txt", ".tokens")):
        return "txt", compression
    return "", compression


def _doc_folder_files(spec: str) -> list[str]:
    """The Parquet files of a stage output already in the document schema; [] for any other folder."""
    fs, root = fsspec.core.url_to_fs(spec)
    if not fs.exists(root.rstrip("/") + "/_SUCCESS"):
        return []
    parts = parquet_files(spec)
    if not parts:
        return []
    import pyarrow.parquet as pq
    try:
        with fs.open(parts[0], "rb") as fh:
            names = set(pq.read_schema(fh).names)
    except (OSError, pa.ArrowInvalid):
        return []       # not readable as Parquet: its files are read one by one (and counted)
    return parts if set(DOC_COLUMNS) <= names else []


def list_tasks(specs: Iterable[str], split_bytes: int = DEFAULTS["split_bytes"],
               kinds: tuple[str, ...] = ("jsonl", "parquet", "txt", "docs")) -> list[FileTask]:
    """Expand specs (files, folders, globs) into read tasks, sorted, so that ids and task order are
    the same on every run. A spec that matches nothing readable is an InputError."""
    tasks: list[FileTask] = []
    for spec in specs:
        fs, root = fsspec.core.url_to_fs(spec)
        protocol = spec.split("://", 1)[0] + "://" if "://" in spec else ""
        if fs.isdir(root):
            doc_files = _doc_folder_files(spec) if "docs" in kinds else []
            if doc_files:
                name = os.path.basename(root.rstrip("/"))
                prefix = len(root.rstrip("/"))
                for url in doc_files:   # parquet_files gives URLs off the local disk
                    tasks.append(FileTask(url, name + url.split("://", 1)[-1][prefix:], "docs"))
                continue
            base = os.path.dirname(root.rstrip("/"))
            paths = sorted(fs.find(root))
        else:
            paths = sorted(fs.glob(root)) if any(c in root for c in "*?[") else [root]
            base = None
            if not paths or not fs.exists(paths[0]):
                raise InputError(f"input not found: {spec}")
        found = 0
        for path in paths:
            name = os.path.basename(path)
            if name.startswith((".", "_")):
                continue
            kind, compression = _suffixes(name)
            if kind not in kinds:
                if base is None:
                    raise InputError(f"input {spec}: cannot tell the format of {name} "
                                     f"(expected {', '.join(kinds)} files)")
                continue
            rel = os.path.relpath(path, base) if base is not None else name
            url = protocol + path if protocol and "://" not in path else path
            found += 1
            size = fs.size(path) if kind == "jsonl" and compression is None else 0
            if size and size > split_bytes:
                for start in range(0, size, split_bytes):
                    tasks.append(FileTask(url, rel, kind, None, start, min(start + split_bytes, size)))
            else:
                tasks.append(FileTask(url, rel, kind, compression))
        if not found:
            raise InputError(f"input {spec}: no {'/'.join(kinds)} files found")
    return tasks


def _field(record: Any, name: str) -> Any:
    """`a.b` reads nested objects; None when absent."""
    for part in name.split("."):
        if not isinstance(record, dict) or part not in record:
            return None
        record = record[part]
    return record


def _peek_jsonl(task: FileTask) -> set[str]:
    fields: set[str] = set()
    seen = 0
    try:
        with fsspec.open(task.path, "rb", compression=task.compression) as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    fields.update(_flat_keys(record))
                    seen += 1
                    if seen >= PEEK_RECORDS:
                        break
    except STREAM_ERRORS:
        pass  # a damaged file is counted by its task; its first records were peeked if any
    return fields


def _flat_keys(record: dict, prefix: str = "") -> Iterator[str]:
    for key, value in record.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _flat_keys(value, f"{prefix}{key}.")


def _peek_parquet(task: FileTask) -> set[str]:
    import pyarrow.parquet as pq
    with fsspec.open(task.path, "rb") as fh:
        schema = pq.read_schema(fh)
    return set(schema.names)


def check_fields(tasks: list[FileTask], text_field: str, id_field: str | None = None,
                 url_field: str | None = None, date_field: str | None = None) -> None:
    """Peek at the first records of the first file of each format; a named field that none of them
    has raises InputError naming the fields that were found."""
    wanted = [("text", text_field), ("id", id_field), ("url", url_field), ("date", date_field)]
    for kind, peek in (("jsonl", _peek_jsonl), ("parquet", _peek_parquet)):
        first = next((t for t in tasks if t.kind == kind), None)
        if first is None:
            continue
        found = peek(first)
        if not found:
            continue  # nothing parseable to judge by: the task counts the bad records
        for role, name in wanted:
            if name and name not in found:
                top = ", ".join(sorted(f for f in found if "." not in f))
                raise InputError(f"{role} field '{name}' not in {first.rel}; fields found: {top}")


# --- reading (executors) ------------------------------------------------------------------------

class BadRecordLog:
    """Logs the first few bad records of a file with their position, then a count at the end."""

    def __init__(self, rel: str):
        self.rel, self.count = rel, 0

    def __call__(self, reason: str, position: Any, detail: str = "") -> None:
        self.count += 1
        if self.count <= MAX_LOGGED_PER_FILE:
            log.warning("%s at %s: %s %s", self.rel, position, reason, detail)

    def close(self) -> None:
        if self.count > MAX_LOGGED_PER_FILE:
            log.warning("%s: %d bad records in all (first %d logged)", self.rel, self.count,
                        MAX_LOGGED_PER_FILE)


def dropped(doc_id: str, reason: str, source: str, meta: dict | None = None) -> dict:
    """A row that records a skipped input: no text, a `step:reason`."""
    return empty_doc(id=doc_id, source=source, meta=meta, **{DROP_REASON: reason})


def document(doc_id: str, text: str, source: str, *, url: str | None = None,
             date: datetime | None = None, meta: dict | None = None) -> dict:
    return empty_doc(id=doc_id, digest=text_digest(text), text=text, source=source, url=url,
                     date=date, meta=meta, **{DROP_REASON: None})


def decode(data: bytes, legacy_encoding: str | None = None) -> str | None:
    """UTF-8 (a BOM dropped); else the configured legacy encoding; else None (caller drops it)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode(legacy_encoding, errors="replace") if legacy_encoding else None


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 text or epoch seconds -> aware UTC datetime; anything else -> None (never raises)."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    return None


def _jsonl_lines(task: FileTask) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) of the lines that start inside the task's range."""
    with fsspec.open(task.path, "rb", compression=task.compression) as fh:
        offset = 0
        if task.start:
            fh.seek(task.start - 1)
            offset = task.start - 1 + len(fh.readline())   # the line that started before us
        for line in fh:
            if task.end >= 0 and offset >= task.end:
                break
            yield offset, line
            offset += len(line)


def read_jsonl(task: FileTask, source: str, opts: dict) -> Iterator[dict]:
    bad = BadRecordLog(task.rel)
    text_field, id_field = opts["text_field"], opts.get("id_field")
    url_field, date_field = opts.get("url_field"), opts.get("date_field")
    records = 0
    try:
        for offset, line in _jsonl_lines(task):
            pos_id = f"{task.rel}@{offset}"
            if not line.strip():
                continue
            records += 1
            try:
                record = json.loads(line)
            except ValueError as exc:
                bad("not_json", offset, str(exc)[:80])
                yield dropped(pos_id, f"{STEP}:not_json", source, {"file": task.rel})
                continue
            text = _field(record, text_field)
            given_id = _field(record, id_field) if id_field else None
            doc_id = str(given_id) if given_id not in (None, "") else pos_id
            if not isinstance(text, str) or len(text.strip()) < opts["min_chars"]:
                bad("missing_text", offset)
                yield dropped(doc_id, f"{STEP}:missing_text", source, {"file": task.rel})
                continue
            url = _field(record, url_field) if url_field else None
            yield document(doc_id, text, source, url=str(url) if url is not None else None,
                           date=parse_date(_field(record, date_field)) if date_field else None,
                           meta={"file": task.rel, "offset": str(offset)})
    except STREAM_ERRORS as exc:
        bad("truncated", "end", repr(exc)[:80])
        yield dropped(f"{task.rel}@truncated", f"{STEP}:truncated", source, {"file": task.rel})
        records += 1
    if records == 0 and task.start == 0:
        bad("empty_file", 0)
        yield dropped(f"{task.rel}@0", f"{STEP}:empty_file", source, {"file": task.rel})
    bad.close()


def read_parquet(task: FileTask, source: str, opts: dict) -> Iterator[dict]:
    import pyarrow.parquet as pq
    bad = BadRecordLog(task.rel)
    fields = [f for f in (opts["text_field"], opts.get("id_field"), opts.get("url_field"),
                          opts.get("date_field")) if f]
    row = 0
    with fsspec.open(task.path, "rb") as fh:
        for batch in pq.ParquetFile(fh).iter_batches(batch_size=1000, columns=sorted(set(fields))):
            cols = batch.to_pydict()
            for i in range(batch.num_rows):
                pos_id = f"{task.rel}@{row}"
                text = cols[opts["text_field"]][i]
                given_id = cols[opts["id_field"]][i] if opts.get("id_field") else None
                doc_id = str(given_id) if given_id not in (None, "") else pos_id
                if not isinstance(text, str) or len(text.strip()) < opts["min_chars"]:
                    bad("missing_text", f"row {row}")
                    yield dropped(doc_id, f"{STEP}:missing_text", source, {"file": task.rel})
                else:
                    url = cols[opts["url_field"]][i] if opts.get("url_field") else None
                    date = cols[opts["date_field"]][i] if opts.get("date_field") else None
                    yield document(doc_id, text, source, url=url and str(url),
                                   date=date if isinstance(date, datetime) else parse_date(date),
                                   meta={"file": task.rel, "row": str(row)})
                row += 1
    if row == 0:
        yield dropped(f"{task.rel}@0", f"{STEP}:empty_file", source, {"file": task.rel})
    bad.close()


def read_bytes(task: FileTask) -> bytes:
    with fsspec.open(task.path, "rb", compression=task.compression) as fh:
        return fh.read()


def read_text_file(task: FileTask, source: str, opts: dict) -> tuple[str | None, dict | None]:
    """The decoded text of a .txt task, or (None, drop row) when it is unreadable, empty or not UTF-8."""
    bad = BadRecordLog(task.rel)
    try:
        data = read_bytes(task)
    except STREAM_ERRORS as exc:
        bad("unreadable", 0, repr(exc)[:80])
        return None, dropped(task.rel, f"{STEP}:unreadable", source, {"file": task.rel})
    if not data.strip():
        bad("empty_file", 0)
        return None, dropped(task.rel, f"{STEP}:empty_file", source, {"file": task.rel})
    text = decode(data, opts.get("legacy_encoding"))
    if text is None:
        bad("not_utf8", 0, "(set ingest.legacy_encoding to read it)")
        return None, dropped(task.rel, f"{STEP}:not_utf8", source, {"file": task.rel})
    return text.replace("\r\n", "\n"), None


def text_blocks(text: str) -> Iterator[tuple[int, str]]:
    """(character offset, block) of the blank-line-separated blocks of a text."""
    offset = 0
    for block in text.split("\n\n"):
        if block.strip():
            yield offset, block.strip("\n")
        offset += len(block) + 2


def read_txt(task: FileTask, source: str, opts: dict) -> Iterator[dict]:
    text, failure = read_text_file(task, source, opts)
    if failure is not None:
        yield failure
        return
    if opts.get("txt_mode", "file") == "blocks":
        for offset, block in text_blocks(text):
            if len(block.strip()) >= opts["min_chars"]:
                yield document(f"{task.rel}@{offset}", block, source,
                               meta={"file": task.rel, "offset": str(offset)})
    else:
        yield document(task.rel, text.strip("\n"), source, meta={"file": task.rel})


READERS: dict[str, Callable[[FileTask, str, dict], Iterator[dict]]] = {
    "jsonl": read_jsonl, "parquet": read_parquet, "txt": read_txt,
}


def task_rows(task: FileTask, source: str, opts: dict) -> Iterator[dict]:
    """All rows of one task; an I/O failure past the reader's own handling becomes one drop row."""
    try:
        yield from READERS[task.kind](task, source, opts)
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable: %r", task.rel, exc)
        yield dropped(f"{task.rel}@{task.start}", f"{STEP}:unreadable", source, {"file": task.rel})


# --- document folders, and a whole corpus -------------------------------------------------------

def read_docs(task: FileTask, source: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """One Parquet file of a stage output already in the document schema, as is (its own `source`
    kept where set), in the staged schema."""
    import pyarrow.parquet as pq
    try:
        with fsspec.open(task.path, "rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=batch_rows, columns=DOC_COLUMNS):
                docs = pa.Table.from_batches([batch]).cast(DOC_ARROW_SCHEMA)
                docs = docs.set_column(DOC_COLUMNS.index("source"), "source",
                                       pc.fill_null(docs.column("source"), source))
                staged = docs.append_column(DROP_REASON, pa.nulls(docs.num_rows, pa.string()))
                yield from staged.to_batches()
    except (OSError, pa.ArrowException) as exc:
        log.warning("%s: unreadable: %r", task.rel, exc)
        yield docs_to_arrow([dropped(f"{task.rel}@0", f"{STEP}:unreadable", source, {"file": task.rel})])


def plan_corpus(specs: list[str], source: str, config: dict | None = None, *,
                text_field: str = "text", id_field: str | None = None, url_field: str | None = None,
                date_field: str | None = None, txt_mode: str = "file",
                formats: tuple[str, ...] = ("jsonl", "parquet", "txt", "docs")) -> ReadPlan:
    """JSONL / Parquet / .txt folders / document-schema folders -> a ReadPlan. `formats` limits
    which files a folder contributes. Raises InputError (before any Spark job) when an input is
    missing or a named field is absent from the first records."""
    if txt_mode not in ("file", "blocks"):
        raise InputError(f"txt_mode must be 'file' or 'blocks', got {txt_mode!r}")
    opts = settings(config)
    tasks = list_tasks(specs, opts["split_bytes"], kinds=formats)
    check_fields(tasks, text_field, id_field, url_field, date_field)
    opts.update(text_field=text_field, id_field=id_field, url_field=url_field,
                date_field=date_field, txt_mode=txt_mode)
    batch_rows = opts["batch_rows"]

    def batches_of(task: FileTask) -> Iterable[pa.RecordBatch]:
        if task.kind == "docs":
            return read_docs(task, source, batch_rows)
        return batched(task_rows(task, source, opts), batch_rows)

    return ReadPlan(tasks, batches_of)


def read_corpus(spark, specs: list[str], source: str, config: dict | None = None, **fields):
    """`plan_corpus(...)` as a DataFrame of staged rows: `kept(df)` are the documents,
    `reason_counts(df)` the drop reasons."""
    return plan_corpus(specs, source, config, **fields).staged(spark)


def kept(df):
    """The documents of a staged frame: rows without a drop reason, document columns only."""
    return df.where(df[DROP_REASON].isNull()).select(*DOC_COLUMNS)


__all__ = ["read_corpus", "plan_corpus", "kept", "list_tasks", "check_fields", "FileTask", "document",
           "dropped", "decode", "parse_date", "BadRecordLog"]
