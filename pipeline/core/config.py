"""The one config loader: conf/pipeline.yaml holds every stage's defaults; a user YAML file and
`section.key=value` overrides on the command line are merged on top and checked against them.

A key that the defaults do not have, or a value of another type than the default's, fails fast with
one line naming the key (ConfigError); entry scripts print it and exit 2, before Spark starts.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_ENV = "WEBMIX_CONFIG"


class ConfigError(ValueError):
    """A configuration mistake; its message is one line that names the key."""


class InputError(ValueError):
    """A missing or unreadable input, model file or output location; one line, before Spark starts."""


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV, REPO_ROOT / "conf" / "pipeline.yaml"))


def read_yaml(path: str | os.PathLike) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
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


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_type(key: str, default: Any, value: Any) -> Any:
    """Return `value` coerced to the default's type where that is lossless, else raise."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        if isinstance(value, list):
            return value
    elif isinstance(default, dict):
        if isinstance(value, dict):
            return value
    raise ConfigError(
        f"config key '{key}' must be a {_type_name(default)}, got {value!r} ({_type_name(value)})")


def _merge(defaults: dict, update: dict, prefix: str = "") -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise ConfigError(f"unknown config key '{dotted}' (known here: {known})")
        default = defaults[key]
        if isinstance(default, dict) and default and isinstance(value, dict):
            merged[key] = _merge(default, value, dotted + ".")
        else:
            merged[key] = _check_type(dotted, default, value)
    return merged


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


def _nest(path: list[str], value: Any) -> dict:
    for part in reversed(path):
        value = {part: value}
    return value


def load_config(
    user_file: str | os.PathLike | None = None,
    overrides: Iterable[str] = (),
    defaults_file: str | os.PathLike | None = None,
) -> dict:
    """Defaults, then the user's YAML file, then each `a.b=value` override, checked at every step."""
    config = read_yaml(defaults_file or default_config_path())
    if user_file:
        config = _merge(config, read_yaml(user_file))
    for text in overrides:
        path, value = parse_override(text)
        config = _merge(config, _nest(path, value))
    return config


def section(config: dict, name: str) -> dict:
    if name not in config:
        raise ConfigError(f"config has no section '{name}'")
    return config[name]


def config_hash(obj: Any) -> str:
    """A short stable hash of any JSON-able configuration."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
