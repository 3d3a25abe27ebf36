"""Who is removed, in favour of whom: exact-duplicate groups and near-duplicate clusters turned into
rows of the removed-ids table (rank, id, reason, cluster, cluster_size, survivor_rank, survivor_id).

The survivor of a group is always its smallest (source priority, id): deterministic whatever the
partitioning, and GPT-3's "fuzzily removed WebText from Common Crawl" when webtext ranks first.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

REMOVED_COLUMNS = ["rank", "id", "reason", "cluster", "cluster_size", "survivor_rank", "survivor_id"]


def exact_duplicates(keys: DataFrame, key: str, reason: str) -> DataFrame:
    """Every document sharing a non-null `key` with a higher-priority or smaller-id document."""
    groups = (keys.where(F.col(key).isNotNull()).groupBy(key)
              .agg(F.min(F.struct("rank", "id")).alias("s"), F.count("*").alias("cluster_size"))
              .where(F.col("cluster_size") > 1))
    return (keys.join(groups, key)
            .where((F.col("rank") != F.col("s.rank")) | (F.col("id") != F.col("s.id")))
            .select("rank", "id", F.lit(reason).alias("reason"),
                    F.concat(F.lit(f"{reason}:"), F.col(key)).alias("cluster"), "cluster_size",
                    F.col("s.rank").alias("survivor_rank"), F.col("s.id").alias("survivor_id")))


def cluster_removals(components: DataFrame, nodes: DataFrame, reason: str, cross_source: bool) -> DataFrame:
    """Removed members of connected components (node, root). Within a source every member but the
    root goes; across sources only members of a lower-priority source than the root's, so two
    documents of one source are never removed because of a third source."""
    ids = nodes.select("node", "rank", "id")
    sizes = components.groupBy("root").agg(F.count("*").alias("cluster_size"))
    root_ids = ids.withColumnsRenamed({"node": "root", "rank": "survivor_rank", "id": "survivor_id"})
    members = components.join(ids, "node").join(root_ids, "root").join(sizes, "root")
    gone = F.col("rank") > F.col("survivor_rank") if cross_source else F.col("node") != F.col("root")
    return (members.where(gone)
            .select("rank", "id", F.lit(reason).alias("reason"),
                    F.concat(F.lit(f"{reason}:"), F.col("survivor_rank").cast("string"), F.lit("/"),
                             F.col("survivor_id")).alias("cluster"),
                    "cluster_size", "survivor_rank", "survivor_id"))


def size_histogram(sizes: dict[int, int]) -> dict[str, int]:
    """{cluster size: clusters} -> clusters per power-of-two bin ("2", "3-4", "5-8", ...)."""
    bins: dict[str, int] = {}
    for size, count in sorted(sizes.items()):
        low = 2
        while low * 2 < size:
            low *= 2
        label = "2" if size <= 2 else f"{low + 1}-{low * 2}"
        bins[label] = bins.get(label, 0) + count
    return bins
