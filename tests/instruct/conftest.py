"""Tiny fp32 models for the instruction-tuning tests (helpers in instruct_fixtures.py): a freshly
initialised tiny-dense GPT saved as a "pre-trained" checkpoint (one intra-op thread: tests/conftest.py)."""
from __future__ import annotations

import pytest

from instruct_fixtures import make_base_checkpoint


@pytest.fixture(scope="module")
def base_ckpt(tmp_path_factory) -> str:
    return make_base_checkpoint(tmp_path_factory.mktemp("base"))
