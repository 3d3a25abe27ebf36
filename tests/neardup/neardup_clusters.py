"""Reference clusters for the near-duplicate tests: connected components of a pair list, by scipy
(the tests' independent check of the job's own Spark components)."""
from __future__ import annotations

from typing import Hashable, Iterable

from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def component_of(pairs: Iterable[tuple[Hashable, Hashable]], nodes: Iterable[Hashable]) -> dict:
    """node -> its component's number, for every node (linked or not)."""
    index = {node: i for i, node in enumerate(sorted(set(nodes)))}
    pairs = [(index[a], index[b]) for a, b in pairs]
    graph = coo_matrix(([1] * len(pairs), ([a for a, _ in pairs], [b for _, b in pairs])),
                       shape=(len(index), len(index)))
    _, labels = connected_components(graph, directed=False)
    return {node: int(labels[i]) for node, i in index.items()}


def clusters(pairs: Iterable[tuple[Hashable, Hashable]], nodes: Iterable[Hashable]) -> set[frozenset]:
    """The components of more than one node."""
    groups: dict[int, set] = {}
    for node, label in component_of(pairs, nodes).items():
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values() if len(g) > 1}
