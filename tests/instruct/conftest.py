"""Tiny fp32 models for the instruction-tuning tests (helpers in instruct_fixtures.py): a freshly
initialised tiny-dense GPT saved as a "pre-trained" checkpoint. One intra-op thread (the machine's
two cores are shared)."""
from __future__ import annotations

import pytest
import torch

from instruct_fixtures import make_base_checkpoint


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def base_ckpt(tmp_path_factory) -> str:
    return make_base_checkpoint(tmp_path_factory.mktemp("base"))
