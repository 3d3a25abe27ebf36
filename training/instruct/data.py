"""Readers for the three kinds of instruction data, into the chat format's turns.

SFT demonstrations (a conversation whose last turn is the assistant's):
  *.json  a list of {instruction, input?, output, history?} (Alpaca, LIMA: history is a list of
          [user, assistant] pairs before the instruction)
  *.jsonl {instruction, instances: [{input, output}]} (self-instruct: one example per instance)
          or {messages: [{role: user|assistant, content}]}
Preferences (a prompt and K >= 2 responses ranked best first):
  *.jsonl(.gz) {chosen, rejected} (Anthropic hh-rlhf): both split at the last "\\n\\nAssistant:"
          into prompt and response; the prompt's "\\n\\nHuman:" / "\\n\\nAssistant:" into turns
  *.jsonl {message_tree_id, prompt: {...replies}} (OpenAssistant trees): at every message, its ranked,
          human-written assistant replies (rank 0 = best)
PPO prompts: *.jsonl of bare JSON strings (the OpenAssistant prompt lottery) or {prompt}.

Bad records are skipped and counted under a named reason (`Skips`); a file of the wrong shape raises
InputError, one line, before any training.
"""
from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.core.config import InputError
from training.instruct.chat import Turn

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"


class Skips(Counter):
    """Skipped records by reason."""

    def line(self) -> str:
        return ", ".join(f"{reason} {n}" for reason, n in sorted(self.items())) or "none"


@dataclass
class Ranked:
    """A prompt and its responses, best first (K = len(responses) >= 2)."""
    prompt: list[Turn]
    responses: list[str]
    key: str            # identifies the prompt: held-out splits hash it


def _records(path: Path) -> Iterator[tuple[int, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            if path.name.endswith((".jsonl", ".jsonl.gz")):
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        yield n, json.loads(line)
            else:
                data = json.load(fh)
                if not isinstance(data, list):
                    raise InputError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
                yield from enumerate(data, 1)
    except (OSError, ValueError, EOFError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: unreadable ({str(exc).splitlines()[0]})") from None


def _wrong_shape(path: Path, n: int, expected: str) -> InputError:
    return InputError(f"{path}: record {n} is not {expected}")


def _clean(turns: list[Turn], skips: Skips) -> list[Turn] | None:
    if any(not text.strip() for _, text in turns):
        skips["empty_turn"] += 1
        return None
    return [(role, text.strip()) for role, text in turns]


def _instruction_turns(rec: dict) -> list[Turn]:
    turns: list[Turn] = []
    for pair in rec.get("history") or []:
        turns += [("user", str(pair[0])), ("assistant", str(pair[1]))]
    user = str(rec.get("instruction") or "")
    if rec.get("input"):
        user += "\n\n" + str(rec["input"])
    return turns + [("user", user), ("assistant", str(rec.get("output") or ""))]


def read_sft(paths: list[str | Path], skips: Skips) -> list[list[Turn]]:
    out: list[list[Turn]] = []
    for path in map(Path, paths):
        for n, rec in _records(path):
            if isinstance(rec, dict) and "messages" in rec:
                raw = [(str(m.get("role")), str(m.get("content") or "")) for m in rec["messages"]]
                if not raw or raw[-1][0] != "assistant" or any(r not in ("user", "assistant") for r, _ in raw):
                    skips["bad_roles"] += 1
                    continue
                convs = [raw]
            elif isinstance(rec, dict) and "instances" in rec and "instruction" in rec:
                convs = [_instruction_turns({"instruction": rec["instruction"], **inst})
                         for inst in rec["instances"]]
            elif isinstance(rec, dict) and "instruction" in rec and "output" in rec:
                convs = [_instruction_turns(rec)]
            else:
                raise _wrong_shape(path, n, "an SFT record ({instruction, output}, {instruction, instances} "
                                            "or {messages})")
            out += [c for c in (_clean(c, skips) for c in convs) if c]
    return out


def split_hh(text: str) -> tuple[list[Turn], str] | None:
    """hh-rlhf: (prompt turns, final response), split at the last "\\n\\nAssistant:"."""
    cut = text.rfind(ASSISTANT)
    if cut < 0:
        return None
    head, response = text[:cut], text[cut + len(ASSISTANT):]
    turns: list[Turn] = []
    rest = head
    while rest:
        h, a = rest.find(HUMAN), rest.find(ASSISTANT)
        starts = [(i, r, m) for i, r, m in ((h, "user", HUMAN), (a, "assistant", ASSISTANT)) if i >= 0]
        if not starts:
            break
        i, role, marker = min(starts)
        rest = rest[i + len(marker):]
        nxt = [j for j in (rest.find(HUMAN), rest.find(ASSISTANT)) if j >= 0]
        end = min(nxt) if nxt else len(rest)
        turns.append((role, rest[:end]))
        rest = rest[end:]
    return turns, response


def _hh_pair(rec: dict, skips: Skips) -> Ranked | None:
    chosen, rejected = split_hh(str(rec["chosen"])), split_hh(str(rec["rejected"]))
    if chosen is None or rejected is None:
        skips["no_assistant_turn"] += 1
        return None
    if chosen[0] != rejected[0]:
        skips["prompts_differ"] += 1
        return None
    if not chosen[1].strip() or not rejected[1].strip():
        skips["empty_response"] += 1
        return None
    if chosen[1].strip() == rejected[1].strip():
        skips["identical_pair"] += 1
        return None
    prompt = _clean(chosen[0], skips)
    if prompt is None:
        return None
    if not prompt or prompt[-1][0] != "user":
        skips["bad_roles"] += 1
        return None
    return Ranked(prompt, [chosen[1].strip(), rejected[1].strip()], json.dumps(prompt))


def _oasst_groups(node: dict, path: list[Turn], skips: Skips) -> Iterator[Ranked]:
    role = "user" if node.get("role") == "prompter" else "assistant"
    here = path + [(role, str(node.get("text") or ""))]
    replies = node.get("replies") or []
    if role == "user":
        ranked = []
        for reply in replies:
            if reply.get("role") != "assistant" or reply.get("rank") is None:
                continue
            if reply.get("synthetic"):
                skips["synthetic_reply"] += 1
            elif reply.get("deleted"):
                skips["deleted_reply"] += 1
            elif not str(reply.get("text") or "").strip():
                skips["empty_response"] += 1
            else:
                ranked.append(reply)
        prompt = _clean(here, skips) if len(ranked) >= 2 else None
        if prompt:
            ranked.sort(key=lambda r: r["rank"])
            yield Ranked(prompt, [str(r["text"]).strip() for r in ranked], str(node.get("message_id")))
    for reply in replies:
        yield from _oasst_groups(reply, here, skips)


def read_prefs(paths: list[str | Path], skips: Skips) -> list[Ranked]:
    out: list[Ranked] = []
    for path in map(Path, paths):
        for n, rec in _records(path):
            if isinstance(rec, dict) and "chosen" in rec and "rejected" in rec:
                group = _hh_pair(rec, skips)
                out += [group] if group else []
            elif isinstance(rec, dict) and isinstance(rec.get("prompt"), dict):
                out += list(_oasst_groups(rec["prompt"], [], skips))
            else:
                raise _wrong_shape(path, n, "a preference record ({chosen, rejected} or an OpenAssistant tree)")
    return out


def read_prompts(paths: list[str | Path], skips: Skips) -> list[list[Turn]]:
    out: list[list[Turn]] = []
    for path in map(Path, paths):
        for n, rec in _records(path):
            if isinstance(rec, dict) and isinstance(rec.get("prompt"), str):
                rec = rec["prompt"]
            if not isinstance(rec, str):
                raise _wrong_shape(path, n, "a prompt (a JSON string or {prompt})")
            turns = _clean([("user", rec)], skips)
            out += [turns] if turns else []
    return out
