"""The held-out sets as files: RUN/heldout/<name>.jsonl ({id, text}) and a perplexity task file
RUN/heldout/<name>.yaml for `train eval`, or an existing task under conf/eval/.

The WebText set is exactly the project's hold-out slice (pipeline.quality.heldout), the slice the
classifier never trained on; no variant reads WebText, and decontamination removes any of this text
a variant's corpus carries. A book is cut into passages so the bootstrap has documents to resample.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.ablation.config import REPO_ROOT, AblationConfig, Heldout
from pipeline.core.config import ConfigError
from pipeline.curated.books import chunk_words, strip_gutenberg
from pipeline.evaltasks.readers import open_text
from pipeline.quality.heldout import is_heldout

BOOK_PASSAGE_WORDS = 400


def _jsonl_texts(paths: list[str], field: str):
    for path in paths:
        with open_text(Path(path)) as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line).get(field) or ""


def _documents(cfg: AblationConfig, h: Heldout) -> list[str]:
    files = sorted(p for pattern in (h.webtext or h.jsonl) for p in _glob(cfg.resolve(pattern)))
    if h.book:
        body, _ = strip_gutenberg(Path(cfg.resolve(h.book)).read_text(encoding="utf-8", errors="replace"))
        return chunk_words(body, BOOK_PASSAGE_WORDS)
    if not files:
        raise ConfigError(f"ablation.heldout.{h.name}: no file matches {h.webtext or h.jsonl}")
    texts = [t for t in _jsonl_texts(files, h.text_field) if t.strip()]
    return [t for t in texts if is_heldout(t)] if h.webtext else texts


def _glob(pattern: str) -> list[str]:
    path = Path(pattern)
    return [str(p) for p in path.parent.glob(path.name)]


def write_if_changed(path: Path, text: str) -> None:
    """Stage fingerprints count a plain file's size and mtime: an unchanged file keeps its mtime, so
    a rerun's decontamination (and everything after it) stays complete and is skipped."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_without_heldout(inputs: list[str], field: str, path: Path) -> None:
    """The documents of `inputs` outside the WebText hold-out slice, as {"text"} JSONL: a variant's
    training text (drop_heldout) never holds a document a held-out set could draw."""
    files = sorted(p for pattern in inputs for p in _glob(pattern))
    if not files:
        raise ConfigError(f"ablation: drop_heldout input {inputs} matches no file")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, "".join(json.dumps({"text": t}) + "\n" for t in _jsonl_texts(files, field)
                                   if t.strip() and not is_heldout(t)))


def write_heldout(cfg: AblationConfig, run: str) -> dict[str, str]:
    """held-out name -> its task (a YAML path or a conf/eval name); the JSONL files written beside."""
    folder = Path(run) / "heldout"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = {}
    for h in cfg.heldout:
        if h.task:
            if not (REPO_ROOT / "conf" / "eval" / f"{h.task}.yaml").is_file() and not Path(h.task).is_file():
                raise ConfigError(f"ablation.heldout.{h.name}.task: no task {h.task!r} under conf/eval/")
            tasks[h.name] = h.task
            continue
        docs = _documents(cfg, h)[:cfg.eval_limit]
        data = folder / f"{h.name}.jsonl"
        write_if_changed(data, "".join(json.dumps({"id": f"{h.name}-{i}", "text": t}) + "\n"
                                        for i, t in enumerate(docs)))
        task = folder / f"{h.name}.yaml"
        write_if_changed(task, f"# held-out text of the data ablation: {len(docs)} documents\nkind: perplexity\n"
                          f"data: {{file: {data}, reader: jsonl}}\nid: \"{{id}}\"\ntext: \"{{text}}\"\n"
                          "metrics: [bits_per_byte]\n")
        tasks[h.name] = str(task)
    return tasks
