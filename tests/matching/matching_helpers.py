"""Small builders and a brute-force reference for the matching tests."""

from __future__ import annotations

import random
from functools import cache
from itertools import combinations

from bot.matching import MatchMember, MatchResult, PastGroup


def members(n: int, *, seed: int = 0, prefs: bool = True) -> list[MatchMember]:
    """Return n members U000.. with random levels, teams, goals and time zones."""
    rnd = random.Random(seed)
    goals = ["delegation", "feedback", "hiring", "strategy", "conflict", "growth"]
    out = []
    for i in range(n):
        if prefs:
            out.append(
                MatchMember(
                    id=f"U{i:03d}",
                    level=rnd.randint(1, 6),
                    team=rnd.choice(["Sales", "Eng", "Ops", "HR"]),
                    goals=frozenset(rnd.sample(goals, 2)),
                    tz_offset_minutes=rnd.choice([-300, 0, 60, 330]),
                )
            )
        else:
            out.append(MatchMember(id=f"U{i:03d}"))
    return out


def pairs_of(result: MatchResult) -> set[frozenset[str]]:
    """Return every pair of members who share a group."""
    return {frozenset(p) for g in result.groups for p in combinations(g.members, 2)}


def as_history(rounds: list[MatchResult]) -> list[PastGroup]:
    """Turn earlier results (oldest first) into history entries, with who went first."""
    out = []
    for age, result in enumerate(reversed(rounds), start=1):
        for g in result.groups:
            out.append(PastGroup(g.members, cycles_ago=age, first=g.members[0]))
    return out


def max_covered(ids: list[str], banned: set[frozenset[str]]) -> int:
    """Return how many members pairs plus at most one trio can cover (brute force)."""
    ok = {frozenset(p) for p in combinations(ids, 2)} - banned

    @cache
    def best(rest: frozenset[str], trio_left: bool) -> int:
        if len(rest) < 2:
            return 0
        v = min(rest)
        others = rest - {v}
        result = best(others, trio_left)  # v stays out
        for u in others:
            if frozenset((u, v)) in ok:
                result = max(result, 2 + best(others - {u}, trio_left))
                if trio_left:
                    for w in others - {u}:
                        if frozenset((v, w)) in ok and frozenset((u, w)) in ok:
                            result = max(result, 3 + best(others - {u, w}, False))
        return result

    return best(frozenset(ids), True)
