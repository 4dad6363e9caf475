"""Reporting lines as matching rules: who may never share a group, and cycles in a chart.

Pure: a chart is (person, manager) pairs of ids, one per reporting line; a person may have
several managers (a matrix organisation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


def reporting_pairs(
    lines: Iterable[tuple[str, str]], *, skip_level: bool = False
) -> set[tuple[str, str]]:
    """Return the pairs a "never pair within a reporting line" rule keeps apart.

    Each (person, manager) line gives (person, manager); with `skip_level`, also (person,
    each manager of their manager). Self pairs (a person listed as their own manager, or a
    two-person cycle seen skip-level) are left out. Shape: set of (person, manager) tuples.
    """
    managers: defaultdict[str, set[str]] = defaultdict(set)
    for person, manager in lines:
        if person != manager:
            managers[person].add(manager)
    pairs = {(p, m) for p, ms in managers.items() for m in ms}
    if skip_level:
        for person, ms in managers.items():
            for m in ms:
                pairs.update((person, top) for top in managers.get(m, ()) if top != person)
    return pairs


def reporting_cycles(lines: Iterable[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Return each loop in the chart (people who, following managers, reach themselves).

    Shape: one sorted tuple of ids per strongly connected group of two or more people, plus
    one 1-tuple per person listed as their own manager; sorted. Iterative (deep charts).
    """
    graph: defaultdict[str, set[str]] = defaultdict(set)
    loops: list[tuple[str, ...]] = []
    for person, manager in lines:
        if person == manager:
            loops.append((person,))
        else:
            graph[person].add(manager)
            graph.setdefault(manager, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    loops.append(tuple(sorted(component)))
    return sorted(set(loops))
