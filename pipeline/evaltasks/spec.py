"""A task file (conf/eval/<task>.yaml) and the items it defines.

Keys (every template is Python str.format over a record's fields, `{field}` or `{field[key]}`):
  name          default: the file's stem
  kind          cloze | multiple_choice | perplexity
  data          {file, reader, ...reader options}; a relative file is under the data root
                (--data-root, $WEBMIX_EVAL_DATA, default ../shared/realdata next to the repo)
  id            item id template (default "{_line}", the record's first line)
  text          cloze: the passage; context = all but its last word, target = " " + the last word
  context       multiple_choice: the prompt an option continues
  choices       multiple_choice: a list of option templates (" yes"), or {each: LIST_FIELD,
                template: " {choice}"}; options carry their leading space
  gold          the field holding the answer: an index, or a key of gold_map
  gold_map      {raw value: option index} (string labels, letters, 1-based numbers)
  unconditional_context  GPT-3's normalisation log p(c|ctx) - log p(c|this), e.g. "Answer:"
  fewshot       {source: same | {file, reader, ...}, separator: "\n\n", query: "{context} ____. ->"}
                `query` rewrites every context (examples and item) when k >= 1
  metrics       which metrics to report (the first is the one plotted against k)
  chance        optional; default 1/options (multiple choice) or 0 (cloze accuracy)
  stride        perplexity: window stride in tokens (default block_size / 2)
  note          shown with the results
A mistake fails with one line naming the file (and line and field where there is one).
"""
from __future__ import annotations

import hashlib
import os
import string
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.config import REPO_ROOT, ConfigError, read_yaml
from pipeline.evaltasks.readers import PATH_OPTIONS, READERS, EvalTaskError

KINDS = {"cloze": ("acc", "ppl"), "multiple_choice": ("acc", "acc_norm", "acc_per_token", "acc_uncond"),
         "perplexity": ("bits_per_byte", "token_perplexity")}
DATA_ENV = "WEBMIX_EVAL_DATA"
TASK_DIR = REPO_ROOT / "conf" / "eval"
KEYS = {"name", "kind", "data", "id", "text", "context", "choices", "gold", "gold_map",
        "unconditional_context", "fewshot", "metrics", "chance", "stride", "note"}


@dataclass(frozen=True)
class Item:
    id: str
    context: str                  # what every option continues ("" for a perplexity document)
    choices: tuple[str, ...]      # continuations, with their leading space (cloze: the target)
    gold: int
    line: int

    def text(self) -> str:
        """The item's text as the decontamination job compares it with training documents."""
        return "\n".join([self.context, *self.choices]).strip()


@dataclass
class TaskSpec:
    name: str
    kind: str
    path: Path                    # the YAML file
    data: dict
    raw: dict
    metrics: list[str]
    fewshot: dict = field(default_factory=dict)
    sha256: str = ""

    @property
    def separator(self) -> str:
        return self.fewshot.get("separator", "\n\n")


def data_root(override: str | os.PathLike | None = None) -> Path:
    return Path(override or os.environ.get(DATA_ENV) or REPO_ROOT.parent / "shared" / "realdata")


def task_path(name_or_path: str) -> Path:
    """A task name under conf/eval/, or a YAML path."""
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        return Path(name_or_path)
    return TASK_DIR / f"{name_or_path}.yaml"


def load_task(name_or_path: str) -> TaskSpec:
    path = task_path(name_or_path)
    if not path.is_file():
        raise EvalTaskError(f"task file not found: {path}")
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        raise EvalTaskError(str(exc)) from None
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise EvalTaskError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise EvalTaskError(f"{path}: key 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    data = raw.get("data")
    if not isinstance(data, dict) or "file" not in data or data.get("reader") not in READERS:
        raise EvalTaskError(f"{path}: key 'data' needs file and reader (one of {', '.join(READERS)})")
    required = {"cloze": ("text",), "multiple_choice": ("context", "choices", "gold"), "perplexity": ("text",)}
    for key in required[kind]:
        if key not in raw:
            raise EvalTaskError(f"{path}: key {key!r} is required for kind {kind}")
    metrics = raw.get("metrics") or list(KINDS[kind][:3])
    bad = [m for m in metrics if m not in KINDS[kind]]
    if bad:
        raise EvalTaskError(f"{path}: key 'metrics' holds {bad[0]!r}; {kind} has {', '.join(KINDS[kind])}")
    if "acc_uncond" in metrics and not raw.get("unconditional_context"):
        raise EvalTaskError(f"{path}: metric acc_uncond needs key 'unconditional_context'")
    fewshot = raw.get("fewshot") or {}
    if not isinstance(fewshot, dict):
        raise EvalTaskError(f"{path}: key 'fewshot' must be a mapping")
    return TaskSpec(name=raw.get("name") or path.stem, kind=kind, path=path, data=data, raw=raw,
                    metrics=list(metrics), fewshot=fewshot, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _records(spec: TaskSpec, data: dict, root: Path):
    options = {k: v for k, v in data.items() if k not in ("file", "reader")}
    for key in PATH_OPTIONS:
        if key in options:
            options[key] = _resolve(options[key], root)
    file = _resolve(data["file"], root)
    try:
        yield from ((file, line, record) for line, record in READERS[data["reader"]](file, **options))
    except TypeError as exc:      # an option the reader does not take
        raise EvalTaskError(f"{spec.path}: data options {sorted(options)} do not fit reader "
                            f"{data['reader']} ({exc})") from None


def _resolve(file: str, root: Path) -> Path:
    return Path(file) if Path(file).is_absolute() else root / file


def _render(template: str, record: dict, file: Path, line: int) -> str:
    try:
        return string.Formatter().vformat(template, (), record)
    except KeyError as exc:
        raise EvalTaskError(f"{file}: line {line}: field {exc.args[0]!r} missing") from None
    except (IndexError, TypeError, ValueError) as exc:
        raise EvalTaskError(f"{file}: line {line}: template {template!r} does not fit the record ({exc})") from None


def _gold(spec: TaskSpec, record: dict, n_choices: int, file: Path, line: int) -> int:
    key = spec.raw["gold"]
    if key not in record:
        raise EvalTaskError(f"{file}: line {line}: field {key!r} missing")
    value = record[key]
    value = str(value).lower() if isinstance(value, bool) else str(value).strip()
    mapping = {str(k): v for k, v in (spec.raw.get("gold_map") or {}).items()}
    try:
        gold = int(mapping[value]) if mapping else int(value)
    except (KeyError, ValueError):
        raise EvalTaskError(f"{file}: line {line}: field {key!r} has unknown label {value!r}") from None
    if not 0 <= gold < n_choices:
        raise EvalTaskError(f"{file}: line {line}: field {key!r} gives option {gold} of {n_choices}")
    return gold


def _choices(spec: TaskSpec, record: dict, file: Path, line: int) -> tuple[str, ...]:
    choices = spec.raw["choices"]
    if isinstance(choices, list):
        return tuple(_render(t, record, file, line) for t in choices)
    each = choices.get("each") if isinstance(choices, dict) else None
    if each is None:
        raise EvalTaskError(f"{spec.path}: key 'choices' must be a list of templates or {{each, template}}")
    values = record.get(each)
    if not isinstance(values, list) or not values:
        raise EvalTaskError(f"{file}: line {line}: field {each!r} missing (a list of options)")
    template = choices.get("template", " {choice}")
    return tuple(_render(template, {**record, "choice": v}, file, line) for v in values)


def _item(spec: TaskSpec, file: Path, line: int, record: dict) -> Item:
    record = {**record, "_line": line}
    item_id = _render(spec.raw.get("id", "{_line}"), record, file, line)
    if spec.kind == "perplexity":
        return Item(item_id, "", (_render(spec.raw["text"], record, file, line),), 0, line)
    if spec.kind == "cloze":
        text = _render(spec.raw["text"], record, file, line)
        context, sep, word = text.rstrip().rpartition(" ")
        if not sep or not context:
            raise EvalTaskError(f"{file}: line {line}: field text has no last word to predict")
        return Item(item_id, context, (" " + word,), 0, line)
    choices = _choices(spec, record, file, line)
    return Item(item_id, _render(spec.raw["context"], record, file, line), choices,
                _gold(spec, record, len(choices), file, line), line)


def read_items(spec: TaskSpec, root: str | os.PathLike | None = None, fewshot: bool = False) -> list[Item]:
    """The task's items (fewshot=True: its few-shot pool; the items themselves when source is same).
    Raises EvalTaskError on the first record without a field the task file names."""
    data = spec.data
    if fewshot and isinstance(spec.fewshot.get("source"), dict):
        data = spec.fewshot["source"]
        if "file" not in data or data.get("reader") not in READERS:
            raise EvalTaskError(f"{spec.path}: key 'fewshot.source' needs file and reader")
    items = [_item(spec, file, line, record) for file, line, record in _records(spec, data, data_root(root))]
    seen = set()
    for item in items:
        if item.id in seen:
            raise EvalTaskError(f"{spec.path}: item id {item.id!r} (line {item.line}) is not unique")
        seen.add(item.id)
    return items


def data_files(spec: TaskSpec, root: str | os.PathLike | None = None) -> list[Path]:
    """The data files a task reads (for fingerprints)."""
    base = data_root(root)
    sources = [spec.data] + ([spec.fewshot["source"]] if isinstance(spec.fewshot.get("source"), dict) else [])
    return [_resolve(s[k], base) for s in sources for k in ("file", *PATH_OPTIONS) if k in s]
