"""Integer pair weights: preferences, history penalties, exclusions and a seeded tie-break."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from .model import MatchMember, MatchRules, PastGroup

# Integer scale; scipy's assignment solvers and exact comparisons need integers (see notes).
PREF_UNIT = 1_000  # one unit of a rule weight
MAX_PREF = 100_000  # preferences never outweigh a recent repeat
TIE_RANGE = 64  # seeded tie-break, far below one preference unit
REPEAT_BASE = 1_000_000  # any met pair inside the window costs at least this
REPEAT_RECENT = 4_000_000  # extra cost divided by age: last week's partner is the worst choice
NOT_MET_FACTOR = 10  # a pairing that never happened counts a tenth
OUT_OF_WINDOW = 500  # beyond repeat_window a past partner is only mildly avoided
KEEP_BONUS = 2_000_000  # a pair that asked to keep meeting is kept on purpose
REPEAT_THRESHOLD = REPEAT_BASE // NOT_MET_FACTOR  # penalty at or above this counts as a repeat
WORK_MINUTES = 480  # 9:00-17:00 local; overlap is measured against this day
GOOD_TZ_OVERLAP = 240  # half a working day in common earns the tz_overlap reason

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _member_hash(seed: int, member_id: str) -> int:
    """Return a stable 64-bit hash of (seed, id); Python's hash() is salted per process."""
    digest = hashlib.blake2b(f"{seed}\x00{member_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def pair_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Return one int64 key per unordered pair."""
    lo = np.minimum(i, j).astype(np.int64)
    hi = np.maximum(i, j).astype(np.int64)
    return lo * n + hi


class _KeyTable:
    """Sorted int64 keys with aligned values; vectorised membership and lookup."""

    def __init__(self, keys: np.ndarray, values: np.ndarray | None = None) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = values[order] if values is not None else None

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (found mask, position) for each key."""
        if self.keys.size == 0:
            return np.zeros(keys.shape, bool), np.zeros(keys.shape, np.int64)
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, self.keys.size - 1)
        return self.keys[pos] == keys, pos


class Scorer:
    """Everything the solvers need to know about the members of one round."""

    def __init__(
        self,
        members: Sequence[MatchMember],
        history: Sequence[PastGroup],
        exclusions: Iterable[tuple[str, str]],
        rules: MatchRules,
        seed: int,
    ) -> None:
        self.members = list(members)
        self.ids = [m.id for m in self.members]
        self.index = {mid: i for i, mid in enumerate(self.ids)}
        self.n = n = len(self.members)
        self.rules = rules
        self.level = np.array([-99 if m.level is None else m.level for m in members], np.int64)
        teams: dict[str, int] = {}
        self.team = np.array(
            [-1 if m.team is None else teams.setdefault(m.team, len(teams)) for m in members],
            np.int64,
        )
        goals: dict[str, int] = {}
        for m in members:
            for g in sorted(m.goals):
                goals.setdefault(g, len(goals))
        self.goal_names = sorted(goals, key=goals.__getitem__)
        words = max(1, (len(goals) + 63) // 64)
        masks = np.zeros((n, words), np.uint64)
        for i, m in enumerate(members):
            for g in m.goals:
                b = goals[g]
                masks[i, b // 64] |= np.uint64(1) << np.uint64(b % 64)
        self.goals = masks
        self.tz = np.array(
            [-1 if m.tz_offset_minutes is None else m.tz_offset_minutes % 1440 for m in members],
            np.int64,
        )
        self.hash = np.array([_member_hash(seed, mid) for mid in self.ids], np.uint64)
        self._set_units(rules)
        self._load_exclusions(exclusions)
        self._load_history(history)

    def _set_units(self, rules: MatchRules) -> None:
        """Scale the rule weights so that preferences stay below any repeat penalty."""
        total = (
            abs(rules.level_weight)
            + 3 * abs(rules.goal_weight)
            + abs(rules.tz_weight)
            + abs(rules.cross_team_weight)
        )
        unit = float(PREF_UNIT)
        if total * unit > MAX_PREF:
            unit = MAX_PREF / total
        self.w_level = unit * rules.level_weight
        self.w_goal = unit * rules.goal_weight
        self.w_tz = unit * rules.tz_weight
        self.w_team = unit * rules.cross_team_weight
        self.max_pref = int(total * unit) + TIE_RANGE

    def _load_exclusions(self, exclusions: Iterable[tuple[str, str]]) -> None:
        """Index never-pair lists; ids not in this round are ignored."""
        a, b = [], []
        for pair in exclusions:
            x, y = self.index.get(pair[0]), self.index.get(pair[1])
            if x is not None and y is not None and x != y:
                a.append(x)
                b.append(y)
        ai, bi = np.array(a, np.int64), np.array(b, np.int64)
        keys = np.unique(pair_keys(ai, bi, self.n)) if a else np.zeros(0, np.int64)
        self.excl = _KeyTable(keys)
        self.excl_degree = np.bincount(np.concatenate([ai, bi]), minlength=self.n)
        self.excl_pairs = (ai, bi)

    def _load_history(self, history: Sequence[PastGroup]) -> None:
        """Turn past groups into per-pair penalties, keep flags and fairness counters."""
        n, index, window = self.n, self.index, self.rules.repeat_window
        ka: list[int] = []
        kb: list[int] = []
        pen: list[int] = []
        met_l: list[bool] = []
        age_l: list[int] = []
        keep_l: list[bool] = []
        self.trio_count = np.zeros(n, np.int64)
        self.last_trio_age = np.full(n, 10**9, np.int64)
        self.first_count = np.zeros(n, np.int64)
        self.last_first_age = np.full(n, 10**9, np.int64)
        for g in history:
            idx = [index[x] for x in g.members if x in index]
            age = max(1, int(g.cycles_ago))
            if g.first is not None and g.first in index:
                f = index[g.first]
                self.first_count[f] += 1
                self.last_first_age[f] = min(self.last_first_age[f], age)
            if len(g.members) >= 3:
                for x in idx:
                    self.trio_count[x] += 1
                    self.last_trio_age[x] = min(self.last_trio_age[x], age)
            if window is not None and age > window:
                p = OUT_OF_WINDOW
            else:
                p = REPEAT_BASE + REPEAT_RECENT // age
            if not g.met:
                p //= NOT_MET_FACTOR
            for s in range(len(idx)):
                for t in range(s + 1, len(idx)):
                    ka.append(idx[s])
                    kb.append(idx[t])
                    pen.append(p)
                    met_l.append(g.met)
                    age_l.append(age)
                    keep_l.append(g.keep_together)
        if not ka:
            z = np.zeros(0, np.int64)
            self.hist = _KeyTable(z, np.zeros((0, 4), np.int64))
            return
        keys = pair_keys(np.array(ka), np.array(kb), n)
        order = np.lexsort((np.array(age_l), keys))  # by pair, most recent first
        keys = keys[order]
        pen_a = np.array(pen, np.int64)[order]
        met_a = np.array(met_l, np.int64)[order]
        keep_a = np.array(keep_l, np.int64)[order]
        start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        # A kept pair follows the wish in its most recent entry; otherwise penalties add up.
        total_pen = np.add.reduceat(pen_a, start)
        met_any = np.maximum.reduceat(met_a, start)
        kept = keep_a[start]
        weight = np.where(kept == 1, KEEP_BONUS, -total_pen)
        values = np.stack([weight, met_any, kept, total_pen], axis=1)
        self.hist = _KeyTable(keys[start], values)

    # ---- vectorised pair functions -------------------------------------------------------

    def pref(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return the preference part of the weight (float) for index arrays i, j."""
        li, lj = self.level[i], self.level[j]
        known = (li >= 0) & (lj >= 0)
        d = np.abs(li - lj)
        level = np.where(known & (d == 0), 1.0, np.where(known & (d == 1), 0.5, 0.0))
        shared = np.bitwise_count(self.goals[i] & self.goals[j]).sum(axis=-1)
        goal = np.minimum(shared, 3)
        ti, tj = self.tz[i], self.tz[j]
        dt = np.abs(ti - tj)
        dt = np.minimum(dt, 1440 - dt)
        tz = np.where((ti >= 0) & (tj >= 0), np.maximum(0, WORK_MINUTES - dt) / WORK_MINUTES, 0.0)
        score = self.w_level * level + self.w_goal * goal + self.w_tz * tz
        if self.w_team:
            ci, cj = self.team[i], self.team[j]
            score = score + self.w_team * ((ci >= 0) & (cj >= 0) & (ci != cj))
        return score

    def tie(self, i: np.ndarray, j: np.ndarray, salt: int = 0) -> np.ndarray:
        """Return a seeded, symmetric tie-break in [0, TIE_RANGE); salt gives another draw."""
        x = (self.hash[i] ^ self.hash[j] ^ np.uint64(salt * 0x5851F42D4C957F2D % 2**64)) * _MIX
        return (x >> np.uint64(58)).astype(np.int64)

    def history_values(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (found mask, rows of [weight, met_any, kept, penalty]) per pair."""
        found, pos = self.hist.find(pair_keys(i, j, self.n))
        if self.hist.values is None or self.hist.values.shape[0] == 0:
            return found, np.zeros((*found.shape, 4), np.int64)
        return found, self.hist.values[pos]

    def weight(self, i: np.ndarray, j: np.ndarray, salt: int = 0) -> np.ndarray:
        """Return the integer weight of each pair (exclusions are not applied here)."""
        i = np.asarray(i, np.int64)
        j = np.asarray(j, np.int64)
        w = np.rint(self.pref(i, j)).astype(np.int64) + self.tie(i, j, salt)
        found, vals = self.history_values(i, j)
        return w + np.where(found, vals[..., 0], 0)

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return True where the pair may share a group (distinct, not excluded)."""
        i = np.asarray(i, np.int64)
        j = np.asarray(j, np.int64)
        found, _ = self.excl.find(pair_keys(i, j, self.n))
        return (i != j) & ~found

    def is_repeat(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return True where the pair carries a repeat-level penalty (and was not kept)."""
        found, vals = self.history_values(np.asarray(i, np.int64), np.asarray(j, np.int64))
        return found & (vals[..., 2] == 0) & (vals[..., 3] >= REPEAT_THRESHOLD)

    def dense(self, nodes: np.ndarray, salt: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Return (weights, allowed) matrices for a set of member indices."""
        ii = nodes[:, None]
        jj = nodes[None, :]
        return self.weight(ii, jj, salt), self.allowed(ii, jj)
