"""Shared fixtures: one local Spark session for the whole suite (it takes tens of seconds to start
on two cores), the project's `spark-submit`, and the real data under ../shared/realdata, skipped
cleanly when absent.

Test tiers: a test's markers follow from the fixtures it uses (pytest_collection_modifyitems below),
so a new test is in the right tier without remembering a decorator. `make test-fast` deselects
`spark`, `slow` and `airflow`; `make test` runs everything.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("WEBMIX_REALDATA", REPO_ROOT.parent / "shared" / "realdata"))

# fixture a test uses (directly or through another fixture) -> the markers it gets
FIXTURE_MARKERS = {
    "spark": ("spark",),
    "spark_submit": ("spark", "slow"),
    "realdata": ("realdata",),
    "airflow": ("airflow", "slow"),    # tests/dags/conftest.py
    "standalone_cluster": ("cluster", "spark", "slow"),  # tests/cluster/conftest.py
}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, markers in FIXTURE_MARKERS.items():
            if fixture in used:
                for marker in markers:
                    item.add_marker(marker)


# Tiny torch models on a shared two-core machine: one intra-op thread each, since two OpenMP threads
# spin-waiting against other processes make a 1 ms step take a second.
ONE_TORCH_THREAD_DIRS = {"trainer", "eval", "instruct"}


@pytest.fixture(autouse=True)
def one_torch_thread(request):
    if request.path.parent.name not in ONE_TORCH_THREAD_DIRS:
        yield
        return
    import torch  # only here: the rest of the suite never needs torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data not found at {REALDATA}")
    return REALDATA


@pytest.fixture(scope="session")
def spark_submit() -> Path:
    """The project environment's `spark-submit` (a test that runs it starts a JVM of its own)."""
    return Path(sys.executable).parent / "spark-submit"


@pytest.fixture(scope="session")
def spark():
    from pipeline.core.spark import get_spark

    session = get_spark("webmix-tests", master="local[2]", conf={
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "3g",
    })
    yield session
    session.stop()
