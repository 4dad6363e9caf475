"""A workspace's programme settings, and their defaults (the one place they are written)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.enums import ProgrammeFormat


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
    # Months after which reflection text is deleted (bot.services.privacy.apply_retention).
    retention_months: int = 12
    # The agreement members accept; empty means DEFAULT_AGREEMENT.
    agreement_text: str = ""
    # Single- and multi-channel guests are left out unless an admin includes them.
    include_guests: bool = False
    # "pairs": everyone is re-matched each round (docs/cycles.md); "circles": coaching
    # circles of `circle_size` (3-5) kept together for `season_sessions` rounds.
    format: ProgrammeFormat = ProgrammeFormat.PAIRS
    season_sessions: int = 6
    circle_size: int = 4
    # Pairs format: the most rounds a pair may choose to keep meeting (0: not offered).
    keep_meeting_max: int = 3
    # An anonymous feedback pulse every this many rounds (bot.services.pulse); 0 is off.
    pulse_every_cycles: int = 4


CIRCLE_SIZES = (3, 4, 5)
# A circle below this many members is merged into another; above the largest size it is full.
MIN_CIRCLE, MAX_CIRCLE = 3, 5

# What members agree to when they join (docs/coaching.md); owners may reword it.
DEFAULT_AGREEMENT = (
    "What is said in a PeerCoach chat stays between the peers in it. We meet on equal "
    "footing: no evaluation, no reporting back to anyone's manager. Either of us can pause "
    "or step out at any time, no reason needed."
)
GOAL_PROGRESS = {0: "No progress yet", 1: "Some progress", 2: "Good progress", 3: "Achieved it"}

# A new workspace starts with these: weekly pairs, Mondays 09:00 UTC.
DEFAULTS = ProgramSettings()
