"""Benchmark: matching with the org chart's hard rules on vs off, at 1,000 and 10,000 members.

Run: .venv/bin/python bench/reporting_lines.py [--quick]

A synthetic organisation: a reporting tree (span 4-8) whose managers are one level above their
reports, in the same department (team) and region (time zone), so the preferences pull people
toward their own managers; 52 rounds of history. Each size is matched with the reporting-line
rules off (only private never-pair lists) and on (direct + skip-level), alternately in the same
process, and every result is re-checked here, independently of the engine. The target: no
violation, nobody left out who need not be, time with the rules within 2x of without.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from itertools import combinations

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bot.matching import MatchMember, MatchResult, MatchRules, PastGroup, match_members
from bot.matching.orgchart import reporting_pairs

GOALS = ["delegation", "feedback", "hiring", "strategy", "conflict", "growth", "coaching", "time"]
REGIONS = [-480, -300, 0, 60, 330, 540]
RULES = MatchRules(cross_team_weight=0.0)


def organisation(n: int, seed: int) -> tuple[list[MatchMember], list[tuple[str, str]]]:
    """Return n members and their reporting lines (a tree of spans 4-8 under one head)."""
    rnd = random.Random(seed)
    ids = [f"U{i:06d}" for i in range(n)]
    manager: dict[int, int] = {}
    depth = [0] * n
    dept = [0] * n
    frontier, nxt = [0], 1
    while nxt < n:
        boss = frontier.pop(0)
        for _ in range(rnd.randint(4, 8)):
            if nxt >= n:
                break
            manager[nxt] = boss
            depth[nxt] = depth[boss] + 1
            dept[nxt] = nxt if depth[nxt] == 1 else dept[boss]
            frontier.append(nxt)
            nxt += 1
    deepest = max(depth)
    members = [
        MatchMember(
            id=ids[i],
            level=max(1, 6 - round(5 * depth[i] / max(1, deepest))),
            team=f"D{dept[i]}",
            goals=frozenset(rnd.sample(GOALS, 2)),
            tz_offset_minutes=REGIONS[dept[i] % len(REGIONS)],
        )
        for i in range(n)
    ]
    return members, [(ids[p], ids[m]) for p, m in manager.items()]


def history(members: list[MatchMember], rounds: int, seed: int) -> list[PastGroup]:
    """Past pairs among similar people (as a preference-driven matcher picks them)."""
    rng = np.random.default_rng(seed)
    level = np.array([m.level for m in members])
    tz = np.array([m.tz_offset_minutes for m in members])
    out = []
    for age in range(1, rounds + 1):
        order = np.argsort(level * 10_000 + (tz + 600) * 10 + rng.random(len(members)) * 50)
        for k in range(0, len(members) - 1, 2):
            out.append(PastGroup((members[order[k]].id, members[order[k + 1]].id), cycles_ago=age))
    return out


def check(result: MatchResult, ids: list[str], banned: set[frozenset[str]]) -> dict[str, int]:
    """Re-check a result: pairs breaking a rule, people missing or twice, people left out."""
    seated = [m for g in result.groups for m in g.members]
    return {
        "violations": sum(
            frozenset(p) in banned for g in result.groups for p in combinations(g.members, 2)
        ),
        "missing_or_twice": len(ids)
        - len(set(seated) | {u.id for u in result.unmatched})
        + (len(seated) - len(set(seated))),
        "left_out": len(result.unmatched),
    }


def run(n: int, reps: int) -> list[tuple[str, str, str, str, str]]:
    """Match one organisation of n members with the rules off and on; return table rows."""
    members, lines = organisation(n, seed=n)
    ids = [m.id for m in members]
    past = history(members, 52, seed=n)
    rnd = random.Random(n + 1)
    private = [tuple(rnd.sample(ids, 2)) for _ in range(n // 50)]
    chart = reporting_pairs(lines, skip_level=True)
    chart_set = {frozenset(p) for p in chart}
    configs = {"off": private, "on": private + sorted(chart)}
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    results: dict[str, MatchResult] = {}
    for rep in range(reps):
        for name in ("off", "on") if rep % 2 == 0 else ("on", "off"):
            start = time.perf_counter()
            results[name] = match_members(
                members, history=past, exclusions=configs[name], rules=RULES, seed=7
            )
            seconds[name].append(time.perf_counter() - start)
    off, on = statistics.median(seconds["off"]), statistics.median(seconds["on"])
    private_set = {frozenset(p) for p in private}
    would_break = check(results["off"], ids, chart_set)["violations"]
    got = check(results["on"], ids, chart_set | private_set)
    ratio = on / off
    weight_ratio = results["on"].stats["total_weight"] / max(
        1, results["off"].stats["total_weight"]
    )
    label = f"N={n:,}"
    return [
        (
            label,
            "rules off (private lists only)",
            f"{off:.3f} s median of {reps}; {would_break} groups hold a reporting line "
            f"(direct or skip-level), {results['off'].stats['repeats']} repeats",
            "reference",
            "info",
        ),
        (
            label,
            "rules on (direct + skip-level)",
            f"{on:.3f} s median of {reps}; {got['violations']} violations, "
            f"{got['left_out']} left out, {got['missing_or_twice']} missing/twice, "
            f"{results['on'].stats['repeats']} repeats, weight {weight_ratio:.3f} of off",
            "0 violations",
            "PASS"
            if got["violations"] == got["missing_or_twice"] == got["left_out"] == 0
            else "MISS",
        ),
        (
            label,
            "time on / off",
            f"{ratio:.2f}x ({len(chart):,} reporting pairs, {len(private):,} private)",
            "<= 2x",
            "PASS" if ratio <= 2 else "MISS",
        ),
    ]


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one repetition per setting")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(1_000, 1 if args.quick else 5) + run(10_000, 1 if args.quick else 3)
    print("command: " + " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, total {time.perf_counter() - started:.0f} s "
        "(on and off timed alternately in this one process; other load shifts both alike)"
    )
    header = ("size", "setting", "measured", "target", "status")
    widths = [max(len(r[k]) for r in [*rows, header]) for k in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
