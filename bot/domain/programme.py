"""A programme's settings, and their defaults (the one place they are written).

A workspace runs any number of programmes; each stores its ProgramSettings as one JSON
document (`programmes.settings`, see `to_stored` / `from_stored`). Adding a setting is adding a
field here with its default: rows stored before it read the default, and no migration is
needed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.domain.enums import ProgrammeFormat


@dataclass(frozen=True)
class ProgramSettings:
    """Everything an admin can set for one programme.

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
    # Auto-schedule: PeerCoach picks a time for a group that picked none within this many
    # days of its intro (None: off).
    auto_schedule_days: int | None = None
    # Hard matching rules (bot.services.orgchart): never a person and their manager in one
    # group (from the imported org chart), optionally nor their manager's manager; never two
    # people of the same team (as their profiles say); and at least this many hours of
    # working time in common (each person's Slack time zone and working hours; 0 = off).
    never_pair_reporting_line: bool = True
    never_pair_skip_level: bool = False
    avoid_same_team: bool = False
    min_shared_hours: int = 0
    # "pairs": everyone is re-matched each round (docs/cycles.md); "circles": coaching
    # circles of `circle_size` (3-5) kept together for `season_sessions` rounds.
    format: ProgrammeFormat = ProgrammeFormat.PAIRS
    season_sessions: int = 6
    circle_size: int = 4
    # Pairs format: the most rounds a pair may choose to keep meeting (0: not offered).
    keep_meeting_max: int = 3
    # An anonymous feedback pulse every this many rounds (bot.services.pulse); 0 is off.
    pulse_every_cycles: int = 4

    def to_stored(self) -> dict[str, Any]:
        """The settings as stored on the programme row (JSON-ready; `admins` are rows of
        program_admins, not part of it)."""
        stored = asdict(self)
        stored.pop("admins")
        stored["prompt_themes"] = list(self.prompt_themes)
        return stored

    @classmethod
    def from_stored(
        cls, stored: dict[str, Any] | None, admins: tuple[str, ...] = ()
    ) -> ProgramSettings:
        """Read stored settings back: unknown keys are ignored (a setting since removed),
        missing ones take the field's default (a setting added since)."""
        known = {f.name for f in fields(cls)} - {"admins"}
        values = {k: v for k, v in (stored or {}).items() if k in known}
        if "prompt_themes" in values:
            values["prompt_themes"] = tuple(values["prompt_themes"] or ())
        return cls(**values, admins=admins)


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

# A new programme starts with these: weekly pairs, Mondays 09:00 UTC.
DEFAULTS = ProgramSettings()
# The programme a workspace gets when it first uses PeerCoach (and that migration 0013 made
# of each workspace's single programme).
FIRST_PROGRAMME_NAME = "PeerCoach"


def programme_name(text: str) -> str:
    """A programme's name as typed (`/peercoach join "New managers"`): spaces collapsed,
    straight or curly quotes around it dropped."""
    return " ".join(text.split()).strip(QUOTES)


# Straight and curly quotes (Slack's clients may turn typed quotes into curly ones).
QUOTES = "\"'\u201c\u201d\u2018\u2019"


@dataclass(frozen=True)
class ProgrammeRef:
    """A programme as people pick it: its row id, name, description and whether it is open."""

    id: int
    name: str
    description: str = ""
    is_open: bool = True
