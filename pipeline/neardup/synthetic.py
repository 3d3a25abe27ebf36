"""A generated corpus with known near-duplicates, for the tests and bench/dedup.py: cheap and
deterministic. Words come from the standard library's docstrings, drawn with Zipf-like frequencies;
a chosen fraction of documents are edited copies of an earlier one (a few words replaced at random
positions, so their word 5-gram Jaccard with the original spans roughly 0.6 to 1)."""
from __future__ import annotations

import importlib
import inspect
import re
from functools import lru_cache
from typing import Iterator

import numpy as np
import pyarrow as pa

from pipeline.core.hashing import text_digest
from pipeline.core.schema import DOC_ARROW_SCHEMA

_MODULES = ("os", "re", "json", "collections", "itertools", "functools", "argparse", "logging",
            "subprocess", "pathlib", "datetime", "decimal", "fractions", "statistics", "string",
            "textwrap", "unittest", "csv", "sqlite3", "threading", "asyncio", "inspect", "pickle",
            "zipfile", "tarfile", "socket", "ssl", "email", "http.client", "urllib.parse")


@lru_cache(maxsize=1)
def word_list() -> np.ndarray:
    words: set[str] = set()
    for name in _MODULES:
        module = importlib.import_module(name)
        for _, member in inspect.getmembers(module):
            doc = getattr(member, "__doc__", None)
            if isinstance(doc, str):
                words.update(re.findall(r"[a-z]{2,}", doc.lower()))
    # A fixed shuffle, so that Zipf ranks do not follow the alphabet.
    return np.random.default_rng(0).permutation(np.array(sorted(words)))


def generate(n_docs: int, dup_fraction: float = 0.1, seed: int = 0, mean_words: int = 400,
             max_edit_rate: float = 0.05, source: str = "synthetic") -> Iterator[tuple[list, list, list]]:
    """Batches of (ids, texts, origins): origin is the id of the document a near-duplicate was
    copied from (its own id for an original)."""
    rng = np.random.default_rng(seed)
    vocab = word_list()
    names = vocab.tolist()
    cdf = np.cumsum(1.0 / np.arange(1, len(vocab) + 1))
    cdf /= cdf[-1]

    def draw(k: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cdf, rng.random(k)), len(vocab) - 1)

    originals: list[tuple[str, np.ndarray]] = []
    batch = ([], [], [])
    for i in range(n_docs):
        doc_id = f"{source}-{i:08d}"
        if originals and rng.random() < dup_fraction:
            origin, words = originals[rng.integers(len(originals))]
            words = words.copy()
            edits = rng.integers(0, int(len(words) * max_edit_rate) + 1)
            words[rng.integers(0, len(words), edits)] = draw(edits)
        else:
            length = max(20, int(rng.lognormal(np.log(mean_words), 0.5)))
            words = draw(length)
            origin = doc_id
            if len(originals) < 50_000:
                originals.append((doc_id, words))
        batch[0].append(doc_id)
        batch[1].append(" ".join(map(names.__getitem__, words.tolist())) + ".")
        batch[2].append(origin)
        if len(batch[0]) == 5000:
            yield batch
            batch = ([], [], [])
    if batch[0]:
        yield batch


def to_docs(ids: list[str], texts: list[str], source: str = "synthetic", urls: list | None = None) -> pa.Table:
    """Rows of the document schema for generated texts."""
    n = len(ids)
    return pa.table({
        "id": ids, "digest": [text_digest(t) if t is not None else None for t in texts], "text": texts,
        "source": [source] * n, "url": urls or [None] * n, "date": [None] * n, "lang": ["en"] * n,
        "lang_score": [1.0] * n, "quality_score": [None] * n, "meta": [None] * n,
    }, schema=DOC_ARROW_SCHEMA)
