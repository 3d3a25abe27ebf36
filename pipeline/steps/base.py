"""The Step API, the registry of named steps and the runner (see pipeline/steps/__init__.py)."""
from __future__ import annotations

import importlib
import pkgutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable, Iterator

import numpy as np
import pyarrow as pa

from pipeline.core.config import ConfigError, load_config
from pipeline.core.hashing import text_digest
from pipeline.core.schema import DROP_REASON, KEPT, STAGED_ARROW_SCHEMA, docs_to_arrow, empty_doc

READ = "read"            # the reader's own reasons (read:not_html, ...) come before every step
SNIPPET_CHARS = 300      # a dropped document keeps this much text, so cached rows stay small
STEPS_KEY = "quality_filter.steps"


class Step:
    """One document step. Subclasses set `name`, build themselves from the config in `from_config`
    and implement `filter`."""
    name: ClassVar[str] = ""
    # Drop reasons are "<reason_prefix>:<reason>" (default: the step's name). Steps that share a
    # prefix (the three heuristics steps: heuristics:*) list their reasons in `reasons()`, so the
    # funnel can tell them apart.
    reason_prefix: ClassVar[str] = ""
    # A streaming step runs on each record as soon as it is read (a batch of one), before the batch
    # fills: extraction, so a worker never holds more than one raw page. Text inputs skip it.
    streams: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: dict) -> "Step | None":
        """The step with its settings, or None when its own settings switch it off."""
        return cls()

    @property
    def prefix(self) -> str:
        return self.reason_prefix or self.name

    def reasons(self) -> Iterable[str] | None:
        """The reasons (without prefix) this step gives; None: any reason under its prefix."""
        return None

    def filter(self, docs: list[dict]) -> list[str | None]:
        """One drop reason (without prefix; None = keep) per document. `docs` are the documents
        still kept, as dicts of the document schema; a step may change their fields (text, lang,
        lang_score, quality_score)."""
        raise NotImplementedError


class SectionStep(Step):
    """A step configured by one config section (`section`), kept as `self.s`; off when the
    section's `enabled` is false."""
    section: ClassVar[str] = ""

    def __init__(self, settings: dict):
        self.s = settings

    @classmethod
    def from_config(cls, config: dict) -> "SectionStep | None":
        settings = config[cls.section]
        return cls(dict(settings)) if settings.get("enabled", True) else None


_registry: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step available by its name in `quality_filter.steps`."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    _registry[cls.name] = cls
    return cls


def registered() -> dict[str, type[Step]]:
    """Every step of the pipeline/steps package, by name. Its modules are found on disk and
    imported here (plugin discovery: a new step file needs no import line anywhere)."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name != "base":
            importlib.import_module(f"{__package__}.{module.name}")
    return _registry


@dataclass
class StepList:
    """Steps in order. Runs them on batches of staged rows (documents + drop_reason), times each,
    and derives the funnel from their names."""
    steps: list[Step]

    @classmethod
    def from_config(cls, config: dict, names: Iterable[str] | None = None) -> "StepList":
        """The named steps (default: `quality_filter.steps`) that their settings leave on."""
        names = list(config["quality_filter"]["steps"] if names is None else names)
        known = registered()
        for name in names:
            if name not in known:
                raise ConfigError(f"{STEPS_KEY}: unknown step {name!r} (known: {', '.join(sorted(known))})")
        if len(set(names)) != len(names):
            raise ConfigError(f"{STEPS_KEY}: a step is listed twice in {names}")
        steps = [known[name].from_config(config) for name in names]
        return cls([step for step in steps if step is not None])

    def __add__(self, other: "StepList") -> "StepList":
        return StepList([*self.steps, *other.steps])

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    def _apply(self, step: Step, rows: list[dict], seconds: Counter) -> None:
        live = [row for row in rows if row[DROP_REASON] is None]
        if not live:
            return
        start = time.perf_counter()
        reasons = step.filter(live)
        seconds[step.name] += time.perf_counter() - start
        for row, reason in zip(live, reasons):
            if reason is not None:
                row[DROP_REASON] = f"{step.prefix}:{reason}"

    def run_streaming(self, row: dict, seconds: Counter) -> dict:
        """The streaming steps on one record just read."""
        for step in self.steps:
            if step.streams:
                self._apply(step, [row], seconds)
        return row

    def run(self, rows: list[dict], seconds: Counter) -> list[dict]:
        """The other steps on a batch; then the digest of each kept text, and dropped rows cut to
        a snippet."""
        for step in self.steps:
            if not step.streams:
                self._apply(step, rows, seconds)
        for row in rows:
            if row[DROP_REASON] is None:
                row["digest"] = text_digest(row["text"])
            elif row.get("text"):
                row["text"] = row["text"][:SNIPPET_CHARS]
        return rows

    def staged_batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """mapInArrow function over staged batches of text documents (document folders)."""
        for batch in batches:
            rows = batch.to_pylist()
            for row in rows:
                if row["meta"] is not None:
                    row["meta"] = dict(row["meta"])
            yield docs_to_arrow(self.run(rows, Counter()), STAGED_ARROW_SCHEMA)

    def funnel(self, counts: dict[str, int]) -> list[dict]:
        """Documents into and out of the reader and each step, with the reasons each dropped
        (pipeline order; `counts` are documents per drop reason, `kept` included)."""
        table = [{"step": step, "dropped": {}} for step in [READ, *self.names]]
        for reason, n in sorted(counts.items()):
            if reason != KEPT:
                table[self._owner(reason)]["dropped"][reason.split(":", 1)[1]] = n
        remaining = sum(counts.values())
        for row in table:
            row["in"] = remaining
            remaining = row["out"] = remaining - sum(row["dropped"].values())
        return [{"step": r["step"], "in": r["in"], "out": r["out"], "dropped": r["dropped"]} for r in table]

    def _owner(self, reason: str) -> int:
        """Index in the funnel of the step that gave `reason` (0: the reader)."""
        prefix, rule = reason.split(":", 1)
        matches = [i for i, step in enumerate(self.steps, 1) if step.prefix == prefix]
        for i in matches:
            listed = self.steps[i - 1].reasons()
            if listed is None or rule in listed:
                return i
        return matches[0] if matches else 0


@dataclass
class StepsResult:
    """What `run_steps` decided for each text, in input order."""
    kept: np.ndarray               # bool
    reasons: list[str | None]      # "step:reason" of a dropped text, None for a kept one
    docs: list[dict]               # the documents after the steps (cleaned text, lang, lang_score, ...)

    @property
    def texts(self) -> list[str | None]:
        """Each kept text as the steps left it (C4 removes lines), None for a dropped one."""
        return [doc["text"] if keep else None for doc, keep in zip(self.docs, self.kept.tolist())]


def run_steps(texts: list[str | None], config: dict | None = None, steps: Iterable[str] | StepList | None = None,
              langs: list[str | None] | None = None, ids: list[str] | None = None) -> StepsResult:
    """The document steps on plain texts, in this process (no Spark): the classifier's training
    texts, an ablation's variants, tests. `steps`: names or a StepList (default: the configured
    `quality_filter.steps`; the streaming extract step never runs on text). `langs` gives the
    languages when langid is not among the steps; `ids` the document ids (sampling draws from them).
    An empty text is dropped as `read:empty`."""
    config = load_config() if config is None else config
    step_list = steps if isinstance(steps, StepList) else StepList.from_config(config, steps)
    docs = [empty_doc(id=ids[i] if ids else str(i), text=text, lang=langs[i] if langs else None,
                      drop_reason=None if text and text.strip() else f"{READ}:empty")
            for i, text in enumerate(texts)]
    step_list.run(docs, Counter())
    reasons = [doc[DROP_REASON] for doc in docs]
    return StepsResult(np.array([r is None for r in reasons], dtype=bool), reasons, docs)
