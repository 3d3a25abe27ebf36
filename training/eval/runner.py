"""`train eval`: every task at every k, from a webmix checkpoint or a Hugging Face folder.

Task files and their data are read and checked first (a bad file stops the run before the model
loads); then the model is loaded once and each (task, k) is scored in batched passes. Output under
--out: results.json (one row per task, k and metric), items/<task>.<k>shot.jsonl (per-item scores
for error analysis) and report/ (the run report's section, see training.eval.report).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipeline.core.config import InputError
from pipeline.core.hashing import file_sha256
from pipeline.evaltasks.spec import Item, TaskSpec, data_files, load_task, read_items
from training import checkpoint as ckpt
from training.eval.report import write_report_section
from training.eval.tasks import ScoringModel, evaluate_task

FLAGS_DIR = "_eval_flags"     # where `decontaminate --eval TASK.yaml` writes per-item dirty flags


def load_scoring_model(source: str | os.PathLike, device: str = "cpu") -> ScoringModel:
    """A checkpoint folder, a run folder (its newest checkpoint), or a HF GPT-2 / GPT-Neo folder."""
    from tokenizers import Tokenizer

    from training.export import is_hf_folder, load_hf
    from training.sample import load_model

    if is_hf_folder(source):
        model, meta = load_hf(source, device)
        path = Path(source)
        tokenizer_file = path / "tokenizer.json"
    else:
        model, meta, path = load_model(source, device)
        tokenizer_file = Path(path) / ckpt.TOKENIZER_FILE
    if not tokenizer_file.is_file():
        raise ckpt.CheckpointError(f"{path} has no tokenizer.json")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    eot_id = meta.get("eot_id")
    if eot_id is None:
        eot_id = tokenizer.token_to_id("<|endoftext|>")
    if eot_id is None:
        raise ckpt.CheckpointError(f"{path}: no eot_id and no <|endoftext|> token in its tokenizer")
    return ScoringModel(model, tokenizer, int(eot_id), file_sha256(str(Path(path) / ckpt.MODEL_FILE)), str(path))


def dirty_ids(report: str | os.PathLike, task: str) -> set[str]:
    """The ids a decontamination report flags dirty for `task`: REPORT is the decontaminate output
    folder (its _eval_flags/<task>.jsonl) or such a JSONL file itself."""
    report = Path(report)
    path = report / FLAGS_DIR / f"{task}.jsonl" if report.is_dir() else report
    if not path.is_file():
        raise InputError(f"--clean-only: no dirty flags for task {task} at {path} "
                         "(run decontaminate --eval conf/eval/{task}.yaml)")
    dirty = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
            if row["dirty"]:
                dirty.add(str(row["id"]))
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path}: line {number}: field 'id' or 'dirty' missing") from None
    return dirty


def prepare(tasks: list[str], shots: list[int], limit: int | None, clean_only: str | None,
            data_root: str | None) -> list[tuple[TaskSpec, list[Item], list[Item]]]:
    """Every task's (spec, items, few-shot pool), checked before any model is loaded."""
    prepared = []
    for name in tasks:
        spec = load_task(name)
        items = read_items(spec, data_root)
        same_pool = not isinstance(spec.fewshot.get("source"), dict)
        pool = [] if spec.kind == "perplexity" or max(shots) == 0 else (
            items if same_pool else read_items(spec, data_root, fewshot=True))
        if clean_only:
            dirty = dirty_ids(clean_only, spec.name)
            items = [i for i in items if i.id not in dirty]
        prepared.append((spec, items[:limit] if limit else items, pool))
    return prepared


def evaluate(checkpoint: str | os.PathLike, tasks: list[str], shots: list[int] = (0,), limit: int | None = None,
             out: str | os.PathLike | None = None, seed: int = 1234, clean_only: str | None = None,
             data_root: str | None = None, device: str = "cpu", max_batch_tokens: int = 16384,
             model: ScoringModel | None = None) -> dict:
    """Score the tasks; write results.json, items/ and report/ under `out` when given; return the
    results document. `model` skips loading (callers that already hold one: ablation, fine-tuning)."""
    shots = sorted(set(shots))
    prepared = prepare(tasks, shots, limit, clean_only, data_root)
    sm = model or load_scoring_model(checkpoint, device)
    rows, per_item = [], {}
    for spec, items, pool in prepared:
        task_hash = file_sha256(str(spec.path))
        data_hash = {str(p): file_sha256(str(p)) for p in data_files(spec, data_root)}
        for k in ([0] if spec.kind == "perplexity" else shots):
            began = time.perf_counter()
            result = evaluate_task(sm, spec, items, pool, k, seed, max_batch_tokens)
            seconds = time.perf_counter() - began
            per_item[f"{spec.name}.{k}shot"] = result.records
            for summary in result.summaries:
                rows.append({"task": spec.name, "kind": spec.kind, "shots": k, **summary, "n": result.n,
                             "truncated": result.truncated, "model_fingerprint": sm.fingerprint,
                             "task_file_sha256": task_hash, "data_sha256": data_hash,
                             "clean_only": bool(clean_only), "seconds": round(seconds, 3),
                             **({"note": spec.raw["note"]} if spec.raw.get("note") else {})})
    document = {"model": {"source": sm.source, "fingerprint": sm.fingerprint,
                          "block_size": sm.model.config.block_size, "params": sm.model.num_params()},
                "seed": seed, "shots": shots, "limit": limit, "clean_only": clean_only, "results": rows}
    if out is not None:
        write_outputs(Path(out), document, per_item)
    return document


def write_outputs(out: Path, document: dict, per_item: dict[str, list[dict]]) -> None:
    (out / "items").mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(document, indent=2))
    for name, records in per_item.items():
        with open(out / "items" / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records)
    write_report_section(out / "report", document)
