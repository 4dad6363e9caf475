"""Quality: total weight close to the exact maximum-weight matching (networkx reference)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from matching_helpers import members

from bot.matching import MatchRules, match_members
from bot.matching.weights import Scorer


@pytest.mark.parametrize("seed", range(6))
def test_pairs_weigh_nearly_as_much_as_the_exact_optimum(seed):
    ms = members(40, seed=seed)
    rules = MatchRules(cross_team_weight=0.5)
    ids = [m.id for m in ms]
    excl = [(ids[i], ids[(i * 7 + 3) % 40]) for i in range(0, 40, 4)]
    result = match_members(ms, exclusions=excl, rules=rules, seed=seed)
    scorer = Scorer(sorted(ms, key=lambda m: m.id), (), excl, rules, seed)
    w, ok = scorer.dense(np.arange(40))
    graph = nx.Graph()
    for a in range(40):
        for b in range(a + 1, 40):
            if ok[a, b]:
                graph.add_edge(a, b, weight=int(w[a, b]))
    exact = nx.max_weight_matching(graph, maxcardinality=True)
    optimum = sum(int(w[a, b]) for a, b in exact)
    assert result.stats["total_weight"] >= 0.98 * optimum
    assert result.stats["total_weight"] <= optimum
