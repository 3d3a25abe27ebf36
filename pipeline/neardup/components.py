"""Connected components of an edge list in Spark itself: the large-star / small-star alternation of
Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014), with no jar (GraphFrames
would be downloaded at run time). O(log^2 n) rounds of plain joins and aggregations on long ids; the
edge table is checkpointed every round so the query plan does not grow with the iterations.

Converged when the edges form stars: every node points to exactly one parent and no parent has a
parent; the centre of each star is then the smallest id of its component.
"""
from __future__ import annotations

import logging
from typing import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

log = logging.getLogger("webmix.neardup")


def _oriented(edges: DataFrame) -> DataFrame:
    """Edges as (a, b) with a > b, no self loops, no repeats."""
    return (edges.select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def large_star(edges: DataFrame) -> DataFrame:
    """Every neighbour larger than u is linked to the smallest of u's neighbourhood (u included)."""
    both = edges.select(F.col("a").alias("u"), F.col("b").alias("v")).unionByName(
        edges.select(F.col("b").alias("u"), F.col("a").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return _oriented(both.where(F.col("v") > F.col("u")).join(smallest, "u")
                     .select(F.col("v").alias("a"), F.col("m").alias("b")))


def small_star(edges: DataFrame) -> DataFrame:
    """u and every neighbour smaller than u are linked to the smallest of them."""
    smaller = edges.select(F.col("a").alias("u"), F.col("b").alias("v"))   # oriented: v < u
    smallest = smaller.groupBy("u").agg(F.min("v").alias("m"))
    linked = smaller.join(smallest, "u").select(F.col("v").alias("a"), F.col("m").alias("b"))
    own = smallest.select(F.col("u").alias("a"), F.col("m").alias("b"))
    return _oriented(linked.unionByName(own))


def _is_star_forest(edges: DataFrame) -> bool:
    """One job: no node with two parents, and no parent that has a parent."""
    two_parents = edges.groupBy("a").count().where(F.col("count") > 1).select("a")
    grandparents = edges.select(F.col("b").alias("a")).join(edges.select("a"), "a", "left_semi")
    return two_parents.unionByName(grandparents).limit(1).count() == 0


def connected_components(edges: DataFrame, checkpoint: Callable[[DataFrame], DataFrame],
                         max_rounds: int = 64) -> tuple[DataFrame, int]:
    """(node, root) for every node that has an edge; root = the smallest node of its component.
    `edges` has long columns a, b (direction ignored). Returns the table and the rounds taken."""
    current = checkpoint(_oriented(edges))
    rounds = 0
    while not _is_star_forest(current):
        if rounds == max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        current = checkpoint(small_star(large_star(current)))
        rounds += 1
        log.info("connected components: round %d", rounds)
    roots = current.select(F.col("b").alias("node"), F.col("b").alias("root")).distinct()
    return current.select(F.col("a").alias("node"), F.col("b").alias("root")).unionByName(roots), rounds
