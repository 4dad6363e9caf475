"""Integer pair weights: preferences, history penalties, exclusions and a seeded tie-break."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter

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
CHUNK = 1 << 19  # pairs scored per vectorised step
MET, KEPT, REPEAT = 1, 2, 4  # per-pair history flags

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
    """Vectorised open-addressing hash index of int64 keys (searchsorted was ~10x slower)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        cap = 1 << max(4, int(2 * max(keys.size, 1) - 1).bit_length())
        self._mask = cap - 1
        # Each slot holds the row of the key stored there (-1 = empty).
        self._slots = np.full(cap, -1, np.int32 if keys.size < 2**31 - 1 else np.int64)
        pending = np.arange(keys.size, dtype=np.int32)
        slot = self._start(keys)
        while pending.size:
            s = slot[pending]
            empty = self._slots[s] == -1
            cand, cs = pending[empty], s[empty]
            # Among keys aiming at one slot one write wins; the others probe on.
            self._slots[cs] = cand.astype(self._slots.dtype)
            won = self._slots[cs] == cand
            placed = np.zeros(keys.size, bool)
            placed[cand[won]] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & self._mask

    def _start(self, keys: np.ndarray) -> np.ndarray:
        """Return the first probe slot of each key."""
        x = keys.astype(np.uint64) * _MIX
        return ((x >> np.uint64(20)) & np.uint64(self._mask)).astype(np.int32)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (found mask, row) for each key."""
        shape = keys.shape
        keys = keys.ravel()
        found = np.zeros(keys.size, bool)
        row = np.zeros(keys.size, np.int64)
        if self.keys.size == 0:
            return found.reshape(shape), row.reshape(shape)
        slot = self._start(keys)
        pending = np.arange(keys.size)
        while pending.size:
            r = self._slots[slot[pending]]
            hit = r >= 0
            hit[hit] = self.keys[r[hit]] == keys[pending[hit]]
            found[pending[hit]] = True
            row[pending[hit]] = r[hit]
            go_on = (r >= 0) & ~hit
            pending = pending[go_on]
            slot[pending] = (slot[pending] + 1) & self._mask
        return found.reshape(shape), row.reshape(shape)


def _overlap_at_least(classes: list[tuple[tuple[int, int], ...]], limit: int) -> np.ndarray:
    """Return a (C, C) table: do the two classes' intervals share a stretch of >= limit?

    Vectorised over class pairs (the same measure as worktime.longest_overlap).
    """
    width = max(len(c) for c in classes)
    iv = np.zeros((len(classes), width, 2), np.int64)  # padding: empty (0, 0) intervals
    for k, c in enumerate(classes):
        iv[k, : len(c)] = c
    out = np.zeros((len(classes), len(classes)), bool)
    step = max(1, 4_000_000 // (len(classes) * width * width))
    for lo in range(0, len(classes), step):
        a = iv[lo : lo + step, None, :, None, :]  # (rows, 1, K, 1, 2)
        b = iv[None, :, None, :, :]  # (1, C, 1, K, 2)
        overlap = np.minimum(a[..., 1], b[..., 1]) - np.maximum(a[..., 0], b[..., 0])
        out[lo : lo + step] = overlap.max(axis=(2, 3)) >= limit
    return out


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
        self.circle_conflicts = False  # set by the circle builder when never-pairs force a reshape
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
        self._load_hard_rules(members, rules)
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

    def _load_hard_rules(self, members: Sequence[MatchMember], rules: MatchRules) -> None:
        """Index the rule-wide hard rules: same team, and too little shared working time.

        Working windows are grouped into classes of identical intervals (people in one time
        zone with the same hours share one), so a pair's check is one lookup in a small
        class-by-class table. The count of people each member may not meet is added to
        `excl_degree` (the hardest members are seated first).
        """
        n = self.n
        self.same_team_hard = rules.avoid_same_team
        if self.same_team_hard:
            known = self.team >= 0
            sizes = np.bincount(self.team[known], minlength=1)
            self.excl_degree = self.excl_degree + np.where(known, sizes[self.team] - 1, 0)
        self.tz_class = np.full(n, -1, np.int64)
        self.tz_ok = np.ones((0, 0), bool)
        limit = rules.min_shared_minutes
        if limit <= 0:
            return
        classes: dict[tuple[tuple[int, int], ...], int] = {}
        for i, m in enumerate(members):
            if m.work_intervals:
                self.tz_class[i] = classes.setdefault(m.work_intervals, len(classes))
        if not classes:
            return
        self.tz_ok = _overlap_at_least(list(classes), limit)
        counts = np.bincount(self.tz_class[self.tz_class >= 0], minlength=len(classes))
        refused = (~self.tz_ok).astype(np.int64) @ counts
        has = self.tz_class >= 0
        self.excl_degree = self.excl_degree + np.where(has, refused[self.tz_class], 0)

    def _load_history(self, history: Sequence[PastGroup]) -> None:
        """Turn past groups into per-pair penalties, keep flags and fairness counters."""
        n, index, window = self.n, self.index, self.rules.repeat_window
        self.trio_count = np.zeros(n, np.int64)
        self.last_trio_age = np.full(n, 10**9, np.int64)
        self.first_count = np.zeros(n, np.int64)
        self.last_first_age = np.full(n, 10**9, np.int64)
        # Flat comprehensions: a year of history at 100k members is 2.6M groups.
        lookup: defaultdict[str, int] = defaultdict(lambda: -1, index)
        sizes = np.fromiter(map(len, map(attrgetter("members"), history)), np.int32)
        flat = np.fromiter(
            map(lookup.__getitem__, chain.from_iterable(map(attrgetter("members"), history))),
            np.int32,
            count=int(sizes.sum()),
        )
        ages = np.fromiter(map(attrgetter("cycles_ago"), history), np.int64, count=sizes.size)
        ages = np.clip(ages, 1, 10**6).astype(np.int32)  # int32 halves the temporaries
        met = np.fromiter(map(attrgetter("met"), history), bool, count=sizes.size)
        keep = np.fromiter(map(attrgetter("keep_together"), history), bool, count=sizes.size)
        has_first = np.fromiter((g.first is not None for g in history), bool, count=sizes.size)
        f_idx = np.array([index.get(g.first, -1) for g in history if g.first is not None], np.int64)
        f_age = ages[has_first] if f_idx.size else f_idx
        np.add.at(self.first_count, f_idx[f_idx >= 0], 1)
        np.minimum.at(self.last_first_age, f_idx[f_idx >= 0], f_age[f_idx >= 0])
        starts = (np.cumsum(sizes) - sizes).astype(np.int32)
        del has_first, f_idx, f_age
        # Past trios and circles feed the fair rotation of the trio seat.
        for size in np.unique(sizes[sizes >= 3]).tolist():
            grp = np.flatnonzero(sizes == size)
            for x in range(size):
                who = flat[starts[grp] + x]
                np.add.at(self.trio_count, who[who >= 0], 1)
                np.minimum.at(self.last_trio_age, who[who >= 0], ages[grp][who >= 0])
        # Expand every group into its pairs, one vectorised step per (size, seat, seat).
        pa, pb, pg = [], [], []
        for size in np.unique(sizes[sizes >= 2]).tolist():
            grp = np.flatnonzero(sizes == size).astype(np.int32)
            for x in range(size):
                for y in range(x + 1, size):
                    pa.append(flat[starts[grp] + x])
                    pb.append(flat[starts[grp] + y])
                    pg.append(grp)
        del flat, starts
        if not pa:
            self._set_history(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))
            return
        a, b, g = np.concatenate(pa), np.concatenate(pb), np.concatenate(pg)
        del pa, pb, pg
        ok = (a >= 0) & (b >= 0) & (a != b)
        a, b, g = a[ok], b[ok], g[ok]
        del ok
        if a.size == 0:
            self._set_history(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))
            return
        keys = pair_keys(a, b, n)
        del a, b
        age = ages[g]
        # One sort on (pair, age): most recent entry of each pair comes first.
        order = np.argsort(keys * 1024 + np.minimum(age, 1023).astype(np.int64))
        keys, g, age = keys[order], g[order], age[order]
        del order
        pen = (REPEAT_BASE + REPEAT_RECENT // age).astype(np.int32)  # at most 5M
        if window is not None:
            pen = np.where(age > window, np.int32(OUT_OF_WINDOW), pen)
        met_g = met[g]
        pen = np.where(met_g, pen, pen // NOT_MET_FACTOR)
        start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        # A kept pair follows the wish in its most recent entry; otherwise penalties add up.
        total_pen = np.add.reduceat(pen, start, dtype=np.int64)
        met_any = np.maximum.reduceat(met_g.astype(np.int8), start)
        kept = keep[g[start]]
        del pen, met_g, g, age
        weight = np.where(kept, KEEP_BONUS, -total_pen)
        flags = (met_any * MET) | (kept * KEPT) | (~kept & (total_pen >= REPEAT_THRESHOLD)) * REPEAT
        self._set_history(keys[start], weight, flags.astype(np.int8))

    def _set_history(self, keys: np.ndarray, weight: np.ndarray, flags: np.ndarray) -> None:
        """Index per-pair history: weight term and MET/KEPT/REPEAT flags."""
        self.hist = _KeyTable(keys)
        self.hist_weight = weight
        self.hist_flags = flags

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

    def history_flags(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return MET/KEPT/REPEAT bit flags per pair (0 for pairs with no history)."""
        found, pos = self.hist.find(pair_keys(i, j, self.n))
        if not found.any():
            return np.zeros(found.shape, np.int8)
        return np.where(found, self.hist_flags[pos], 0).astype(np.int8)

    def history_weight(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return the history part of the weight (0 for pairs with no history)."""
        found, pos = self.hist.find(pair_keys(i, j, self.n))
        if not found.any():
            return np.zeros(found.shape, np.int64)
        return np.where(found, self.hist_weight[pos], 0)

    def weight(self, i: np.ndarray, j: np.ndarray, salt: int = 0) -> np.ndarray:
        """Return the integer weight of each pair (exclusions are not applied here)."""
        i = np.asarray(i, np.int64)
        j = np.asarray(j, np.int64)
        if i.ndim == 1 and i.shape == j.shape and i.size > CHUNK:
            # Chunks bound the numpy temporaries (peak memory) on 100k-member rounds.
            out = np.empty(i.size, np.int64)
            for k in range(0, i.size, CHUNK):
                out[k : k + CHUNK] = self.weight(i[k : k + CHUNK], j[k : k + CHUNK], salt)
            return out
        w = np.rint(self.pref(i, j)).astype(np.int64) + self.tie(i, j, salt)
        return w + self.history_weight(i, j)

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return True where the pair may share a group: distinct, not excluded, and (when
        the rules say so) not of one team and sharing enough working time."""
        i = np.asarray(i, np.int64)
        j = np.asarray(j, np.int64)
        ok = i != j
        if self.excl.keys.size:
            found, _ = self.excl.find(pair_keys(i, j, self.n))
            ok = ok & ~found
        if self.same_team_hard:
            ti, tj = self.team[i], self.team[j]
            ok = ok & ((ti < 0) | (ti != tj))
        if self.tz_ok.size:
            ci, cj = self.tz_class[i], self.tz_class[j]
            known = (ci >= 0) & (cj >= 0)
            ok = ok & (~known | self.tz_ok[np.maximum(ci, 0), np.maximum(cj, 0)])
        return ok

    def is_repeat(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return True where the pair carries a repeat-level penalty (and was not kept)."""
        flags = self.history_flags(np.asarray(i, np.int64), np.asarray(j, np.int64))
        return (flags & REPEAT) != 0

    def dense(self, nodes: np.ndarray, salt: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Return (weights, allowed) matrices for a set of member indices."""
        ii = nodes[:, None]
        jj = nodes[None, :]
        return self.weight(ii, jj, salt), self.allowed(ii, jj)
