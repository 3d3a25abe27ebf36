"""Statistics computed from the data: every row carries a `drop_reason` (null = kept), named
`step:reason`; counts come from one aggregation over that column (or, where tasks write their own
files, from what each successful attempt returns: pipeline/core/task_output.py), never from
accumulators, which double-count retried and speculative tasks."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from pipeline.core.schema import DROP_REASON, KEPT


def reason_counts(df: DataFrame, column: str = DROP_REASON) -> dict[str, int]:
    rows = df.groupBy(F.coalesce(F.col(column), F.lit(KEPT)).alias("r")).count().collect()
    return {row["r"]: int(row["count"]) for row in rows}


def funnel(counts: dict[str, int], steps: list[str]) -> list[dict]:
    """Documents in and out of each step, with that step's drop reasons, in pipeline order."""
    remaining = sum(counts.values())
    table = []
    for step in steps:
        dropped = {r.split(":", 1)[1]: n for r, n in sorted(counts.items())
                   if r != KEPT and r.split(":", 1)[0] == step}
        out = remaining - sum(dropped.values())
        table.append({"step": step, "in": remaining, "out": out, "dropped": dropped})
        remaining = out
    return table


def examples(df: DataFrame, per_reason: int = 3, chars: int = 300) -> dict[str, list[dict]]:
    """A few documents per drop reason (and kept ones), chosen by id hash: the same every run."""
    reason = F.coalesce(F.col(DROP_REASON), F.lit(KEPT))
    ranked = (df.where(F.col("text").isNotNull())
              .select(reason.alias("reason"), "id", "url", F.substring("text", 1, chars).alias("text"))
              .withColumn("rank", F.row_number().over(
                  Window.partitionBy("reason").orderBy(F.xxhash64("id"), "id")))
              .where(F.col("rank") <= per_reason))
    result: dict[str, list[dict]] = {}
    for row in ranked.orderBy("reason", "rank").collect():
        result.setdefault(row["reason"], []).append({"id": row["id"], "url": row["url"], "text": row["text"]})
    return result
