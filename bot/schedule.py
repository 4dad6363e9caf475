"""When rounds happen: pure functions of a workspace's schedule and a moment in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.programme import DEFAULTS

# Rounds every N weeks fall on weeks counted from this Monday, so the choice is stable.
CADENCE_ANCHOR = date(2024, 1, 1)


@dataclass(frozen=True)
class Schedule:
    """A round every `cadence_weeks` weeks on `day_of_week` (0 = Monday) at `hour` local time."""

    cadence_weeks: int = DEFAULTS.cadence_weeks
    day_of_week: int = DEFAULTS.day_of_week
    hour: int = DEFAULTS.hour
    timezone: str = DEFAULTS.timezone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _is_round_week(day: date, cadence_weeks: int) -> bool:
    weeks = (day - CADENCE_ANCHOR).days // 7
    return weeks % cadence_weeks == 0


def round_times_after(schedule: Schedule, after: datetime) -> datetime:
    """Return the first scheduled round start strictly after `after` (aware, UTC)."""
    local = after.astimezone(schedule.zone)
    day = local.date() - timedelta(days=(local.weekday() - schedule.day_of_week) % 7)
    for _ in range(schedule.cadence_weeks * 2 + 2):
        if _is_round_week(day, schedule.cadence_weeks):
            start = datetime.combine(day, time(schedule.hour), tzinfo=schedule.zone)
            if start > after:
                return start.astimezone(UTC)
        day += timedelta(days=7)
    raise AssertionError("unreachable: a round week always comes within two cadences")


def latest_round_time(schedule: Schedule, at: datetime) -> datetime:
    """Return the most recent scheduled round start at or before `at` (aware, UTC)."""
    probe = at - timedelta(weeks=schedule.cadence_weeks + 1)
    latest = round_times_after(schedule, probe)
    while True:
        following = round_times_after(schedule, latest)
        if following > at:
            return latest
        latest = following
