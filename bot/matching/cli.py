"""JSON in, JSON out: the `peercoach match` command over match_members."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TextIO

from .engine import match_members
from .model import MatchingInputError, MatchMember, MatchRules, PastGroup

_RULE_FIELDS = {
    "group_size": int,
    "repeat_window": int,
    "level_weight": float,
    "goal_weight": float,
    "tz_weight": float,
    "cross_team_weight": float,
    "avoid_same_team": bool,
    "min_shared_minutes": int,
}


def _int(value: Any, where: str, *, optional: bool = False) -> int | None:
    """Return value as an int or raise MatchingInputError naming where it came from."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MatchingInputError(f"{where} must be an integer")
    return value


def _str(value: Any, where: str) -> str:
    """Return value as a non-empty str or raise MatchingInputError."""
    if not isinstance(value, str) or not value:
        raise MatchingInputError(f"{where} must be a non-empty string")
    return value


def _optional_str(value: Any, where: str) -> str | None:
    """Return value as a non-empty str, None when absent, or raise MatchingInputError."""
    return None if value is None else _str(value, where)


def _obj(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    """Return value as a dict with only known keys."""
    if not isinstance(value, dict):
        raise MatchingInputError(f"{where} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise MatchingInputError(f"{where} has unknown field {unknown[0]!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    """Return value as a list."""
    if not isinstance(value, list):
        raise MatchingInputError(f"{where} must be a list")
    return value


def _intervals(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    """Return [[start, end], ...] (minutes from the round's week start) as a tuple of pairs."""
    out = []
    for raw in _list(value, f"{where}.work_intervals"):
        pair = _list(raw, f"{where}.work_intervals[]")
        if len(pair) != 2:
            raise MatchingInputError(f"{where}.work_intervals[] must be [start, end]")
        start = _int(pair[0], f"{where}.work_intervals[]")
        end = _int(pair[1], f"{where}.work_intervals[]")
        assert start is not None and end is not None
        out.append((start, end))
    return tuple(out)


def parse_request(doc: Any) -> dict[str, Any]:
    """Turn a decoded JSON request into match_members keyword arguments."""
    doc = _obj(doc, "request", {"members", "history", "exclusions", "rules", "seed"})
    if "members" not in doc:
        raise MatchingInputError("request needs a 'members' list")
    members = []
    fields = {"id", "level", "team", "goals", "tz_offset_minutes", "work_intervals"}
    for k, raw in enumerate(_list(doc["members"], "members")):
        m = _obj(raw, f"members[{k}]", fields)
        goals = _list(m.get("goals", []), f"members[{k}].goals")
        members.append(
            MatchMember(
                id=_str(m.get("id"), f"members[{k}].id"),
                level=_int(m.get("level"), f"members[{k}].level", optional=True),
                team=_optional_str(m.get("team"), f"members[{k}].team"),
                goals=frozenset(_str(g, f"members[{k}].goals[]") for g in goals),
                tz_offset_minutes=_int(
                    m.get("tz_offset_minutes"), f"members[{k}].tz_offset_minutes", optional=True
                ),
                work_intervals=_intervals(m.get("work_intervals", []), f"members[{k}]"),
            )
        )
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise MatchingInputError(f"duplicate member id {dup!r}")
    known = set(ids)
    history = []
    fields = {"members", "cycles_ago", "met", "keep_together", "first"}
    for k, raw in enumerate(_list(doc.get("history", []), "history")):
        h = _obj(raw, f"history[{k}]", fields)
        raw_who = _list(h.get("members"), f"history[{k}].members")
        who = [_str(x, f"history[{k}].members[]") for x in raw_who]
        for x in who:
            if x not in known:
                raise MatchingInputError(f"history[{k}] names unknown member {x!r}")
        ago = _int(h.get("cycles_ago"), f"history[{k}].cycles_ago")
        if ago is None or ago < 1:
            raise MatchingInputError(f"history[{k}].cycles_ago must be 1 or more")
        met, keep = h.get("met", True), h.get("keep_together", False)
        if not isinstance(met, bool) or not isinstance(keep, bool):
            raise MatchingInputError(f"history[{k}].met and keep_together must be true or false")
        first = _optional_str(h.get("first"), f"history[{k}].first")
        # Interned ids share one string object per person: at 100k members x 52 rounds, separate
        # strings from the JSON parser would cost ~300 MB more (bench/matching.py).
        ids_ = tuple(sys.intern(x) for x in who)
        history.append(PastGroup(ids_, ago, met, keep, first))
    exclusions = []
    for k, raw in enumerate(_list(doc.get("exclusions", []), "exclusions")):
        pair = _list(raw, f"exclusions[{k}]")
        if len(pair) != 2:
            raise MatchingInputError(f"exclusions[{k}] must be a pair of ids")
        exclusions.append((_str(pair[0], f"exclusions[{k}]"), _str(pair[1], f"exclusions[{k}]")))
    rules_doc = _obj(doc.get("rules", {}), "rules", set(_RULE_FIELDS))
    rules: dict[str, Any] = {}
    for name, kind in _RULE_FIELDS.items():
        if name not in rules_doc:
            continue
        value = rules_doc[name]
        if kind is bool:
            if not isinstance(value, bool):
                raise MatchingInputError(f"rules.{name} must be true or false")
            rules[name] = value
        elif kind is int:
            rules[name] = _int(value, f"rules.{name}", optional=name == "repeat_window")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise MatchingInputError(f"rules.{name} must be a number")
        elif not math.isfinite(value):
            raise MatchingInputError(f"rules.{name} must be finite")
        else:
            rules[name] = float(value)
    seed = _int(doc.get("seed", 0), "seed")
    return {
        "members": members,
        "history": history,
        "exclusions": exclusions,
        "rules": MatchRules(**rules),
        "seed": seed,
    }


def main(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Read a JSON request from stdin, write groups as JSON to stdout; 2 on bad input."""
    try:
        doc = json.load(stdin)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        stderr.write(f"error: input is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}\n")
        return 2
    try:
        kwargs = parse_request(doc)
        result = match_members(**kwargs)
    except MatchingInputError as exc:
        stderr.write(f"error: {exc}\n")
        return 2
    out = {
        "groups": [{"members": list(g.members), "reasons": list(g.reasons)} for g in result.groups],
        "unmatched": [{"id": u.id, "reason": u.reason} for u in result.unmatched],
        "seed": result.seed,
        "stats": result.stats,
    }
    json.dump(out, stdout, indent=2)
    stdout.write("\n")
    return 0
