"""Meeting times: a member's working hours, and the slots an intro offers a group.

Pure types and one pure function per idea (no database, no Slack): `WorkingHours.windows`
turns a person's hours into the instants (aware UTC) they work in a date range, in their own
time zone with its daylight-saving changes (zoneinfo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

# How long a PeerCoach chat is (the agenda adds up to it), and when its reminder goes out.
CHAT_MINUTES = 30
REMINDER_LEAD = timedelta(minutes=10)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 24 * 60


def zone(tz_name: str | None) -> ZoneInfo:
    """The IANA zone named (Slack's users.info `tz`), UTC when missing or unknown."""
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class WorkingHours:
    """When a member works, in their own time zone: from `start_minute` to `end_minute`
    after local midnight (0..1440, start < end) on `days` (0 = Monday), less the
    `no_meeting_days` they keep free of meetings. Default 09:00-17:00 on weekdays.

    Raises ValueError when the hours are empty or out of range.
    """

    start_minute: int = 9 * 60
    end_minute: int = 17 * 60
    days: frozenset[int] = frozenset(range(5))
    no_meeting_days: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError("working hours must start before they end, within one day")
        if not self.days <= frozenset(range(7)) or not self.no_meeting_days <= frozenset(range(7)):
            raise ValueError("days are 0 (Monday) .. 6 (Sunday)")

    @property
    def meeting_days(self) -> frozenset[int]:
        """The days a meeting may fall on: working days that are not kept meeting-free."""
        return self.days - self.no_meeting_days

    def windows(
        self, tz_name: str | None, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The person's meeting windows overlapping [start, end), as aware UTC intervals,
        oldest first, clipped to [start, end). Local times are turned into instants with
        zoneinfo, so a window on a daylight-saving day keeps its wall-clock hours.

        Raises ValueError for naive datetimes.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be aware datetimes")
        tz = zone(tz_name)
        first = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date() + timedelta(days=1)
        found: list[tuple[datetime, datetime]] = []
        day = first
        while day <= last:
            if day.weekday() in self.meeting_days:
                opens = _local(day, self.start_minute, tz)
                closes = _local(day, self.end_minute, tz)
                low, high = max(opens, start), min(closes, end)
                if low < high:
                    found.append((low.astimezone(UTC), high.astimezone(UTC)))
            day += timedelta(days=1)
        return found

    def describe(self) -> str:
        """'09:00-17:00, Monday to Friday (no meetings on Friday)', for people to read."""
        hours = f"{_clock(self.start_minute)}-{_clock(self.end_minute)}"
        days = sorted(self.days)
        if days == list(range(5)):
            on = "Monday to Friday"
        elif days == list(range(7)):
            on = "every day"
        else:
            on = ", ".join(WEEKDAYS[d] for d in days) or "no days"
        free = sorted(self.no_meeting_days & self.days)
        extra = f" (no meetings on {', '.join(WEEKDAYS[d] for d in free)})" if free else ""
        return f"{hours}, {on}{extra}"


DEFAULT_WORKING_HOURS = WorkingHours()


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant of `minute` after midnight on `day` in `tz` (24:00 is the next midnight)."""
    if minute >= MINUTES_PER_DAY:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


Cost = Literal["morning", "evening"]


class MeetingSlot(BaseModel):
    """A suggested meeting time for a group (aware UTC start, `minutes` long), with whose
    early morning or evening it costs when it lies outside someone's working hours."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    minutes: int = CHAT_MINUTES
    # (Slack user id, "morning" | "evening") for each person it lies outside the hours of.
    costs: tuple[tuple[str, Cost], ...] = ()

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class SlotPerson:
    """One member of a group as slot-finding sees them: hours, zone, and how many earlier
    rounds asked them to meet outside their hours (the cost rotates to whoever paid least)."""

    user_id: str
    hours: WorkingHours
    tz_name: str | None
    past_costs: int = 0
