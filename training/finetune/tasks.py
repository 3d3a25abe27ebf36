"""A task's rows: read them (tsv, {id: record} JSON, or parallel line files), turn each into an Item
(its texts by role and its label), skip bad rows under a named reason, and split train / select / dev.

Reasons a row is skipped (counted, logged once each): missing_field (a role's column absent from the
row or empty), unknown_label (a value not in the task's `labels`), bad_score (a regression target
that is not a number), bad_options (a multiple-choice row whose options do not parse or number
differently from `labels`).

Splits: dev is the task's dev file, or, for a task with one `single` labelled file, a hash share of
it (`dev_fraction`). The checkpoint is chosen on `select`, a hash share (`select_fraction`) of train;
dev is evaluated once, with the chosen weights. Hashes are of the row's texts, seeded, so a split is
the same on every run and duplicate rows land on the same side.
"""
from __future__ import annotations

import csv
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.config import ConfigError, InputError
from pipeline.core.hashing import uniform
from training.finetune.config import FinetuneSettings, TaskSpec

log = logging.getLogger("webmix.finetune")

# csv refuses fields over 128 KiB by default; a long RTE premise must not kill the run.
csv.field_size_limit(1 << 24)
LETTERED = re.compile(r"\s*\(([A-Z])\)\s*")
TEXT_ROLES = ("text", "premise", "hypothesis", "a", "b", "context", "options")


@dataclass
class Item:
    key: str                         # the row's texts joined: what splits hash
    texts: dict                      # role -> str (options: list[str])
    label: float | int


@dataclass
class TaskData:
    train: list[Item]
    select: list[Item]
    dev: list[Item]
    skipped: Counter = field(default_factory=Counter)
    read: int = 0


def _open(path: Path, encoding: str):
    if not path.is_file():
        raise InputError(f"task data file not found: {path}")
    return open(path, encoding=encoding, newline="")


def _read_tsv(path: Path, spec) -> tuple[list[str], list[dict]]:
    quoting = csv.QUOTE_NONE if spec.quoting == "none" else csv.QUOTE_MINIMAL
    with _open(path, spec.encoding) as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=quoting)
        columns = next(reader, []) if spec.header else list(spec.columns)
        columns = [c.strip() for c in columns]
        rows = [dict(zip(columns, values)) for values in reader]  # a short row lacks its last keys
    return columns, rows


def _read_json_records(path: Path, spec) -> tuple[list[str], list[dict]]:
    with _open(path, spec.encoding) as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise InputError(f"task data file {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    records = list(data.values()) if isinstance(data, dict) else list(data)
    records = [r for r in records if isinstance(r, dict)]
    return (list(records[0]) if records else []), records


def _read_lines(template: Path, spec, columns: list[str]) -> tuple[list[str], list[dict]]:
    """One file per column, `{column}` in the path naming it; row i is line i of every file."""
    present = [c for c in columns if Path(str(template).format(column=c)).is_file()]
    lines = {}
    for column in present:
        with _open(Path(str(template).format(column=column)), spec.encoding) as fh:
            lines[column] = fh.read().splitlines()
    counts = {len(v) for v in lines.values()}
    if len(counts) > 1:
        raise InputError(f"task data {template}: the column files have different line counts {sorted(counts)}")
    n = counts.pop() if counts else 0
    return present, [{c: lines[c][i] for c in present} for i in range(n)]


def _columns_of(task: TaskSpec) -> list[str]:
    out = []
    for value in task.fields.values():
        out.extend(value if isinstance(value, list) else [value])
    return out


def read_file(task: TaskSpec, relative: str) -> list[dict]:
    """Rows of one data file as {column: value}; a field naming a column the file lacks stops here
    (ConfigError, one line), before anything trains."""
    spec, path = task.data, task.data.base() / relative
    wanted = _columns_of(task)
    if spec.format == "tsv":
        columns, rows = _read_tsv(path, spec)
    elif spec.format == "json_records":
        columns, rows = _read_json_records(path, spec)
    else:
        if "{column}" not in relative:
            raise ConfigError(f"task {task.name}: data format 'lines' needs {{column}} in the path {relative!r}")
        columns, rows = _read_lines(path, spec, wanted)
    absent = [c for c in wanted if c not in columns]
    if absent:
        raise ConfigError(f"task {task.name}: field column {absent[0]!r} does not exist in {path} "
                          f"(columns: {', '.join(columns) or 'none'})")
    return rows


def _text(row: dict, column: str) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _options(row: dict, columns) -> list[str] | None:
    if isinstance(columns, list):
        return [_text(row, c) for c in columns]
    raw = _text(row, columns)
    if raw is None:
        return None
    parts = LETTERED.split(raw)  # "(A) x (B) y" -> ["", "A", "x", "B", "y"]
    letters, texts = parts[1::2], [p.strip() for p in parts[2::2]]
    if parts[0].strip() or letters != [chr(ord("A") + i) for i in range(len(letters))]:
        return []
    return texts


def to_item(task: TaskSpec, row: dict) -> tuple[Item | None, str | None]:
    """(item, None), or (None, the reason the row is skipped)."""
    texts = {}
    for role in (r for r in task.fields if r in TEXT_ROLES):
        columns = task.fields[role]
        if role == "options":
            options = _options(row, columns)
            if options is None or any(o is None for o in options):
                return None, "missing_field"
            if len(options) != len(task.labels):
                return None, "bad_options"
            texts[role] = options
            continue
        parts = [_text(row, c) for c in (columns if isinstance(columns, list) else [columns])]
        if any(p is None for p in parts):
            return None, "missing_field"
        texts[role] = " ".join(parts)
    raw_label = _text(row, task.fields["label"])
    if raw_label is None:
        return None, "missing_field"
    if task.target == "regression":
        try:
            label: float | int = float(raw_label)
        except ValueError:
            return None, "bad_score"
        if label != label:  # NaN
            return None, "bad_score"
    elif raw_label in task.labels:
        label = task.labels.index(raw_label)
    else:
        return None, "unknown_label"
    key = "\x1f".join(t if isinstance(t, str) else "\x1e".join(t) for t in texts.values())
    return Item(key, texts, label), None


def to_items(task: TaskSpec, rows: list[dict], skipped: Counter) -> list[Item]:
    items = []
    for row in rows:
        item, reason = to_item(task, row)
        if item is None:
            skipped[reason] += 1
        else:
            items.append(item)
    return items


def _share(items: list[Item], seed: int, salt: str, fraction: float) -> tuple[list[Item], list[Item]]:
    """(rest, the hash share `fraction` of items)."""
    inside = [uniform(seed, item.key, salt) < fraction for item in items]
    return ([i for i, x in zip(items, inside) if not x], [i for i, x in zip(items, inside) if x])


def _subset(items: list[Item], n: int, seed: int) -> list[Item]:
    """n items chosen by hash (files are often sorted, so not the head); all when n is 0."""
    if not n or len(items) <= n:
        return items
    return sorted(items, key=lambda item: uniform(seed, item.key, "subset"))[:n]


def load_task_data(task: TaskSpec, settings: FinetuneSettings) -> TaskData:
    """Every split of the task, bad rows counted; logs each skip reason once."""
    skipped: Counter = Counter()
    spec = task.data
    if spec.single:
        rows = read_file(task, spec.single)
        pool, dev = _share(to_items(task, rows, skipped), spec.split_seed, "dev", spec.dev_fraction)
        n_read = len(rows)
    else:
        train_rows, dev_rows = read_file(task, spec.train), read_file(task, spec.dev)
        pool, dev = to_items(task, train_rows, skipped), to_items(task, dev_rows, skipped)
        n_read = len(train_rows) + len(dev_rows)
    train, select = _share(pool, spec.split_seed, "select", settings.select_fraction)
    train = _subset(train, settings.max_train, settings.seed)
    select = _subset(select, settings.max_select, settings.seed)
    for reason, count in sorted(skipped.items()):
        log.warning("task %s: skipped %d of %d rows: %s", task.name, count, n_read, reason)
    if not train or not dev:
        raise InputError(f"task {task.name}: no usable rows ({len(train)} train, {len(dev)} dev; "
                         f"skipped {dict(skipped)})")
    return TaskData(train, select, dev, skipped, n_read)
