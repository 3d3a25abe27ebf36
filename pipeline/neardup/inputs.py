"""Named inputs (`--input webtext=DIR`), their priority, and their Parquet schemas checked with
pyarrow on the driver, so that inputs which cannot be unioned fail before Spark starts, naming the
column."""
from __future__ import annotations

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import InputError
from pipeline.core.schema import DOC_ARROW_SCHEMA

RESERVED = {"removed"}


def parse_inputs(specs: list[str]) -> dict[str, str]:
    """["webtext=DIR", ...] -> {name: DIR}, in the order given."""
    inputs: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise InputError(f"--input {spec!r} is not of the form NAME=DIR")
        if name in inputs:
            raise InputError(f"--input {name} is given twice")
        if name in RESERVED or name.startswith(("_", ".")):
            raise InputError(f"--input name {name!r} is reserved")
        inputs[name] = path.strip()
    if not inputs:
        raise InputError("give at least one --input NAME=DIR")
    return inputs


def parse_priority(priority: str | None, names: list[str]) -> list[str]:
    """Source names, highest priority first; default: the order of the --input flags."""
    if not priority:
        return list(names)
    order = [p.strip() for p in priority.split(",") if p.strip()]
    unknown = [p for p in order if p not in names]
    if unknown:
        raise InputError(f"--priority names {', '.join(unknown)}, which no --input gives")
    missing = [n for n in names if n not in order]
    if missing:
        raise InputError(f"--priority must list every input; missing: {', '.join(missing)}")
    if len(set(order)) != len(order):
        raise InputError("--priority lists a source twice")
    return order


def _first_parquet(path: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = fsspec.core.url_to_fs(path)
    if not fs.exists(root):
        raise InputError(f"input not found: {path}")
    if fs.isfile(root):
        return fs, root
    files = sorted(f for f in fs.find(root)
                   if f.endswith(".parquet") and not any(p.startswith(("_", "."))
                                                        for p in f[len(root):].split("/")))
    if not files:
        raise InputError(f"input {path} holds no .parquet file")
    return fs, files[0]


def read_schema(path: str) -> pa.Schema:
    fs, first = _first_parquet(path)
    try:
        with fs.open(first, "rb") as fh:
            return pq.read_schema(fh)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"input {path}: {first} is not a readable Parquet file ({exc})") from None


def _kind(dtype: pa.DataType) -> str:
    """Type family: Spark reads int96 and timestamp[us, UTC], float and double, alike."""
    for name, test in (("string", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
                       ("timestamp", pa.types.is_timestamp), ("float", pa.types.is_floating),
                       ("integer", pa.types.is_integer), ("map", pa.types.is_map)):
        if test(dtype):
            return name
    return str(dtype)


def check_schemas(inputs: dict[str, str]) -> None:
    """Every document column present with the document type's family, and the inputs alike."""
    schemas = {name: read_schema(path) for name, path in inputs.items()}
    for name, schema in schemas.items():
        for field in DOC_ARROW_SCHEMA:
            if field.name not in schema.names:
                raise InputError(f"input {name} ({inputs[name]}) lacks column '{field.name}'")
            got, want = _kind(schema.field(field.name).type), _kind(field.type)
            if got != want:
                raise InputError(f"input {name}: column '{field.name}' is {schema.field(field.name).type}, "
                                 f"expected {field.type}")
    first_name, first = next(iter(schemas.items()))
    for name, schema in schemas.items():
        for column in sorted(set(schema.names) ^ set(first.names)):
            where = name if column in schema.names else first_name
            raise InputError(f"inputs differ: column '{column}' is in {where} but not in both "
                             f"{first_name} and {name}")
        for column in schema.names:
            a, b = first.field(column).type, schema.field(column).type
            if _kind(a) != _kind(b):
                raise InputError(f"inputs differ: column '{column}' is {a} in {first_name}, {b} in {name}")
