import pytest


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    from pipeline.sample import generate

    out = tmp_path_factory.mktemp("sample") / "s0"
    generate(out, seed=0)
    return out
