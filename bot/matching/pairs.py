"""Near-optimal maximum-weight pairing: assignment or candidate greedy, then repair and 2-opt."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from .blossom import maximum_matching
from .weights import KEEP_BONUS, KEPT, Scorer

DENSE_LIMIT = 1500  # up to here all pairs fit in memory and the assignment relaxation is fast
BALL_CAP = 700  # augmenting paths are searched in a neighbourhood of this many members
CANDIDATES = 12  # kept per member in the sparse candidate graph
SORT_REACH = 3  # neighbours on each side in every sort order
RANDOM_CANDIDATES = 4
TWO_OPT_PASSES = 30
LOOKAHEAD_LIMIT = 400  # lookahead re-solves only for workspaces up to this size
LOOKAHEAD_TRIES = 6
THREE_OPT_K = 12  # neighbours per member tried in the 3-opt chain
THREE_OPT_ROUNDS = 20

Neighbours = Callable[[int], "np.ndarray | list[int]"]


class _Graph:
    """Pair weights and allowed edges over local indices 0..m-1 of one solve."""

    def __init__(self, scorer: Scorer, nodes: np.ndarray, salt: int, seed: int) -> None:
        self.scorer = scorer
        self.nodes = nodes
        self.salt = salt
        self.m = m = len(nodes)
        self.dense = m <= DENSE_LIMIT
        if self.dense:
            self.W, self.A = scorer.dense(nodes, salt)
            u, v = np.nonzero(np.triu(self.A, 1))
        else:
            u, v = self._candidates(seed)
        self.eu, self.ev = u.astype(np.int64), v.astype(np.int64)
        self.ew = self.w(self.eu, self.ev)
        both_u = np.concatenate([self.eu, self.ev])
        both_v = np.concatenate([self.ev, self.eu])
        order = np.argsort(both_u, kind="stable")
        self.adj_idx = both_v[order]
        self.adj_ptr = np.searchsorted(both_u[order], np.arange(m + 1))
        self.extra: dict[int, np.ndarray] = {}

    def w(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return weights of local pairs."""
        if self.dense:
            return self.W[u, v]
        return self.scorer.weight(self.nodes[u], self.nodes[v], self.salt)

    def ok(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return which local pairs may be grouped."""
        if self.dense:
            return self.A[u, v]
        return self.scorer.allowed(self.nodes[u], self.nodes[v])

    def neighbours(self, u: int) -> np.ndarray:
        """Return the candidate neighbours of u (all allowed members when dense)."""
        if self.dense:
            return np.flatnonzero(self.A[u])
        own = self.adj_idx[self.adj_ptr[u] : self.adj_ptr[u + 1]]
        more = self.extra.get(u)
        return own if more is None else np.concatenate([own, more])

    def _candidates(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Return candidate edges: neighbours in a few sort orders plus random members."""
        s, nodes, m = self.scorer, self.nodes, self.m
        rng = np.random.default_rng(seed)
        noise = rng.random(m)
        level = s.level[nodes]
        tz = s.tz[nodes]
        goal = s.goals[nodes, 0].astype(np.int64) & 0xFFFF  # first goals only, for ordering
        orders = [
            np.lexsort((noise, tz, level)),
            np.lexsort((noise, tz, goal, level)),
            np.lexsort((noise, level, tz)),
            np.lexsort((noise, level, tz, goal)),
        ]
        cols = []
        for order in orders:
            pos = np.empty(m, np.int64)
            pos[order] = np.arange(m)
            for off in range(1, SORT_REACH + 1):
                cols.append(order[(pos + off) % m])
                cols.append(order[(pos - off) % m])
        cols.extend(rng.integers(0, m, size=m) for _ in range(RANDOM_CANDIDATES))
        cand = np.stack(cols, axis=1)
        del cols
        rows = np.repeat(np.arange(m), cand.shape[1])
        gi, gj = nodes[rows], nodes[cand.ravel()]
        weight = s.weight(gi, gj, self.salt).astype(np.float64)
        weight[~s.allowed(gi, gj)] = -np.inf
        weight = weight.reshape(cand.shape)
        del rows, gi, gj
        keep = min(CANDIDATES, cand.shape[1])
        top = np.argpartition(-weight, keep - 1, axis=1)[:, :keep]
        cu = np.repeat(np.arange(m), keep)
        cv = np.take_along_axis(cand, top, axis=1).ravel()
        good = np.isfinite(np.take_along_axis(weight, top, axis=1).ravel())
        cu, cv = cu[good], cv[good]
        lo, hi = np.minimum(cu, cv), np.maximum(cu, cv)
        key = np.sort(lo * m + hi)  # sort-based dedupe; np.unique is much slower here
        key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key
        return key // m, key % m


def _assignment_start(g: _Graph) -> np.ndarray:
    """Match from the cycle cover given by the assignment relaxation (integer costs)."""
    m = g.m
    big = int(np.abs(g.W).max()) * 4 + 1
    cost = np.where(g.A, -g.W, big)
    np.fill_diagonal(cost, big)
    _, perm = linear_sum_assignment(cost)
    mate = np.full(m, -1, np.int64)
    seen = np.zeros(m, bool)
    for start in range(m):
        if seen[start]:
            continue
        cyc = []
        v = start
        while not seen[v]:
            seen[v] = True
            cyc.append(v)
            v = perm[v]
        _match_cycle(g, np.array(cyc), mate)
    return mate


def _match_cycle(g: _Graph, cyc: np.ndarray, mate: np.ndarray) -> None:
    """Pick the best matching along one cycle of the cover (odd cycles drop one member)."""
    k = len(cyc)
    if k < 2:
        return
    nxt = np.roll(cyc, -1)
    ok = g.A[cyc, nxt]
    e = np.where(ok, g.W[cyc, nxt], -(10**15))
    if k % 2 == 0:
        starts = [0, 1]
        sums = [e[0::2].sum(), e[1::2].sum()]
        s = starts[int(np.argmax(sums))]
        picks = (s + 2 * np.arange(k // 2)) % k
    else:
        # Dropping member s leaves a path whose edges are e[s+1], e[s+3], ...
        offs = 1 + 2 * np.arange((k - 1) // 2)
        table = e[(np.arange(k)[:, None] + offs[None, :]) % k]
        s = int(np.argmax(table.sum(axis=1)))
        picks = (s + offs) % k
    for p in picks:
        if ok[p]:
            a, b = cyc[p], nxt[p]
            mate[a], mate[b] = b, a


def _greedy(g: _Graph, mate: np.ndarray) -> None:
    """Add the heaviest candidate edges between unmatched members."""
    order = np.argsort(-g.ew, kind="stable")
    ml = mate.tolist()
    for a, b in zip(g.eu[order].tolist(), g.ev[order].tolist(), strict=True):
        if ml[a] < 0 and ml[b] < 0:
            ml[a], ml[b] = b, a
    mate[:] = ml


def _pair_leftovers(g: _Graph, mate: np.ndarray, seed: int) -> None:
    """Pair the unmatched members among themselves, heaviest allowed pair first."""
    free = np.flatnonzero(mate < 0)
    rounds = 0
    while free.size > 2000 and rounds < 5:
        # Many leftovers: a fresh candidate graph over them alone, then greedy again.
        sub = _Graph(g.scorer, g.nodes[free], g.salt, seed + 7 + rounds)
        sub_mate = np.full(free.size, -1, np.int64)
        _greedy(sub, sub_mate)
        has = sub_mate >= 0
        mate[free[has]] = free[sub_mate[has]]
        free = np.flatnonzero(mate < 0)
        rounds += 1
    if free.size < 2 or free.size > 3000:
        return
    ii, jj = np.triu_indices(free.size, 1)
    a, b = free[ii], free[jj]
    ok = g.ok(a, b)
    a, b = a[ok], b[ok]
    w = g.w(a, b)
    order = np.argsort(-w, kind="stable")
    for x, y in zip(a[order].tolist(), b[order].tolist(), strict=True):
        if mate[x] < 0 and mate[y] < 0:
            mate[x], mate[y] = y, x


def augment(mate: np.ndarray, neighbours: Neighbours, cap: int = BALL_CAP) -> np.ndarray:
    """Grow the matching along augmenting paths found near the unmatched members."""
    free = np.flatnonzero(mate < 0).tolist()
    if len(free) < 2:
        return mate
    pos: dict[int, int] = {}
    ball: list[int] = []

    def add(x: int) -> None:
        if x not in pos:
            pos[x] = len(ball)
            ball.append(x)
            if mate[x] >= 0 and mate[x] not in pos:
                pos[int(mate[x])] = len(ball)
                ball.append(int(mate[x]))

    for f in free:
        add(f)
    head = 0
    while head < len(ball) and len(ball) < cap:
        for x in np.asarray(neighbours(ball[head])).tolist():
            add(x)
        head += 1
    adj = []
    for v in ball:
        adj.append([pos[x] for x in np.asarray(neighbours(v)).tolist() if x in pos])
    local = [pos[int(mate[v])] if mate[v] >= 0 else -1 for v in ball]
    local = maximum_matching(adj, local)
    out = mate.copy()
    for k, v in enumerate(ball):
        out[v] = ball[local[k]] if local[k] >= 0 else -1
    return out


def two_opt(g: _Graph, mate: np.ndarray, passes: int = TWO_OPT_PASSES) -> np.ndarray:
    """Swap partners of two pairs whenever the total weight grows (vectorised passes)."""
    mate = mate.copy()
    m = g.m
    pw = np.zeros(m, np.int64)
    has = mate >= 0
    pw[has] = g.w(np.flatnonzero(has), mate[has])
    kept_any = bool((g.scorer.hist_flags & KEPT).any())
    ub = g.scorer.max_pref + (KEEP_BONUS if kept_any else 0)
    a_all = np.concatenate([g.eu, g.ev])
    c_all = np.concatenate([g.ev, g.eu])
    w_all = np.concatenate([g.ew, g.ew])
    for _ in range(passes):
        b_all, d_all = mate[a_all], mate[c_all]
        base = w_all - pw[a_all] - pw[c_all]
        sel = (b_all >= 0) & (d_all >= 0) & (b_all != c_all) & (base + ub > 0)
        a, c, b, d, base = a_all[sel], c_all[sel], b_all[sel], d_all[sel], base[sel]
        if a.size == 0:
            break
        ok = g.ok(b, d)
        gain = base + g.w(b, d)
        pos = ok & (gain > 0)
        if not pos.any():
            break
        a, b, c, d, gain = a[pos], b[pos], c[pos], d[pos], gain[pos]
        order = np.argsort(-gain, kind="stable")
        used = np.zeros(m, bool)
        changed = 0
        for k in order.tolist():
            q = (a[k], b[k], c[k], d[k])
            if used[q[0]] or used[q[1]] or used[q[2]] or used[q[3]]:
                continue
            used[list(q)] = True
            mate[q[0]], mate[q[2]] = q[2], q[0]
            mate[q[1]], mate[q[3]] = q[3], q[1]
            changed += 1
        touched = np.flatnonzero(used)
        pw[touched] = g.w(touched, mate[touched])
        if changed == 0:
            break
    return mate


def three_opt(g: _Graph, mate: np.ndarray, k: int = THREE_OPT_K) -> tuple[np.ndarray, int]:
    """Rotate partners among three pairs: (a,b),(c,d),(e,f) -> (a,c),(d,e),(f,b) when heavier."""
    mate = mate.copy()
    m = g.m
    W = np.where(g.A, g.W, -(10**15))
    np.fill_diagonal(W, -(10**15))
    k = min(k, m - 1)
    nbr = np.argpartition(-W, k - 1, axis=1)[:, :k]
    a = np.repeat(np.arange(m), k)
    c = nbr.ravel()
    b, d = mate[a], mate[c]
    ok = (b >= 0) & (d >= 0) & (c != b) & g.A[a, c]
    a, b, c, d = a[ok], b[ok], c[ok], d[ok]
    g1 = W[a, c] - W[a, b] - W[c, d]
    e = nbr[d]
    f = mate[e]
    A_, B_, C_, D_, G1 = (x[:, None] for x in (a, b, c, d, g1))
    fine = (f >= 0) & (e != A_) & (e != B_) & (e != C_) & (e != D_)
    fine &= (f != A_) & (f != B_) & (f != C_) & (f != D_)
    fs = np.where(f >= 0, f, 0)
    gain = G1 + W[D_, e] - W[e, fs] + W[B_, fs]
    gain = np.where(fine & g.A[B_, fs] & g.A[D_, e], gain, 0)
    rows, cols = np.nonzero(gain > 0)
    if rows.size == 0:
        return mate, 0
    order = np.argsort(-gain[rows, cols], kind="stable")
    used = np.zeros(m, bool)
    applied = 0
    for q in order.tolist():
        r, col = rows[q], cols[q]
        six = (a[r], b[r], c[r], d[r], e[r, col], f[r, col])
        if used[list(six)].any():
            continue
        used[list(six)] = True
        va, vb, vc, vd, ve, vf = six
        mate[va], mate[vc] = vc, va
        mate[vd], mate[ve] = ve, vd
        mate[vf], mate[vb] = vb, vf
        applied += 1
    return mate, applied


def _local_search(g: _Graph, mate: np.ndarray) -> np.ndarray:
    """Alternate 2-opt and (on dense rounds) 3-opt until neither finds a heavier matching."""
    mate = two_opt(g, mate)
    if not g.dense or g.m < 6:
        return mate
    for _ in range(THREE_OPT_ROUNDS):
        mate, applied = three_opt(g, mate)
        if not applied:
            break
        mate = two_opt(g, mate)
    return mate


def _repeat_pairs(g: _Graph, mate: np.ndarray) -> np.ndarray:
    """Return the members whose current pair is a repeat."""
    v = np.flatnonzero(mate >= 0)
    rep = g.scorer.is_repeat(g.nodes[v], g.nodes[mate[v]])
    return v[rep]


def _repair_repeats(g: _Graph, mate: np.ndarray) -> np.ndarray:
    """Try to replace repeat pairs by alternating paths over first-time pairs."""
    bad = _repeat_pairs(g, mate)
    if bad.size == 0:
        return mate
    s = g.scorer

    def fresh(u: int) -> np.ndarray:
        nb = np.asarray(g.neighbours(u))
        return nb[~s.is_repeat(np.full(nb.size, g.nodes[u]), g.nodes[nb])]

    trial = mate.copy()
    trial[bad] = -1
    trial = augment(trial, fresh)
    if (trial < 0).sum() > (mate < 0).sum():
        trial = augment(trial, g.neighbours)
    if (trial < 0).sum() <= (mate < 0).sum() and _repeat_pairs(g, trial).size < bad.size:
        return _local_search(g, trial)
    return mate


def _complete(g: _Graph, mate: np.ndarray, seed: int) -> np.ndarray:
    """Make the matching as large as the allowed edges permit."""
    if (mate < 0).sum() < 2:
        return mate
    if not g.dense:
        # Unmatched members of a huge round also look at a few random allowed members.
        rng = np.random.default_rng(seed + 1)
        extra: dict[int, list[int]] = {}
        for u in np.flatnonzero(mate < 0).tolist():
            cand = rng.integers(0, g.m, size=64)
            cand = cand[g.ok(np.full(cand.size, u), cand)].tolist()
            extra.setdefault(u, []).extend(cand)
            for x in cand:
                extra.setdefault(x, []).append(u)
        g.extra = {k: np.array(v, np.int64) for k, v in extra.items()}
    return augment(mate, g.neighbours)


def _fresh_next_round_possible(g: _Graph, mate: np.ndarray) -> bool:
    """Return whether a repeat-free perfect matching still exists once these pairs have met."""
    s = g.scorer
    fresh = g.A & ~s.is_repeat(g.nodes[:, None], g.nodes[None, :])
    has = mate >= 0
    fresh[np.flatnonzero(has), mate[has]] = False
    adj = [np.flatnonzero(row).tolist() for row in fresh]
    nxt = maximum_matching(adj)
    return sum(1 for x in nxt if x < 0) <= g.m % 2


def solve_pairs(scorer: Scorer, nodes: np.ndarray, seed: int) -> list[tuple[int, int]]:
    """Return heavy pairs over the given member indices (as many as exclusions allow)."""
    mate = _solve_once(scorer, nodes, seed, 0)
    m = len(nodes)
    if 4 <= m <= LOOKAHEAD_LIMIT and (mate >= 0).all():
        g = _Graph(scorer, nodes, 0, seed)
        if _repeat_pairs(g, mate).size == 0 and not _fresh_next_round_possible(g, mate):
            # Lookahead: another tie-break often keeps next round repeat-free too.
            for salt in range(1, LOOKAHEAD_TRIES + 1):
                other = _solve_once(scorer, nodes, seed, salt)
                g2 = _Graph(scorer, nodes, salt, seed)
                if (
                    (other >= 0).all()
                    and _repeat_pairs(g2, other).size == 0
                    and _fresh_next_round_possible(g2, other)
                ):
                    mate = other
                    break
    return [(int(nodes[a]), int(nodes[b])) for a, b in enumerate(mate.tolist()) if a < b]


def _pipeline(g: _Graph, seed: int, start: str) -> np.ndarray:
    """Build one matching from the given start ("assignment" or "greedy") and improve it."""
    mate = np.full(g.m, -1, np.int64)
    if start == "assignment":
        mate = _assignment_start(g)
    else:
        _greedy(g, mate)
    _pair_leftovers(g, mate, seed)
    mate = _complete(g, mate, seed)
    mate = _local_search(g, mate)
    return _repair_repeats(g, mate)


def _solve_once(scorer: Scorer, nodes: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Run the pairing pipeline with one tie-break draw; return local mates."""
    g = _Graph(scorer, nodes, salt, seed)
    if g.m < 2:
        return np.full(g.m, -1, np.int64)
    if not g.dense:
        return _pipeline(g, seed, "greedy")
    return _pipeline(g, seed, "assignment")
