"""The trainer's tests run tiny models on a shared two-core machine: one intra-op thread each, since
two OpenMP threads spin-waiting against other processes make a 1 ms step take a second."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
