"""The pareto keep rule: P(keep | s) = (2 - s)^-alpha, decided by (seed, id) alone."""
import numpy as np
import pytest

from pipeline.quality.sampling import keep_draw, keep_draws, keep_probability, lomax, pareto_keep


def test_keep_rate_per_score_bucket_matches_lomax_tail():
    alpha, n = 9.0, 200_000
    ids = [f"doc-{i}" for i in range(n)]
    draws = keep_draws(7, ids)
    scores = np.random.default_rng(0).uniform(0.0, 1.0, n)
    kept = pareto_keep(draws, scores, alpha)
    edges = np.linspace(0.0, 1.0, 11)
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bucket = (scores >= lo) & (scores < hi)
        # Expected rate: the mean of (2 - s)^-alpha over the bucket's own scores.
        expected = keep_probability(scores[in_bucket], alpha).mean()
        observed = kept[in_bucket].mean()
        stderr = np.sqrt(expected * (1 - expected) / in_bucket.sum())
        assert abs(observed - expected) < 4 * stderr + 1e-4, (lo, observed, expected)
    # GPT-3's alpha keeps most top documents and almost no low ones.
    assert kept[scores > 0.95].mean() > 0.6 and kept[scores < 0.05].mean() < 0.01


def test_lomax_matches_numpy_pareto_distribution():
    u = np.random.default_rng(1).uniform(size=100_000)
    ours = np.sort(lomax(u, 3.0))
    numpys = np.sort(np.random.default_rng(2).pareto(3.0, size=100_000))
    for q in (0.1, 0.5, 0.9, 0.99):
        assert ours[int(q * len(ours))] == pytest.approx(numpys[int(q * len(numpys))], rel=0.05)


def test_draw_is_a_function_of_seed_and_id():
    assert keep_draw(1, "a") == keep_draw(1, "a")
    assert keep_draw(1, "a") != keep_draw(2, "a")
    assert keep_draws(1, ["a", "b"]).tolist() == [keep_draw(1, "a"), keep_draw(1, "b")]
    assert 0.0 <= keep_draw(3, "x") < 1.0


def test_missing_score_is_never_kept():
    assert pareto_keep([0.999], [np.nan], 9.0).tolist() == [False]
    assert pareto_keep([0.5], [1.0], 9.0).tolist() == [True]   # score 1: any positive draw keeps


@pytest.mark.spark
def test_uniform_column_equals_python_draws(spark):
    from pipeline.quality.sampling import KEEP_SALT, uniform_column

    df = spark.createDataFrame([(f"id-{i}",) for i in range(50)], "id string").repartition(3)
    got = {r["id"]: r["u"] for r in df.select("id", uniform_column("id", 5, KEEP_SALT).alias("u")).collect()}
    assert got == {f"id-{i}": keep_draw(5, f"id-{i}") for i in range(50)}
