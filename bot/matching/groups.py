"""Group shapes: sizes, the fair trio seat, circles of 3-4, first speakers and reasons."""

from __future__ import annotations

import numpy as np

from .model import Reason, shared_goal_reason
from .weights import GOOD_TZ_OVERLAP, KEPT, MET, REPEAT, WORK_MINUTES, Scorer

TRIO_FAIRNESS = 200_000  # each past trio seat costs more than any preference, less than a repeat
TRIO_PARTNER_POOL = 300  # partners of the trio centre considered for the other two seats
EXCLUDED = -(10**12)  # stands for "may not share a group" inside the circle local search
CIRCLE_PASSES = 40
LARGE_CIRCLE_PASSES = 6  # large rounds: random swaps converge slowly, time matters more
CIRCLE_SAMPLES = 8  # random swap partners per member and pass in large rounds
CIRCLE_POOL = 128  # free members sampled when filling a circle in a large round


def group_sizes(n: int, size: int) -> list[int]:
    """Return group sizes for n members: size-g groups and the fewest off-size (g±1) groups."""
    if n < 2:
        return []
    if size == 2:
        return [2] * ((n - 3) // 2) + [3] if n % 2 else [2] * (n // 2)
    r = n % size
    if r == 0:
        return [size] * (n // size)
    if size == 3:
        # One circle of 4 (n = 3k+1) or one pair (n = 3k+2); both are a single off-size group.
        return [3] * ((n - 4) // 3) + [4] if r == 1 else [3] * ((n - 2) // 3) + [2]
    if size == 5:
        # Circles of five: the remainder makes one or two circles of 3-4 (n=4: one of 4).
        k = n // 5
        if n < 5:
            return [n] if n >= 3 else [2]
        tail = {1: [3, 3], 2: [4, 3], 3: [3], 4: [4]}[r]
        return [5] * (k - (1 if r in (1, 2) else 0)) + tail
    if r == 1:
        return [4] * ((n - 5) // 4) + [5] if n >= 5 else []
    if r == 2:
        return [4] * ((n - 6) // 4) + [3, 3] if n >= 6 else [2]
    return [4] * ((n - 3) // 4) + [3]


def trio_centres(scorer: Scorer, limit: int) -> list[int]:
    """Return members best suited to sit in this round's trio, fairest first."""
    s, n = scorer, scorer.n
    met = np.zeros(n, np.int64)
    if s.hist.keys.size:
        rep = (s.hist_flags & REPEAT) != 0
        keys = s.hist.keys[rep]
        met = np.bincount(keys // n, minlength=n) + np.bincount(keys % n, minlength=n)
    unmet = (n - 1) - s.excl_degree - met
    last = (s.last_trio_age == 1).astype(np.int64)
    h = (s.hash >> np.uint64(1)).astype(np.int64)
    order = np.lexsort((h, -unmet, s.trio_count, last))
    return order[:limit].tolist()


def best_trio(scorer: Scorer, centre: int, nodes: np.ndarray) -> tuple[int, int, int] | None:
    """Return the heaviest allowed trio around centre, avoiding recent trio members."""
    s = scorer
    others = nodes[nodes != centre]
    ok = s.allowed(np.full(others.size, centre), others)
    others = others[ok]
    if others.size < 2:
        return None
    fair = TRIO_FAIRNESS * s.trio_count[others] + 50 * TRIO_FAIRNESS * (
        s.last_trio_age[others] == 1
    )
    wc = s.weight(np.full(others.size, centre), others) - fair
    if others.size > TRIO_PARTNER_POOL:
        top = np.argpartition(-wc, TRIO_PARTNER_POOL - 1)[:TRIO_PARTNER_POOL]
        others, wc = others[top], wc[top]
    ii, jj = np.triu_indices(others.size, 1)
    a, b = others[ii], others[jj]
    score = wc[ii] + wc[jj] + s.weight(a, b)
    score = np.where(s.allowed(a, b), score, np.iinfo(np.int64).min)
    k = int(np.argmax(score))
    if score[k] == np.iinfo(np.int64).min:
        return None
    return centre, int(a[k]), int(b[k])


def _group_weight_matrix(s: Scorer, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return W(a, rows[:, k]) with padding as 0 and excluded pairs as EXCLUDED."""
    pad = rows < 0
    r = np.where(pad, 0, rows)
    aa = np.broadcast_to(a[:, None], r.shape)
    w = s.weight(aa, r)
    w = np.where(s.allowed(aa, r), w, EXCLUDED)
    return np.where(pad | (r == aa), 0, w)


def circles(scorer: Scorer, sizes: list[int], seed: int) -> list[list[int]]:
    """Return circles of the given sizes: greedy fill, then vectorised member swaps."""
    s, n = scorer, scorer.n
    rng = np.random.default_rng(seed)
    # Hardest members (longest never-pair lists) are seated first, while seats are free.
    order = np.lexsort(((s.hash >> np.uint64(1)).astype(np.int64), -s.excl_degree))
    free_arr = order.copy()  # unseated members; seated ones are swapped to the end
    where = np.empty(n, np.int64)
    where[free_arr] = np.arange(n)
    count = n

    def seat(v: int) -> None:
        nonlocal count
        p, last = where[v], free_arr[count - 1]
        free_arr[p], free_arr[count - 1] = last, v
        where[last], where[v] = p, count - 1
        count -= 1

    groups: list[list[int]] = []
    head_ptr = 0
    for size in sorted(sizes, reverse=True):
        while where[order[head_ptr]] >= count:
            head_ptr += 1
        grp = [int(order[head_ptr])]
        seat(grp[0])
        for _ in range(size - 1):
            if count <= CIRCLE_POOL:
                pool = free_arr[:count].copy()
            else:
                pool = free_arr[rng.integers(0, count, CIRCLE_POOL)]
            total = np.zeros(pool.size, np.int64)
            for x in grp:
                xs = np.full(pool.size, x)
                total += np.where(s.allowed(xs, pool), s.weight(xs, pool), EXCLUDED)
            pick = int(pool[int(np.argmax(total))])
            grp.append(pick)
            seat(pick)
        groups.append(grp)
    return _improve_circles(s, groups, rng)


def _improve_circles(
    s: Scorer, groups: list[list[int]], rng: np.random.Generator
) -> list[list[int]]:
    """Swap members between circles while the total weight grows."""
    n, k = s.n, len(groups)
    smax = max(len(g) for g in groups)
    table = np.full((k, smax), -1, np.int64)
    grp_of = np.zeros(n, np.int64)
    for gi, g in enumerate(groups):
        table[gi, : len(g)] = g
        grp_of[g] = gi
    members = table[table >= 0]
    if members.size <= 400:
        ii, jj = np.triu_indices(members.size, 1)
        base_a, base_b = members[ii], members[jj]
    passes = CIRCLE_PASSES if members.size <= 2000 else LARGE_CIRCLE_PASSES
    for _ in range(passes):
        if members.size > 400:
            base_a = np.repeat(members, CIRCLE_SAMPLES)
            base_b = rng.choice(members, base_a.size)
        a, b = base_a, base_b
        ga, gb = grp_of[a], grp_of[b]
        diff = ga != gb
        a, b, ga, gb = a[diff], b[diff], ga[diff], gb[diff]
        if a.size == 0:
            break
        ra, rb = table[ga], table[gb]
        ra_wo = np.where(ra == a[:, None], -1, ra)
        rb_wo = np.where(rb == b[:, None], -1, rb)
        gain = (
            _group_weight_matrix(s, b, ra_wo).sum(1)
            + _group_weight_matrix(s, a, rb_wo).sum(1)
            - _group_weight_matrix(s, a, ra_wo).sum(1)
            - _group_weight_matrix(s, b, rb_wo).sum(1)
        )
        pos = np.flatnonzero(gain > 0)
        if pos.size == 0:
            if members.size <= 400:
                break
            continue
        pos = pos[np.argsort(-gain[pos], kind="stable")]
        used = np.zeros(k, bool)
        for p in pos.tolist():
            x, y = int(ga[p]), int(gb[p])
            if used[x] or used[y]:
                continue
            used[x] = used[y] = True
            u, v = int(a[p]), int(b[p])
            table[x, table[x] == u] = v
            table[y, table[y] == v] = u
            grp_of[u], grp_of[v] = y, x
    return [[int(v) for v in row if v >= 0] for row in table]


def first_speakers(s: Scorer, groups: list[list[int]]) -> list[list[int]]:
    """Put first in each group whoever went first least often (and longest ago)."""
    count = s.first_count.tolist()
    age = s.last_first_age.tolist()
    tie = (s.hash >> np.uint64(1)).tolist()
    out = []
    for g in groups:
        first = min(g, key=lambda v: (count[v], -age[v], tie[v]))
        out.append([first, *sorted((v for v in g if v != first), key=lambda v: s.ids[v])])
    return out


def intra_pairs(groups: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (a, b, group index) for every pair inside every group."""
    a, b, gi = [], [], []
    sizes = np.fromiter(map(len, groups), np.int64, count=len(groups))
    for size in np.unique(sizes).tolist():
        # One vectorised step per group size (almost all groups share one size).
        which = np.flatnonzero(sizes == size)
        table = np.array([groups[k] for k in which.tolist()], np.int64).reshape(-1, size)
        for x in range(size):
            for y in range(x + 1, size):
                a.append(table[:, x])
                b.append(table[:, y])
                gi.append(which)
    if not a:
        z = np.zeros(0, np.int64)
        return z, z, z
    return np.concatenate(a), np.concatenate(b), np.concatenate(gi)


def describe(s: Scorer, groups: list[list[int]]) -> tuple[list[tuple[str, ...]], int, int]:
    """Return per-group reasons (never mentioning exclusions), total weight and repeat pairs."""
    a, b, gi = intra_pairs(groups)
    k = len(groups)
    flags = s.history_flags(a, b)
    kept = (flags & KEPT) != 0
    met = ((flags & MET) != 0) & ~kept
    any_kept = np.bincount(gi[kept], minlength=k) > 0
    any_met = np.bincount(gi[met], minlength=k) > 0
    total = int(s.weight(a, b).sum()) if a.size else 0
    la, lb = s.level[a], s.level[b]
    level_known = np.bincount(gi, weights=(la < 0) | (lb < 0), minlength=k) == 0
    spread = np.zeros(k, np.int64)
    np.maximum.at(spread, gi, np.abs(la - lb))
    ta, tb = s.tz[a], s.tz[b]
    dt = np.abs(ta - tb)
    dt = np.minimum(dt, 1440 - dt)
    tz_known = np.bincount(gi, weights=(ta < 0) | (tb < 0), minlength=k) == 0
    worst = np.zeros(k, np.int64)
    np.maximum.at(worst, gi, dt)
    ca, cb = s.team[a], s.team[b]
    same_or_unknown = (ca < 0) | (cb < 0) | (ca == cb)
    cross = np.bincount(gi, weights=same_or_unknown, minlength=k) == 0
    cross &= s.rules.cross_team_weight > 0
    per_group = zip(
        any_kept.tolist(),
        any_met.tolist(),
        level_known.tolist(),
        spread.tolist(),
        (tz_known & (WORK_MINUTES - worst >= GOOD_TZ_OVERLAP)).tolist(),
        cross.tolist(),
        strict=True,
    )
    out: list[tuple[str, ...]] = []
    for g, (kp, mt, lk, sp, tzok, cr) in zip(groups, per_group, strict=True):
        r: list[str] = []
        if kp:
            r.append(Reason.KEPT_TOGETHER)
        if mt:
            r.append(Reason.REPEAT)
        elif not kp:
            r.append(Reason.FIRST_MEETING)
        counts: dict[str, int] = {}
        for v in g:
            for goal in s.members[v].goals:
                counts[goal] = counts.get(goal, 0) + 1
        if counts:
            shared = sorted((x for x, c in counts.items() if c >= 2), key=lambda x: (-counts[x], x))
            r.extend(shared_goal_reason(x) for x in shared[:3])
        if lk and sp == 0:
            r.append(Reason.SAME_LEVEL)
        elif lk and sp == 1:
            r.append(Reason.ADJACENT_LEVEL)
        if tzok:
            r.append(Reason.TZ_OVERLAP)
        if cr:
            r.append(Reason.CROSS_TEAM)
        out.append(tuple(r))
    return out, total, int(met.sum())
