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


def shortest_cycle(schedule: Schedule) -> timedelta:
    """The least time a scheduled round is left to run before the next one may start.

    One day short of the cadence, so that moving the hour or the day a little, or the clocks
    changing, never drops a week, while a slot in the same cycle as the current round (the
    hour moved from 09:00 to 17:00 on the day of a round) does not start a second one.
    """
    return timedelta(weeks=schedule.cadence_weeks) - timedelta(days=1)


def due_slot(
    schedule: Schedule,
    now: datetime,
    *,
    grace: timedelta,
    programme_started_at: datetime | None,
    schedule_changed_at: datetime | None,
    last_scheduled_at: datetime | None,
    last_started_at: datetime | None,
    cooldown: timedelta,
) -> datetime | None:
    """The scheduled round start (aware, UTC) that should run at `now`, or None.

    The latest slot at or before `now` runs when all of these hold:
    - it is at most `grace` old (a slot missed while the app was down is caught up once);
    - the programme had started by then (`programme_started_at`: the first member joined),
      so a fresh install never catches up a slot that passed before anyone was in it;
    - it came after the last schedule change (`schedule_changed_at`): a change applies to
      slots after it, never to one that passed before it;
    - it is at least `shortest_cycle` after the last scheduled round's start, so a change
      applies after the current round, not as a second round in the same cycle;
    - no round of any kind started within `cooldown` before it (an admin's round run
      moments before the slot stands for it).
    """
    slot = latest_round_time(schedule, now)
    if now - slot > grace:
        return None
    if programme_started_at is None or slot < programme_started_at:
        return None
    if schedule_changed_at is not None and slot <= schedule_changed_at:
        return None
    if last_scheduled_at is not None and slot - last_scheduled_at < shortest_cycle(schedule):
        return None
    if last_started_at is not None and last_started_at >= slot - cooldown:
        return None
    return slot


def next_slot(
    schedule: Schedule,
    now: datetime,
    *,
    schedule_changed_at: datetime | None,
    last_scheduled_at: datetime | None,
    last_started_at: datetime | None,
    cooldown: timedelta,
) -> datetime:
    """The first scheduled round start after `now` that `due_slot` will let run (aware,
    UTC): what "Next round" shows, so it never names a slot that will be skipped."""
    slot = now
    for _ in range(8):
        slot = round_times_after(schedule, slot)
        if schedule_changed_at is not None and slot <= schedule_changed_at:
            continue
        if last_scheduled_at is not None and slot - last_scheduled_at < shortest_cycle(schedule):
            continue
        if last_started_at is not None and last_started_at >= slot - cooldown:
            continue
        return slot
    raise AssertionError("unreachable: a slot a cycle after the last one always runs")
