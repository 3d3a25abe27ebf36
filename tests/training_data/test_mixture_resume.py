"""Exact resume: draw N batches, save the state, draw N more; a fresh loader given that state
yields the same N batches bit for bit — in the main process, with 2 DataLoader workers, and with
2 simulated DDP ranks — and no row is repeated or skipped between consumers."""
from __future__ import annotations

import io
from itertools import islice

import pytest
import torch

from training.data import MixtureLoader

N, BLOCK, BATCH = 12, 24, 3


def _draw(loader, n):
    return list(islice(iter(loader), n))


def _same(a, b):
    return len(a) == len(b) and all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


def _roundtrip(state):
    """Through torch.save / torch.load(weights_only=True), as a checkpoint carries it."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_is_exact(mixture, workers):
    loader = MixtureLoader(mixture, BLOCK, BATCH, num_workers=workers)
    _draw(loader, N)
    state = _roundtrip(loader.state_dict())
    second = _draw(loader, N)
    fresh = MixtureLoader(mixture, BLOCK, BATCH, num_workers=workers)
    fresh.load_state_dict(state)
    assert _same(_draw(fresh, N), second)
    assert fresh.tokens_per_source() == loader.tokens_per_source()


def test_worker_count_does_not_change_the_stream(mixture):
    """Also: a run may resume with another number of workers."""
    plain = _draw(MixtureLoader(mixture, BLOCK, BATCH), 2 * N)
    loader = MixtureLoader(mixture, BLOCK, BATCH, num_workers=2)
    assert _same(_draw(loader, N), plain[:N])
    fresh = MixtureLoader(mixture, BLOCK, BATCH, num_workers=0)
    fresh.load_state_dict(loader.state_dict())
    assert _same(_draw(fresh, N), plain[N:])


def test_two_ranks_resume_exactly_and_share_rows_without_gaps(mixture):
    single = _draw(MixtureLoader(mixture, BLOCK, BATCH), 4 * N)
    ranks = [MixtureLoader(mixture, BLOCK, BATCH, rank=r, world_size=2, num_workers=2 if r else 0) for r in (0, 1)]
    first = [_draw(loader, N) for loader in ranks]
    states = [_roundtrip(loader.state_dict()) for loader in ranks]
    assert states[0] == states[1]  # every rank knows the global position
    second = [_draw(loader, N) for loader in ranks]
    for r in (0, 1):
        fresh = MixtureLoader(mixture, BLOCK, BATCH, rank=r, world_size=2)
        fresh.load_state_dict(states[r])
        assert _same(_draw(fresh, N), second[r])
    # step s: rank 0 holds global rows [2s, 2s+1) * BATCH, rank 1 the next BATCH: together they are
    # exactly the single-consumer stream, nothing repeated or skipped
    merged = [batch for step in zip(first[0] + second[0], first[1] + second[1]) for batch in step]
    assert _same(merged, single)


def test_state_of_another_mixture_is_refused(mixture):
    from pipeline.tokens.mixture import MixtureError

    state = MixtureLoader(mixture, BLOCK, BATCH).state_dict()
    with pytest.raises(MixtureError, match="block_size"):
        MixtureLoader(mixture, BLOCK * 2, BATCH).load_state_dict(state)
