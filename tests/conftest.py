"""Shared fixtures: one local Spark session for the whole suite (it takes tens of seconds to start
on two cores), and the real data under ../shared/realdata, skipped cleanly when absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("WEBMIX_REALDATA", REPO_ROOT.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data not found at {REALDATA}")
    return REALDATA


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
