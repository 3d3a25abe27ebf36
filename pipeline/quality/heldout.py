"""The one WebText hold-out slice: 10% of the documents, chosen by a hash of the document's text.

The slice is excluded from the classifier's training (its positives' held-out set is exactly this
slice), and the data ablation (issue 16) keeps it out of the tokenizer and every variant so that
held-out bits per byte are measured on text no model trained on. The key is the text as it is read
from the source file (before any cleaning or cut), so every reader of the same file agrees; there
is no seed on purpose: changing the slice would silently leak evaluation text into training.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from pipeline.core.hashing import text_digest, uniform

HELDOUT_FRACTION = 0.10
HELDOUT_SALT = "webtext-heldout"
_SEED = 0    # fixed: the slice is part of the project's definition, not a run setting


def heldout_draw(text: str | None) -> float:
    """The document's uniform draw in [0, 1) behind the slice."""
    return uniform(_SEED, text_digest(text or ""), HELDOUT_SALT)


def is_heldout(text: str | None) -> bool:
    """True for the ~10% of documents in the WebText hold-out slice."""
    return heldout_draw(text) < HELDOUT_FRACTION


def heldout_mask(texts: Iterable[str | None]) -> np.ndarray:
    """`is_heldout` over a batch of texts, as a bool array."""
    return np.fromiter((is_heldout(t) for t in texts), dtype=bool)
