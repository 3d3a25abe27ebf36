"""Checkpoints that survive being killed mid-write, and load without unpickling arbitrary objects.

A checkpoint is a folder <run>/checkpoints/step_00000100/ holding
  model.safetensors   the weights (the tied lm_head is stored once, as transformer.wte.weight)
  train_state.pt      optimizer, scheduler, step, every rank's data-stream and RNG states; plain
                      tensors, lists and dicts only, so torch.load(weights_only=True) reads it
  config.json         the resolved run config, the tokenizer hash, the step
  tokenizer.json      a copy of the mixture's tokenizer, so sample and export need nothing else
  complete.json       the completion marker: each file's size, written after the others are fsynced
It is written under a hidden temporary name and renamed into place (the atomic commit); a folder
without its marker, or whose files do not have the recorded sizes, is incomplete and never resumed.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

MARKER = "complete.json"
MODEL_FILE, STATE_FILE, CONFIG_FILE, TOKENIZER_FILE = (
    "model.safetensors", "train_state.pt", "config.json", "tokenizer.json")
TIED_KEY = "lm_head.weight"
_STEP_DIR = re.compile(r"^step_(\d{8})$")


class CheckpointError(ValueError):
    """A missing, incomplete, corrupt or mismatched checkpoint; the message is one line."""


def rng_state() -> dict:
    """Every RNG this process draws from, as tensors and lists (weights_only rejects numpy)."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": [version, list(mt), gauss],
             "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, mt, gauss = state["python"]
    random.setstate((version, tuple(mt), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def step_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:08d}"


def save_checkpoint(run_dir: Path, step: int, model_state: dict, train_state: dict, config: dict,
                    tokenizer_path: str | None, keep_last: int) -> Path:
    """Write step's checkpoint atomically, then delete all but the newest keep_last complete ones."""
    final = step_dir(run_dir, step)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().contiguous().cpu() for k, v in model_state.items() if k != TIED_KEY}
    save_file(weights, tmp / MODEL_FILE)
    torch.save(train_state, tmp / STATE_FILE)
    (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
    if tokenizer_path:
        shutil.copyfile(tokenizer_path, tmp / TOKENIZER_FILE)
    files = sorted(p.name for p in tmp.iterdir())
    for name in files:
        _fsync(tmp / name)
    marker = {"step": step, "files": {name: (tmp / name).stat().st_size for name in files}}
    (tmp / MARKER).write_text(json.dumps(marker, indent=2))
    _fsync(tmp / MARKER)
    _fsync(tmp)
    if final.exists():  # a checkpoint of the same step from an earlier, interrupted run
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync(final.parent)
    for old in complete_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def is_complete(path: Path) -> bool:
    try:
        marker = json.loads((Path(path) / MARKER).read_text())
        return all((Path(path) / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = sorted(p for p in root.iterdir() if _STEP_DIR.match(p.name))
    return [p for p in found if is_complete(p)]


def incomplete_checkpoints(run_dir: Path) -> list[Path]:
    """Temporary folders of interrupted writes, and step folders that lost their marker."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (".tmp-" in p.name or (
        _STEP_DIR.match(p.name) and not is_complete(p))))


def resolve(path: str | Path) -> Path:
    """A checkpoint folder, or a run folder (its newest complete checkpoint)."""
    path = Path(path)
    if (path / MARKER).exists() or _STEP_DIR.match(path.name):
        if not is_complete(path):
            raise CheckpointError(f"checkpoint {path} is incomplete (no valid {MARKER}); it cannot be loaded")
        return path
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    found = complete_checkpoints(path)
    if not found:
        raise CheckpointError(f"no complete checkpoint under {path}")
    return found[-1]


def read_config(path: Path) -> dict:
    try:
        return json.loads((Path(path) / CONFIG_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path}: cannot read {CONFIG_FILE} ({exc})") from None


def load_model_state(path: Path) -> dict:
    """The weights, with the tied lm_head restored, read through safetensors."""
    try:
        state = load_file(Path(path) / MODEL_FILE)
    except (OSError, SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path}: {MODEL_FILE} is corrupt or unreadable ({exc})") from None
    state[TIED_KEY] = state["transformer.wte.weight"]
    return state


def load_train_state(path: Path) -> dict:
    try:
        return torch.load(Path(path) / STATE_FILE, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged pickle/zip; all mean "corrupt"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path}: {STATE_FILE} is corrupt or unreadable ({first})") from None
