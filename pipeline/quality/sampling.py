"""GPT-3's keep rule: keep a document iff np.random.pareto(alpha) > 1 - score.

numpy's `pareto` is the Lomax distribution: x = (1 - u)^(-1/alpha) - 1 for u uniform in [0, 1), so
P(keep | s) = P(x > 1 - s) = (2 - s)^(-alpha). Instead of a random generator the draw u comes from
(seed, document id) through pipeline.core.hashing, so a rerun, a retried task or another
partitioning keeps exactly the same documents.
"""
# No `from __future__ import annotations` here: pyspark reads the pandas UDF's type hints at runtime.
import numpy as np

from pipeline.core.hashing import uniform, uniforms

KEEP_SALT = "pareto-keep"


def keep_draw(seed: int, doc_id: str) -> float:
    """The uniform draw in [0, 1) behind a document's keep decision."""
    return uniform(seed, doc_id, KEEP_SALT)


def keep_draws(seed: int, doc_ids) -> np.ndarray:
    """`keep_draw` over a batch of ids."""
    return uniforms(seed, doc_ids, KEEP_SALT)


def lomax(draw, alpha: float) -> np.ndarray:
    """Inverse CDF of Lomax(alpha) (numpy's pareto) at the uniform draw(s)."""
    return np.power(1.0 - np.asarray(draw, dtype=np.float64), -1.0 / alpha) - 1.0


def pareto_keep(draw, score, alpha: float) -> np.ndarray:
    """Keep decisions (bool array); a missing (NaN) score is never kept."""
    score = np.asarray(score, dtype=np.float64)
    return lomax(draw, alpha) > 1.0 - score


def keep_probability(score, alpha: float) -> np.ndarray:
    """P(keep | score) = (2 - score)^(-alpha): the expected keep rate of documents with that score."""
    return np.power(2.0 - np.asarray(score, dtype=np.float64), -alpha)


def uniform_column(id_col, seed: int, salt: str):
    """Spark Column of `pipeline.core.hashing.uniform(seed, id, salt)`, computed per Arrow batch."""
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def draw(ids: pd.Series) -> pd.Series:
        return pd.Series(uniforms(seed, ids.astype(str), salt), index=ids.index)

    return draw(F.col(id_col) if isinstance(id_col, str) else id_col)
