"""The one configuration loader and its one set of rules, for the stages, the trainer and the mixture.

Every configuration is built the same way: YAML layers deep-merged in order (defaults, then a
`--config` file), then each `a.b=value` override (the value is read as YAML), then validated by a
pydantic model. A key the model does not have, or a value of the wrong type, raises ConfigError with
ONE line naming the dotted key (`quality_filter.alpah: unknown key ...`); commands print it and exit
2, before Spark or torch start.

Why pydantic v2 and not hand-written checks or plain dataclasses: it coerces what YAML hands us by one
rule everywhere (YAML 1.1 reads `3e-4` as a string; pydantic's lax mode makes it a float; `4` is a
float where a float is declared), reports every error with its location (the dotted key), refuses
unknown keys with `extra="forbid"`, validates stdlib dataclasses (training.model.GPTConfig stays
one) as fields, and `model_dump()` hands Spark closures plain dicts. Three loaders with three rule
sets were what we had before.

Stage sections (conf/pipeline.yaml): the YAML holds the defaults and the comments; each section's
model is derived from it (a key's type is its default's type; `null` switches a rule off), so a new
stage key is ONE line in conf/pipeline.yaml. `load_config` returns the resolved configuration as
plain dicts.

A new section with its own model (eval, finetune, sft/rm/ppo, ablation, classifier ...):

    from pydantic import BaseModel, ConfigDict
    from pipeline.core.config import parse_model

    class EvalConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")   # an unknown key is an error, not ignored
        batch_size: int = 8
        lr: float = 3e-4

    settings = parse_model(EvalConfig, raw_dict, "eval")   # ConfigError("eval.lr: ...") in one line
    worker_settings = settings.model_dump()               # plain dict for Spark closures
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Iterable, Optional

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from pipeline.core.output import fs_path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_ENV = "WEBMIX_CONFIG"


class ConfigError(ValueError):
    """A configuration mistake; its message is one line that names the key."""


class InputError(ValueError):
    """A missing or unreadable input, model file or output location; one line, before Spark starts."""


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV, REPO_ROOT / "conf" / "pipeline.yaml"))


# --- reading and merging layers -----------------------------------------------------------------

def read_yaml(path: str | os.PathLike) -> dict:
    """A YAML file on the local disk or any fsspec URL (s3://...)."""
    try:
        fs, where = fs_path(str(path))
        with fs.open(where, "r", encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise ConfigError(f"config file {path} is not valid YAML{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """`section.key=value` -> (["section", "key"], parsed YAML value)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form section.key=value")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise ConfigError(f"override '{text}' names no key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def merge(base: dict, update: Mapping) -> dict:
    """`update` deep-merged over a copy of `base` (mappings merge key by key; anything else replaces)."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(merged.get(key), dict) and merged[key] and isinstance(value, Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def set_key(data: dict, path: list[str], value: Any) -> dict:
    """A copy of `data` with the dotted `path` set to `value`. A list of named mappings (a mixture's
    `sources`) is addressed by name: `sources.web.weight`."""
    data = copy.deepcopy(data)
    node: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list):
            named = [item for item in node if isinstance(item, dict) and str(item.get("name")) == part]
            if not named:
                raise ConfigError(f"{'.'.join(path[:i + 1])}: no entry named '{part}'")
            node = named[0]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    if isinstance(node, list):
        raise ConfigError(f"{'.'.join(path)}: name an entry, then its key")
    node[path[-1]] = value
    return data


def apply_overrides(data: dict, overrides: Iterable[str]) -> dict:
    for text in overrides:
        path, value = parse_override(text)
        data = set_key(data, path, value)
    return data


# --- validating -------------------------------------------------------------------------------

def _dotted(where: str, loc: tuple, data: Any) -> str:
    """The key at `loc` as the overrides spell it: an entry of a list of named mappings by its name
    (`sources.web.weight`), any other list entry by its index (`languages[2]`)."""
    key = where
    for part in loc:
        item = data[part] if isinstance(data, (list, dict)) and _has(data, part) else None
        if isinstance(part, int) and isinstance(item, dict) and "name" in item:
            part = str(item["name"])
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        data = item
    return key


def _has(data: list | dict, part: Any) -> bool:
    return part in data if isinstance(data, dict) else isinstance(part, int) and 0 <= part < len(data)


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X."""
    while typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next((a for a in typing.get_args(annotation) if a is not type(None)), annotation)
    return annotation


def _known_keys(cls: Any, loc: tuple) -> list[str]:
    """The keys allowed beside an unknown one at `loc` (empty when the models do not say)."""
    for part in loc[:-1]:
        field = _fields(cls).get(part) if isinstance(part, str) else None
        if field is None:
            return []
        cls = _unwrap(field)
    return sorted(_fields(cls))


def _split_lists(cls: Any, data: Mapping) -> dict:
    """A comma-separated string where a list is declared is that list (`attn_pattern=dense,banded`,
    `langid.languages=en,de`): the same rule in every configuration."""
    fields, out = _fields(cls), dict(data)
    for key, value in data.items():
        kind = _unwrap(fields.get(key))
        if isinstance(value, str) and (kind is list or typing.get_origin(kind) is list):
            out[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, Mapping) and _fields(kind):
            out[key] = _split_lists(kind, value)
    return out


def _fields(cls: Any) -> dict[str, Any]:
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return {name: f.annotation for name, f in cls.model_fields.items()}
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        return {f.name: hints.get(f.name) for f in dataclasses.fields(cls)}
    return {}


def describe(exc: ValidationError, cls: Any, where: str = "", data: Any = None) -> str:
    """A pydantic error as one line: `dotted.key: problem, got value`."""
    errors = exc.errors()
    first = errors[0]
    key = _dotted(where, first["loc"], data) or where or "config"
    if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        known = _known_keys(cls, first["loc"])
        problem = "unknown key" + (f" (known here: {', '.join(known)})" if known else "")
    elif first["type"] == "missing":
        problem = "is required"
    else:
        message, value = first["msg"].removeprefix("Value error, "), first.get("input")
        got = "" if isinstance(value, (Mapping, list)) else f", got {value!r}"  # a section: too long to show
        problem = f"{message[0].lower()}{message[1:]}{got}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{key}: {problem}{more}"


def parse_model(cls: type[BaseModel], data: Any, where: str):
    """`data` validated into `cls`; a mistake raises ConfigError("<where>.<key>: <problem>"), one line."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or 'config'}: must be a mapping of keys, got {data!r}")
    try:
        return cls.model_validate(_split_lists(cls, data))
    except ValidationError as exc:
        raise ConfigError(describe(exc, cls, where, data)) from None


# --- stage sections: models derived from conf/pipeline.yaml -----------------------------------

def _no_bool(value: Any) -> Any:
    """YAML `true` is not a number (pydantic's lax mode would make it 1)."""
    if isinstance(value, bool):
        raise ValueError("a number is expected, not a boolean")
    return value


def _integral(value: Any) -> Any:
    """`1e8` (a string to YAML 1.1) is a count too, as long as it is a whole number."""
    value = _no_bool(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else value
    return value


Float = Annotated[float, BeforeValidator(_no_bool)]
Int = Annotated[int, BeforeValidator(_integral)]
_SCALARS = {bool: bool, int: Int, float: Float, str: str}


def _type_of(default: Any, name: str) -> Any:
    """The declared type of a key, from its default value (every key may be null: a switched-off rule)."""
    if default is None:
        return Any
    if isinstance(default, dict):
        if default and all(isinstance(k, str) and k.isidentifier() for k in default):
            return Optional[_model_of(name, default)]
        if not default:
            return Optional[dict[str, Any]]
        key_type = _type_of(next(iter(default)), name)
        return Optional[dict[key_type, _type_of(next(iter(default.values())), name)]]
    if isinstance(default, list):
        kinds = {type(item) for item in default}
        item = _SCALARS[kinds.pop()] if len(kinds) == 1 and next(iter(kinds), None) in _SCALARS else Any
        return Optional[list[item]]
    return Optional[_SCALARS.get(type(default), Any)]


def _model_of(name: str, defaults: dict) -> type[BaseModel]:
    fields = {key: (_type_of(value, f"{name}.{key}"), value) for key, value in defaults.items()}
    return create_model(name.replace(".", "__") or "PipelineConfig",
                        __config__=ConfigDict(extra="forbid"), **fields)


@functools.lru_cache(maxsize=8)
def _pipeline_model(path: str, mtime: float) -> tuple[type[BaseModel], dict]:
    defaults = read_yaml(path)
    return _model_of("", defaults), defaults


def pipeline_model(defaults_file: str | os.PathLike | None = None) -> tuple[type[BaseModel], dict]:
    """The stage configuration's model (derived from the defaults file) and the defaults."""
    path = Path(defaults_file or default_config_path())
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    model, defaults = _pipeline_model(str(path), mtime)
    return model, copy.deepcopy(defaults)


def load_config(
    user_file: str | os.PathLike | None = None,
    overrides: Iterable[str] = (),
    defaults_file: str | os.PathLike | None = None,
) -> dict:
    """Defaults, then the user's YAML file, then each `a.b=value` override; validated once; plain dicts."""
    model, config = pipeline_model(defaults_file)
    if user_file:
        config = merge(config, read_yaml(user_file))
    config = apply_overrides(config, overrides)
    return parse_model(model, config, "").model_dump()


def section(config: dict, name: str) -> dict:
    if name not in config:
        raise ConfigError(f"config has no section '{name}'")
    return config[name]


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(obj: Any) -> str:
    """A short stable hash of any JSON-able configuration (its canonical JSON)."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:16]
