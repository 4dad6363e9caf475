"""Plain data types of the matching engine (no Slack, no database)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class Reason(enum.StrEnum):
    """Why a group was formed as it was; stored with each group as a reason string.

    A reason string is the code, or for SHARED_GOAL `shared_goal:<goal key>`.
    """

    FIRST_MEETING = "first_meeting"
    REPEAT = "repeat"
    KEPT_TOGETHER = "kept_together"
    SHARED_GOAL = "shared_goal"
    SAME_LEVEL = "same_level"
    ADJACENT_LEVEL = "adjacent_level"
    TZ_OVERLAP = "tz_overlap"
    CROSS_TEAM = "cross_team"


def reason_code(reason: str) -> tuple[Reason | None, str | None]:
    """Split a stored reason string into its code and argument; (None, None) if unknown."""
    code, _, argument = reason.partition(":")
    try:
        return Reason(code), argument or None
    except ValueError:
        return None, None


def shared_goal_reason(goal: str) -> str:
    """The reason string for a goal the group shares."""
    return f"{Reason.SHARED_GOAL}:{goal}"


class MatchingInputError(ValueError):
    """Input the engine cannot work with (duplicate ids, wrong types, bad rules)."""


class MatchingInternalError(RuntimeError):
    """A result failed validation; a bug in the engine, never sent to users."""


@dataclass(frozen=True, slots=True)
class MatchMember:
    """One eligible member of a round."""

    id: str
    level: int | None = None
    team: str | None = None
    goals: frozenset[str] = frozenset()
    tz_offset_minutes: int | None = None
    # Working stretches in the round's week, minutes from its start (bot.matching.worktime
    # .working_intervals); empty: unknown, and the shared-hours limit does not apply to them.
    work_intervals: tuple[tuple[int, int], ...] = ()


class PastGroup(NamedTuple):
    """One group of an earlier round; cycles_ago=1 is the last round.

    A named tuple rather than a frozen dataclass: a round reads a programme's whole recent
    history as these (72,500 of them for 5,000 members and 29 rounds), and a tuple is built
    several times faster (3 us against 0.5 us each on the 2-core dev machine).
    """

    members: tuple[str, ...]
    cycles_ago: int
    met: bool = True
    keep_together: bool = False
    first: str | None = None


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Workspace settings that shape the grouping."""

    group_size: int = 2
    repeat_window: int | None = None
    level_weight: float = 1.0
    goal_weight: float = 1.0
    tz_weight: float = 1.0
    cross_team_weight: float = 0.0
    # Hard rules: never two people of the same team (MatchMember.team) in a group, and never
    # a group in which two people share less than this many working minutes (0: off).
    avoid_same_team: bool = False
    min_shared_minutes: int = 0


@dataclass(frozen=True, slots=True)
class MatchedGroup:
    """One group; members[0] goes first."""

    members: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A member left out because the hard rules (never-pair lists, reporting lines, same
    team, shared working hours) made a full grouping impossible."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The groups of one round plus what could not be grouped."""

    groups: tuple[MatchedGroup, ...]
    unmatched: tuple[Unmatched, ...]
    seed: int
    stats: dict = field(default_factory=dict)


# Machine-readable reasons for members left out.
NO_COMPATIBLE_PARTNER = "no_compatible_partner"  # nobody in the round may be grouped with them
NO_COMPATIBLE_GROUP = "no_compatible_group"  # partners exist, but not for everyone at once
