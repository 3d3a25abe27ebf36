"""Fine-tuning fixtures: a tiny-dense GPT checkpoint (random weights, a BPE trained on a planted
vocabulary) stands in for a pre-trained model; the helpers live in finetune_fixtures.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from finetune_fixtures import write_checkpoint


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("ft-pre"))
