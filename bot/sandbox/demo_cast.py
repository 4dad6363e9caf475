"""The simulated leaders of `peercoach demo`: who they are and what they write, from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.profile_options import GOALS, LEVEL_BANDS

FIRST_NAMES = (
    "Amara", "Bruno", "Chen", "Dara", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kemi", "Lars", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Keller", "Osei",
    "Petrova", "Reyes", "Schmidt", "Nakamura", "Kowalski", "Mensah", "Dubois", "Larsen",
    "Iyer", "Costa", "Brennan",
)  # fmt: skip
TEAMS = (
    "Sales", "Engineering", "Finance", "Operations", "People", "Marketing", "Product",
    "Customer Success",
)  # fmt: skip
TIME_ZONES = (
    "Europe/London", "Europe/Berlin", "Europe/Lisbon", "America/New_York", "America/Chicago",
    "America/Sao_Paulo", "Africa/Lagos", "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney",
)  # fmt: skip
TAKEAWAYS = (
    "Ask one more question before offering advice",
    "My team needs the why, not just the what",
    "Saying no early saves everyone time",
    "Silence in a 1:1 is a tool, not a gap",
    "I avoid the hard conversation when I'm tired",
    "Delegating the outcome beats delegating the task",
    "Name the tension out loud and it shrinks",
    "My calendar shows my real priorities",
)
COMMITMENTS = (
    "Hand the weekly report over to Sam",
    "Give the overdue feedback to my lead on Tuesday",
    "Block two focus mornings a week",
    "Ask my team what to stop doing",
    "Have the budget conversation with my director",
    "Write down the three priorities for the quarter",
    "Run the retro without talking first",
    "Book a skip-level with each new starter",
)

# What some leaders suggest in the anonymous feedback pulse (shared without their name).
SUGGESTIONS = (
    "Longer rounds in the summer",
    "A prompt about hiring would help",
    "Let us pick the day of the chat",
    "More cross-team pairs, please",
)


@dataclass(frozen=True)
class Leader:
    """One simulated person in the demo workspace and the profile they join with."""

    user_id: str
    name: str
    tz: str
    tz_offset_seconds: int
    level: int
    team: str
    goals: tuple[str, ...]


def make_cast(count: int, rng: random.Random, at: datetime) -> list[Leader]:
    """`count` leaders with unique readable names and varied levels, teams, goals and zones."""
    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    if count > len(names):
        raise ValueError(f"the demo has names for at most {len(names)} people")
    chosen = rng.sample(names, count)
    goal_keys = list(GOALS)
    cast = []
    for n, name in enumerate(chosen, start=1):
        tz = rng.choice(TIME_ZONES)
        offset = at.astimezone(ZoneInfo(tz)).utcoffset()
        cast.append(
            Leader(
                user_id=f"UDEMO{n:03d}",
                name=name,
                tz=tz,
                tz_offset_seconds=int(offset.total_seconds()) if offset else 0,
                level=rng.choice(list(LEVEL_BANDS)),
                team=rng.choice(TEAMS),
                goals=tuple(rng.sample(goal_keys, rng.randint(1, 3))),
            )
        )
    return cast
