"""The blossom search finds maximum matchings, checked against networkx."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from bot.matching.blossom import maximum_matching


@pytest.mark.parametrize("seed", range(40))
def test_maximum_matching_size_equals_networkx(seed):
    rnd = random.Random(seed)
    n = rnd.randint(2, 30)
    p = rnd.uniform(0.05, 0.5)
    edges = [(a, b) for a in range(n) for b in range(a + 1, n) if rnd.random() < p]
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    mate = maximum_matching(adj)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    expected = len(nx.max_weight_matching(g, maxcardinality=True))
    assert sum(1 for v in range(n) if mate[v] > v) == expected
    for v, u in enumerate(mate):
        if u >= 0:
            assert mate[u] == v and u in adj[v]
