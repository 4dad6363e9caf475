"""Edmonds' blossom algorithm for maximum-cardinality matching, grown from a given matching."""

from __future__ import annotations

from collections.abc import Sequence


def _lca(base: list[int], mate: list[int], parent: list[int], a: int, b: int) -> int:
    """Return the base of the blossom closed by edge (a, b)."""
    seen: set[int] = set()
    while True:
        a = base[a]
        seen.add(a)
        if mate[a] == -1:
            break
        a = parent[mate[a]]
    while True:
        b = base[b]
        if b in seen:
            return b
        b = parent[mate[b]]


def _find_augmenting(adj: Sequence[Sequence[int]], mate: list[int], root: int) -> bool:
    """Grow an alternating tree from root and augment along the first path found."""
    n = len(adj)
    used = {root}
    parent = [-1] * n
    base = list(range(n))
    queue = [root]
    head = 0

    def mark(v: int, b: int, child: int, in_blossom: set[int]) -> None:
        while base[v] != b:
            in_blossom.add(base[v])
            in_blossom.add(base[mate[v]])
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    while head < len(queue):
        v = queue[head]
        head += 1
        for to in adj[v]:
            if base[v] == base[to] or mate[v] == to:
                continue
            if to == root or (mate[to] != -1 and parent[mate[to]] != -1):
                cur = _lca(base, mate, parent, v, to)
                in_blossom: set[int] = set()
                mark(v, cur, to, in_blossom)
                mark(to, cur, v, in_blossom)
                # Contract: every vertex whose base lies on the cycle joins the blossom.
                for i in range(n):
                    if base[i] in in_blossom:
                        base[i] = cur
                        if i not in used:
                            used.add(i)
                            queue.append(i)
            elif parent[to] == -1:
                parent[to] = v
                if mate[to] == -1:
                    # Flip the path root ... to.
                    while to != -1:
                        pv = parent[to]
                        ppv = mate[pv]
                        mate[to] = pv
                        mate[pv] = to
                        to = ppv
                    return True
                nxt = mate[to]
                used.add(nxt)
                queue.append(nxt)
    return False


def maximum_matching(adj: Sequence[Sequence[int]], mate: list[int] | None = None) -> list[int]:
    """Return mate[] of a maximum-cardinality matching, extending the given one."""
    n = len(adj)
    mate = [-1] * n if mate is None else list(mate)
    # A quick greedy pass saves most tree searches.
    for v in range(n):
        if mate[v] == -1:
            for to in adj[v]:
                if mate[to] == -1 and to != v:
                    mate[v], mate[to] = to, v
                    break
    for v in range(n):
        if mate[v] == -1 and adj[v]:
            _find_augmenting(adj, mate, v)
    return mate
