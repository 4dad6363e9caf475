"""Benchmark of the matching engine: repeat-free horizon, quality vs optimum, speed, rules.

Run: .venv/bin/python bench/matching.py [--quick] [--seeds K]
All figures in the printed table come from the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from itertools import combinations

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bot.matching import MatchMember, MatchResult, MatchRules, PastGroup, match_members
from bot.matching.groups import group_sizes
from bot.matching.weights import Scorer

GOALS = ["delegation", "feedback", "hiring", "strategy", "conflict", "growth", "coaching", "time"]
TZS = [-480, -300, 0, 60, 120, 330, 540]
NO_PREFS = MatchRules(level_weight=0, goal_weight=0, tz_weight=0, cross_team_weight=0)
PREFS = MatchRules(cross_team_weight=0.5)


class Checks:
    """Independent re-check of the hard rules over every result of the run."""

    def __init__(self) -> None:
        self.runs = self.violations = self.left_out = self.bad_sizes = 0

    def check(self, result: MatchResult, ids: list[str], banned: set, size: int) -> None:
        """Count exclusion violations, people left out and off-shape rounds."""
        self.runs += 1
        seen = sorted(m for g in result.groups for m in g.members)
        self.left_out += len(ids) - len(seen)
        if len(set(seen)) != len(seen):
            self.bad_sizes += 1
        for g in result.groups:
            self.violations += sum(frozenset(p) in banned for p in combinations(g.members, 2))
        if sorted(len(g.members) for g in result.groups) != sorted(group_sizes(len(ids), size)):
            self.bad_sizes += 1


def population(n: int, seed: int) -> list[MatchMember]:
    """Return a synthetic workspace: levels, teams, goals and time zones."""
    rnd = random.Random(seed)
    return [
        MatchMember(
            id=f"U{i:06d}",
            level=rnd.randint(1, 6),
            team=f"T{rnd.randrange(12)}",
            goals=frozenset(rnd.sample(GOALS, 2)),
            tz_offset_minutes=rnd.choice(TZS),
        )
        for i in range(n)
    ]


def round_pairs(result: MatchResult) -> set[frozenset[str]]:
    """Return every pair that met in one round."""
    return {frozenset(p) for g in result.groups for p in combinations(g.members, 2)}


def horizon(n: int, rules: MatchRules, seed: int, checks: Checks, limit: int = 99) -> int:
    """Return consecutive rounds before the first repeated pair, history fed back."""
    ms = population(n, seed)
    ids = [m.id for m in ms]
    history: list[tuple[int, tuple[str, ...]]] = []
    seen: set[frozenset[str]] = set()
    for r in range(limit):
        past = [PastGroup(g, cycles_ago=r - k) for k, g in history]
        result = match_members(ms, history=past, rules=rules, seed=seed * 1000 + r)
        checks.check(result, ids, set(), 2)
        pairs = round_pairs(result)
        if pairs & seen:
            return r
        seen |= pairs
        history += [(r, g.members) for g in result.groups]
    return limit


def shuffle_horizon(n: int, seed: int, limit: int = 99) -> int:
    """Return the horizon of a random shuffle (what most coffee bots do)."""
    rnd = random.Random(seed)
    ids = list(range(n))
    seen: set[frozenset[int]] = set()
    for r in range(limit):
        rnd.shuffle(ids)
        groups = [ids[k : k + 2] for k in range(0, n - n % 2, 2)]
        if n % 2:
            groups[-1] = [*groups[-1], ids[-1]]
        pairs = {frozenset(p) for g in groups for p in combinations(g, 2)}
        if pairs & seen:
            return r
        seen |= pairs
    return limit


def quality(n: int, seed: int, checks: Checks) -> tuple[float, float, float]:
    """Return (our weight / exact optimum, our seconds, exact seconds) on a random instance."""
    import networkx as nx  # bench only: the exact reference

    ms = population(n, seed)
    rnd = random.Random(seed + 1)
    ids = [m.id for m in ms]
    banned = {frozenset(rnd.sample(ids, 2)) for _ in range(n // 10)}
    excl = [tuple(sorted(p)) for p in banned]
    t = time.perf_counter()
    result = match_members(ms, exclusions=excl, rules=PREFS, seed=seed)
    ours = time.perf_counter() - t
    checks.check(result, ids, banned, 2)
    ordered = sorted(ms, key=lambda m: m.id)
    scorer = Scorer(ordered, (), excl, PREFS, seed)
    w, ok = scorer.dense(np.arange(n))
    iu, ju = np.nonzero(np.triu(ok, 1))
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(iu.tolist(), ju.tolist(), w[iu, ju].tolist(), strict=True))
    t = time.perf_counter()
    exact = nx.max_weight_matching(graph, maxcardinality=True)
    exact_s = time.perf_counter() - t
    optimum = sum(int(w[a, b]) for a, b in exact)
    # For odd n the trio's third edge is extra weight; compare pairs only.
    ours_w = 0
    for g in result.groups:
        idx = sorted(scorer.index[x] for x in g.members)
        if len(idx) == 2:
            ours_w += int(w[idx[0], idx[1]])
    return ours_w / optimum, ours, exact_s


def peak_rss_mb() -> float:
    """Return this process's peak RSS in MB (VmHWM; ru_maxrss can carry the parent's over)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed_worker(n: int, group_size: int, distinct_ids: int = 0) -> None:
    """Build N members with 52 rounds of history, time one round, print JSON (subprocess)."""
    rng = np.random.default_rng(0)
    ms = population(n, 7)
    ids = [m.id for m in ms]
    level = np.array([m.level for m in ms])
    tz = np.array([m.tz_offset_minutes for m in ms])
    history = []
    for age in range(1, 53):
        # Past partners were similar people (as a preference-driven matcher picks them),
        # so they collide with this round's best candidates: the hard case.
        order = np.argsort(level * 10_000 + (tz + 600) * 10 + rng.random(n) * 50)
        for k in range(0, n - 1, 2):
            a, b = ids[order[k]], ids[order[k + 1]]
            if distinct_ids:
                # As parsed from JSON or a database: equal strings, but separate objects.
                a, b = f"U{int(a[1:]):06d}", f"U{int(b[1:]):06d}"
            history.append(PastGroup((a, b), cycles_ago=age))
    banned = {frozenset((ids[i], ids[(i * 7 + 1) % n])) for i in range(0, n, 50)}
    excl = [tuple(p) for p in banned]
    rss_before = peak_rss_mb()
    t = time.perf_counter()
    result = match_members(
        ms, history=history, exclusions=excl, rules=MatchRules(group_size=group_size), seed=1
    )
    seconds = time.perf_counter() - t
    peak = peak_rss_mb()
    checks = Checks()
    checks.check(result, ids, banned, group_size)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_mb": rss_before,
                "peak_mb": peak,
                "repeats": result.stats["repeats"],
                "violations": checks.violations,
                "left_out": checks.left_out,
                "bad_sizes": checks.bad_sizes,
            }
        )
    )


def speed(n: int, group_size: int = 2, distinct_ids: int = 0) -> dict:
    """Run speed_worker in a fresh process so that its peak RSS is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--speed-worker", str(n), str(group_size), str(distinct_ids)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer seeds and sizes (~2 min)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per horizon setting")
    parser.add_argument("--speed-worker", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_worker:
        speed_worker(*args.speed_worker)
        return
    seeds = args.seeds or (2 if args.quick else 5)
    q_sizes = [200] if args.quick else [200, 500, 1000]
    checks = Checks()
    rows: list[tuple[str, str, str, str, str]] = []
    started = time.perf_counter()

    for n in (100, 101):
        base = [shuffle_horizon(n, s) for s in range(seeds)]
        rows.append(("horizon", f"N={n} random shuffle", f"{np.mean(base):.1f}", "baseline", ""))
        for label, rules in (("prefs off", NO_PREFS), ("prefs on", PREFS)):
            t = time.perf_counter()
            got = [horizon(n, rules, s, checks) for s in range(seeds)]
            per_round = (time.perf_counter() - t) / max(1, sum(got) + seeds)
            status = ("PASS" if np.mean(got) >= 95 else "MISS") if label == "prefs off" else "info"
            rows.append(
                (
                    "horizon",
                    f"N={n} {label}",
                    f"{np.mean(got):.1f} (min {min(got)}, {per_round * 1000:.0f} ms/round)",
                    ">= 95" if label == "prefs off" else "report",
                    status,
                )
            )

    for n in q_sizes:
        ratio, ours, exact = quality(n, 11 + n, checks)
        rows.append(
            (
                "quality",
                f"N={n} weight vs exact",
                f"{ratio * 100:.2f}% (ours {ours:.2f} s, exact {exact:.1f} s, {exact / ours:.0f}x)",
                ">= 99%",
                "PASS" if ratio >= 0.99 else "MISS",
            )
        )

    for n in (1_000, 10_000, 100_000):
        r = speed(n)
        checks.runs += 1
        checks.violations += r["violations"]
        checks.left_out += r["left_out"]
        checks.bad_sizes += r["bad_sizes"]
        target = "<= 10 s, <= 1 GB" if n == 100_000 else "report"
        ok = r["seconds"] <= 10 and r["peak_mb"] <= 1024
        rows.append(
            (
                "speed",
                f"N={n:,} pairs, 52 rounds history",
                f"{r['seconds']:.2f} s, peak RSS {r['peak_mb']:.0f} MB (input alone "
                f"{r['rss_before_mb']:.0f} MB, engine +{r['peak_mb'] - r['rss_before_mb']:.0f}), "
                f"{r['repeats']} repeats",
                target,
                ("PASS" if ok else "MISS") if n == 100_000 else "info",
            )
        )
    r = speed(100_000, 2, 1)
    checks.runs += 1
    checks.violations += r["violations"]
    checks.left_out += r["left_out"]
    checks.bad_sizes += r["bad_sizes"]
    rows.append(
        (
            "speed",
            "N=100,000, history ids as separate strings",
            f"{r['seconds']:.2f} s, peak RSS {r['peak_mb']:.0f} MB (input alone "
            f"{r['rss_before_mb']:.0f} MB, engine +{r['peak_mb'] - r['rss_before_mb']:.0f})",
            "<= 10 s, <= 1 GB",
            "PASS" if r["seconds"] <= 10 and r["peak_mb"] <= 1024 else "MISS",
        )
    )
    for size in (3, 4):
        r = speed(10_000, size)
        checks.runs += 1
        checks.violations += r["violations"]
        checks.left_out += r["left_out"]
        checks.bad_sizes += r["bad_sizes"]
        rows.append(
            (
                "speed",
                f"N=10,000 circles of {size}, 52 rounds history",
                f"{r['seconds']:.2f} s, peak RSS {r['peak_mb']:.0f} MB",
                "report",
                "info",
            )
        )

    rows.append(
        (
            "rules",
            f"{checks.runs} runs re-checked",
            f"{checks.violations} exclusion violations, {checks.left_out} left out, "
            f"{checks.bad_sizes} off-shape rounds",
            "all 0",
            "PASS" if checks.violations + checks.left_out + checks.bad_sizes == 0 else "MISS",
        )
    )

    print("command: " + " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        f", seeds per horizon setting: {seeds}, total {time.perf_counter() - started:.0f} s"
    )
    header = ("area", "setting", "measured", "target", "status")
    widths = [max(len(r[k]) for r in [*rows, header]) for k in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
