"""A real Spark standalone cluster (master + two 1-core workers on 127.0.0.1) for the `cluster` tier
(tests/cluster/cluster_harness.py submits to it). Skips with one line where Java or the archive is
missing or older than pipeline/."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import standalone  # noqa: E402  (a script as well as a module: `make cluster` runs it)

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory):
    if shutil.which("java") is None:
        pytest.skip("cluster tests need Java on PATH")
    archive = DIST / "webmix-env.tar.gz"
    if not archive.is_file():
        pytest.skip("cluster tests need dist/webmix-env.tar.gz: run `make dist` (make test builds it)")
    # Executors run the archive's copy of pipeline/: an older archive would compare old code with new.
    newest = max(p.stat().st_mtime for p in (REPO / "pipeline").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    if archive.stat().st_mtime < newest:
        pytest.skip("dist/webmix-env.tar.gz is older than pipeline/: run `make dist` (make test does)")
    cluster = standalone.start(str(tmp_path_factory.mktemp("cluster")), workers=2, worker_memory="2g")
    yield cluster
    standalone.stop(cluster)
