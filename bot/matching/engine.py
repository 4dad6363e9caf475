"""match_members: validate input, build groups, explain and validate them."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np

from .blossom import maximum_matching
from .groups import (
    best_trio,
    circles,
    describe,
    first_speakers,
    group_sizes,
    intra_pairs,
    trio_centres,
)
from .model import (
    NO_COMPATIBLE_GROUP,
    NO_COMPATIBLE_PARTNER,
    MatchedGroup,
    MatchingInputError,
    MatchingInternalError,
    MatchMember,
    MatchResult,
    MatchRules,
    PastGroup,
    Unmatched,
)
from .pairs import LOOKAHEAD_LIMIT, solve_pairs
from .weights import Scorer

LARGE_TRIO_TRIES = 2
TRIO_TRIES = 8  # trio centres tried before falling back to the general search
TRIANGLE_SEARCH_LIMIT = 60  # exact "fewest left out" search with a trio up to this many members
TRIANGLE_CHECKS = 3000
FRESH_TRIO_SEARCH_LIMIT = 400  # odd rounds up to here search trios for a repeat-free round
FRESH_TRIO_CHECKS = 200


def _check_input(members: Sequence[MatchMember], rules: MatchRules, seed: int) -> None:
    """Raise MatchingInputError for input the engine cannot work with."""
    seen: set[str] = set()
    for m in members:
        if not isinstance(m, MatchMember) or not isinstance(m.id, str) or not m.id:
            raise MatchingInputError(f"not a member with a non-empty string id: {m!r}")
        if m.id in seen:
            raise MatchingInputError(f"duplicate member id: {m.id}")
        seen.add(m.id)
        if m.level is not None and (isinstance(m.level, bool) or not isinstance(m.level, int)):
            raise MatchingInputError(f"level of {m.id} must be an integer or None")
        if m.tz_offset_minutes is not None and (
            isinstance(m.tz_offset_minutes, bool) or not isinstance(m.tz_offset_minutes, int)
        ):
            raise MatchingInputError(f"tz_offset_minutes of {m.id} must be an integer or None")
        if not isinstance(m.work_intervals, tuple) or not all(
            isinstance(w, tuple) and len(w) == 2 and all(type(x) is int for x in w)
            for w in m.work_intervals
        ):
            raise MatchingInputError(f"work_intervals of {m.id} must be (start, end) integers")
    if rules.group_size not in (2, 3, 4, 5):
        raise MatchingInputError("group_size must be 2, 3, 4 or 5")
    if rules.repeat_window is not None and (
        isinstance(rules.repeat_window, bool)
        or not isinstance(rules.repeat_window, int)
        or rules.repeat_window < 1
    ):
        raise MatchingInputError("repeat_window must be a positive integer or None")
    for name in ("level_weight", "goal_weight", "tz_weight", "cross_team_weight"):
        value = getattr(rules, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise MatchingInputError(f"{name} must be a finite number")
    if not isinstance(rules.avoid_same_team, bool):
        raise MatchingInputError("avoid_same_team must be True or False")
    if (
        isinstance(rules.min_shared_minutes, bool)
        or not isinstance(rules.min_shared_minutes, int)
        or not 0 <= rules.min_shared_minutes <= 24 * 60
    ):
        raise MatchingInputError("min_shared_minutes must be an integer from 0 to 1440")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise MatchingInputError("seed must be an integer")


def _max_matching(s: Scorer, nodes: list[int]) -> list[tuple[int, int]]:
    """Return a maximum-cardinality matching over nodes (exact, for small rounds)."""
    arr = np.array(nodes, np.int64)
    ok = s.allowed(arr[:, None], arr[None, :])
    mate = maximum_matching([np.flatnonzero(row).tolist() for row in ok])
    return [(nodes[a], nodes[b]) for a, b in enumerate(mate) if a < b]


def _count_repeats(s: Scorer, groups: list[list[int]]) -> int:
    """Return how many pairs inside the groups carry a repeat-level penalty."""
    a = [x for g in groups for x, y in combinations(g, 2)]
    b = [y for g in groups for x, y in combinations(g, 2)]
    return int(s.is_repeat(np.array(a, np.int64), np.array(b, np.int64)).sum())


def _pairs_round(s: Scorer, seed: int) -> tuple[list[list[int]], list[int]]:
    """Return pairs (plus one trio when odd) and anyone who cannot be grouped."""
    n = s.n
    everyone = np.arange(n)
    if n % 2:
        best: tuple[int, list[list[int]]] | None = None
        # Each try re-solves the whole round: cheap for small rounds, seconds for huge ones.
        tries = TRIO_TRIES if n <= LOOKAHEAD_LIMIT else LARGE_TRIO_TRIES
        for centre in trio_centres(s, tries):
            trio = best_trio(s, centre, everyone)
            if trio is None:
                continue
            rest = np.setdiff1d(everyone, trio)
            pairs = solve_pairs(s, rest, seed)
            if 2 * len(pairs) == rest.size:
                groups = [list(trio)] + [list(p) for p in pairs]
                repeats = _count_repeats(s, groups)
                if best is None or repeats < best[0]:
                    best = (repeats, groups)
                # The fairest centre whose round is repeat-free and (lookahead) leaves
                # next round a near-perfect matching of first-time partners.
                if repeats == 0 and (n > LOOKAHEAD_LIMIT or _next_round_open(s, groups)):
                    best = (0, groups)
                    break
        if best is not None and best[0] > 0 and n <= FRESH_TRIO_SEARCH_LIMIT:
            found = _fresh_trio_round(s, seed)
            if found is not None:
                best = (0, found)
        if best is not None:
            return best[1], []
    pairs = solve_pairs(s, everyone, seed)
    if 2 * len(pairs) == n:
        return [list(p) for p in pairs], []
    return _fewest_left_out(s, pairs, seed)


def _next_round_open(s: Scorer, groups: list[list[int]]) -> bool:
    """Return whether first-time partners still cover all but one member after this round."""
    n = s.n
    idx = np.arange(n)
    fresh = s.allowed(idx[:, None], idx[None, :]) & ~s.is_repeat(idx[:, None], idx[None, :])
    a, b, _ = intra_pairs(groups)
    fresh[a, b] = False
    fresh[b, a] = False
    mate = maximum_matching([np.flatnonzero(row).tolist() for row in fresh])
    return sum(1 for x in mate if x < 0) <= 1


def _fresh_trio_round(s: Scorer, seed: int) -> list[list[int]] | None:
    """Search trios of first-time partners until the rest has a repeat-free perfect matching."""
    n = s.n
    idx = np.arange(n)
    fresh = s.allowed(idx[:, None], idx[None, :]) & ~s.is_repeat(idx[:, None], idx[None, :])
    # Fairest trios first: fewest past trio seats, nobody from last round's trio.
    unfair = s.trio_count + 1000 * (s.last_trio_age == 1)
    checks = 0
    for a in np.argsort(unfair, kind="stable").tolist():
        nb = np.flatnonzero(fresh[a])
        for b in nb[np.argsort(unfair[nb], kind="stable")].tolist():
            if b < a and unfair[b] >= unfair[a]:
                continue
            common = np.flatnonzero(fresh[a] & fresh[b])
            for c in common[np.argsort(unfair[common], kind="stable")].tolist():
                checks += 1
                if checks > FRESH_TRIO_CHECKS:
                    return None
                rest = np.setdiff1d(idx, (a, b, c))
                sub = fresh[np.ix_(rest, rest)]
                mate = maximum_matching([np.flatnonzero(row).tolist() for row in sub])
                if min(mate) < 0:
                    continue
                pairs = solve_pairs(s, rest, seed)
                groups = [[a, b, c]] + [list(p) for p in pairs]
                if 2 * len(pairs) == rest.size and _count_repeats(s, groups) == 0:
                    return groups
    return None


def _fewest_left_out(
    s: Scorer, pairs: list[tuple[int, int]], seed: int
) -> tuple[list[list[int]], list[int]]:
    """Group as many as the never-pair lists allow: a maximum matching plus at most one trio."""
    n = s.n
    matched = {v for p in pairs for v in p}
    free = [v for v in range(n) if v not in matched]
    # Cheapest fix: seat one unmatched member with a pair that accepts them (the one trio).
    if pairs:
        pa = np.array(pairs, np.int64)
        for u in free:
            us = np.full(len(pairs), u)
            ok = s.allowed(us, pa[:, 0]) & s.allowed(us, pa[:, 1])
            if ok.any():
                gain = s.weight(us, pa[:, 0]) + s.weight(us, pa[:, 1])
                k = int(np.flatnonzero(ok)[np.argmax(gain[ok])])
                groups = [list(p) for i, p in enumerate(pairs) if i != k] + [[*pairs[k], u]]
                return groups, [v for v in free if v != u]
    if n <= TRIANGLE_SEARCH_LIMIT:
        found = _triangle_search(s, len(pairs), seed)
        if found is not None:
            return found
    return [list(p) for p in pairs], free


def _triangle_search(
    s: Scorer, matching_size: int, seed: int
) -> tuple[list[list[int]], list[int]] | None:
    """Find a trio whose removal costs at most one pair of the maximum matching."""
    n = s.n
    ok = s.allowed(np.arange(n)[:, None], np.arange(n)[None, :])
    checks = 0
    for a, b, c in combinations(range(n), 3):
        if not (ok[a, b] and ok[a, c] and ok[b, c]):
            continue
        checks += 1
        if checks > TRIANGLE_CHECKS:
            return None
        rest = [v for v in range(n) if v not in (a, b, c)]
        if len(_max_matching(s, rest)) >= matching_size - 1:
            pairs = solve_pairs(s, np.array(rest, np.int64), seed)
            covered = {v for p in pairs for v in p}
            return [[a, b, c]] + [list(p) for p in pairs], [v for v in rest if v not in covered]
    return None


def _circles_round(s: Scorer, size: int, seed: int) -> tuple[list[list[int]], list[int]]:
    """Return circles of the configured size; members who only fit beside an excluded one leave."""
    groups = circles(s, group_sizes(s.n, size), seed)
    a, b, _ = intra_pairs(groups)
    s.circle_conflicts = bool(a.size) and not bool(s.allowed(a, b).all())
    left: list[int] = []
    out: list[list[int]] = []
    for g in groups:
        g = list(g)
        # Drop the member with the most conflicts until the circle is clean.
        while len(g) > 1:
            arr = np.array(g, np.int64)
            bad = ~s.allowed(arr[:, None], arr[None, :]) & (arr[:, None] != arr[None, :])
            conflicts = bad.sum(1)
            if not conflicts.any():
                break
            worst = int(np.argmax(conflicts))
            left.append(g.pop(worst))
        if len(g) >= 2:
            out.append(g)
        else:
            left.extend(g)
    # Seat whoever was dropped in any circle that has room and accepts them all.
    still: list[int] = []
    for v in left:
        for g in sorted(out, key=len):
            if len(g) <= size and s.allowed(np.full(len(g), v), np.array(g)).all():
                g.append(v)
                break
        else:
            still.append(v)
    # Two dropped members who may meet form a pair rather than both staying out.
    final: list[int] = []
    while still:
        v = still.pop(0)
        mates = [u for u in still if s.allowed(np.array([v]), np.array([u]))[0]]
        if mates:
            still.remove(mates[0])
            out.append([v, mates[0]])
        else:
            final.append(v)
    return out, final


def _validate(
    s: Scorer, groups: list[list[int]], left: list[int], size: int, relaxed: bool
) -> None:
    """Raise MatchingInternalError unless the result keeps every hard rule."""
    seen = [v for g in groups for v in g] + list(left)
    if sorted(seen) != list(range(s.n)):
        raise MatchingInternalError("a member is missing or appears twice")
    if any(len(g) < 2 for g in groups):
        raise MatchingInternalError("a group with a single member")
    a, b, _ = intra_pairs(groups)
    if a.size and not s.allowed(a, b).all():
        raise MatchingInternalError("a group holds an excluded pair")
    sizes = sorted(len(g) for g in groups)
    # Circles may give up the exact shape when never-pair lists force it (relaxed).
    if not left and not relaxed and sizes != sorted(group_sizes(s.n, size)):
        raise MatchingInternalError(f"group sizes {sizes} differ from the configured shape")
    if (left or relaxed) and any(not 2 <= len(g) <= max(3, size + 1) for g in groups):
        raise MatchingInternalError("off-size group in a partial grouping")
    if size == 2 and sum(len(g) == 3 for g in groups) > 1:
        raise MatchingInternalError("more than one trio")


def may_group(
    members: Sequence[MatchMember],
    *,
    exclusions: Iterable[tuple[str, str]] = (),
    rules: MatchRules = MatchRules(),  # noqa: B008 - frozen dataclass, safe as a default
) -> bool:
    """Answer whether these members may share one group under every hard rule (never-pair
    lists, same team, shared working time), as match_members would judge it."""
    _check_input(members, rules, 0)
    s = Scorer(sorted(members, key=lambda m: m.id), (), exclusions, rules, 0)
    a, b = np.triu_indices(s.n, 1)
    return bool(s.allowed(a, b).all())


def match_members(
    members: Sequence[MatchMember],
    *,
    history: Sequence[PastGroup] = (),
    exclusions: Iterable[tuple[str, str]] = (),
    rules: MatchRules = MatchRules(),  # noqa: B008 - frozen dataclass, safe as a default
    seed: int = 0,
) -> MatchResult:
    """Group the eligible members of one round; same input and seed give the same result."""
    start = time.perf_counter()
    _check_input(members, rules, seed)
    ordered = sorted(members, key=lambda m: m.id)  # input order must not change the result
    s = Scorer(ordered, history, exclusions, rules, seed)
    n = s.n
    if n < 2:
        groups: list[list[int]] = []
        left = list(range(n))
    elif rules.group_size == 2:
        groups, left = _pairs_round(s, seed)
    else:
        groups, left = _circles_round(s, rules.group_size, seed)
    # Only circles whose swaps could not clear a never-pair conflict may change shape.
    relaxed = rules.group_size > 2 and bool(left or s.circle_conflicts)
    _validate(s, groups, left, rules.group_size, relaxed)
    groups = first_speakers(s, groups)
    groups.sort(key=lambda g: s.ids[g[0]])
    why, total, repeats = describe(s, groups)
    out = tuple(
        MatchedGroup(members=tuple(s.ids[v] for v in g), reasons=r)
        for g, r in zip(groups, why, strict=True)
    )
    unmatched = []
    for v in sorted(left, key=lambda v: s.ids[v]):
        partners = s.allowed(np.full(n, v), np.arange(n)).sum()
        why_left = NO_COMPATIBLE_PARTNER if partners == 0 else NO_COMPATIBLE_GROUP
        unmatched.append(Unmatched(id=s.ids[v], reason=why_left))
    stats = {
        "n_members": n,
        "n_groups": len(out),
        "n_unmatched": len(unmatched),
        "repeats": repeats,
        # Reported only when the shape really differs: a conflict that swaps cleared is not one.
        "shape_relaxed": relaxed
        and sorted(len(g) for g in groups) != sorted(group_sizes(n - len(left), rules.group_size)),
        "total_weight": total,
        "seconds": round(time.perf_counter() - start, 4),
    }
    return MatchResult(groups=out, unmatched=tuple(unmatched), seed=seed, stats=stats)
