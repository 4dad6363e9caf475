"""A workspace's programme settings, and their defaults (the one place they are written)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgramSettings:
    """Everything an admin can set for a workspace's programme.

    Schedule: a round every `cadence_weeks` weeks on `day_of_week` (0 = Monday) at `hour`
    local time in the IANA `timezone`.
    """

    cadence_weeks: int = 1
    day_of_week: int = 0
    hour: int = 9
    timezone: str = "UTC"
    group_size: int = 2
    repeat_window: int | None = None
    prefer_same_level: bool = True
    prefer_shared_goals: bool = True
    prefer_tz_overlap: bool = True
    prefer_cross_team: bool = False
    prompt_themes: tuple[str, ...] = ()
    admins: tuple[str, ...] = field(default=())
    # Single- and multi-channel guests are left out unless an admin includes them.
    include_guests: bool = False


# A new workspace starts with these: weekly pairs, Mondays 09:00 UTC.
DEFAULTS = ProgramSettings()
