"""Expanding input arguments (files, folders, globs; local, s3://, https://) into file lists."""
from __future__ import annotations

import re


from pipeline.core.config import InputError
from pipeline.core.output import fs_path



def list_files(inputs: list[str], suffixes: tuple[str, ...] | None = None,
               what: str = "input") -> list[str]:
    """Every file under the given paths (folders walked, globs expanded), sorted, Spark/Hadoop
    marker files (_SUCCESS, .crc, _stats.json) skipped; InputError if none match."""
    found: list[str] = []
    for item in inputs:
        if item.startswith(("http://", "https://")):
            found.append(item)      # a single remote file: HTTP has no listing
            continue
        fs, path = fs_path(item)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if fs.isdir(path):
            names = fs.find(path)
        elif any(c in path for c in "*?["):
            names = fs.glob(path)
        elif fs.exists(path):
            names = [path]
        else:
            raise InputError(f"{what} not found: {item}")
        for name in sorted(names):
            base = name.rsplit("/", 1)[-1]
            if base.startswith(("_", ".")) or base.endswith(".crc"):
                continue
            if suffixes and not base.lower().endswith(suffixes):
                continue
            found.append(name if protocol in ("file", "local") else f"{protocol}://{name}")
    if not found:
        raise InputError(f"no {what} files in: {' '.join(inputs)}")
    return sorted(dict.fromkeys(found))


_OVERRIDE = re.compile(r"^[A-Za-z_]\w*(\.\w+)+=")


def split_overrides(items: list[str]) -> tuple[list[str], list[str]]:
    """`--input a b section.key=value`: argparse hands the override to --input (nargs="+");
    give it back. Paths never look like `word.word=...` (no slash or scheme before the '=')."""
    overrides = [item for item in items if _OVERRIDE.match(item)]
    return [item for item in items if not _OVERRIDE.match(item)], overrides
