"""Working windows and the working time two people share, from each one's own time zone.

Pure (standard library only). A person's working window is local wall-clock hours on local
weekdays in their IANA time zone (their Slack time zone); DST is applied day by day, so two
people's shared time changes in the weeks when only one of their zones has moved its clocks.
Per-person hours plug in through `WorkingWindow` (the default is 09:00-17:00, Monday-Friday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class WorkingWindow:
    """When one person works: `start`-`end` local time on `weekdays` (0 = Monday) in the
    IANA `timezone`. `end` at or before `start` is a window that runs past midnight."""

    timezone: str
    start: time = time(9)
    end: time = time(17)
    weekdays: frozenset[int] = frozenset(range(5))


def default_window(timezone: str | None) -> WorkingWindow | None:
    """The standard working window (09:00-17:00 on weekdays) in `timezone`; None if unknown."""
    return WorkingWindow(timezone) if timezone else None


def working_intervals(window: WorkingWindow, week_start: datetime) -> tuple[tuple[int, int], ...]:
    """Return the window's working stretches that overlap the 7 days from `week_start`.

    Shape: sorted (start, end) pairs in whole minutes after `week_start` (an aware datetime);
    stretches crossing the week's edges are kept whole, so the values run from about -1 day to
    8 days. An unknown time zone name gives no stretches. Raises ValueError for a naive
    `week_start`.
    """
    if week_start.tzinfo is None:
        raise ValueError("week_start must be timezone-aware")
    try:
        zone = ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ()
    origin = week_start.astimezone(UTC)
    first_day = origin.astimezone(zone).date() - timedelta(days=1)
    out: list[tuple[int, int]] = []
    for offset in range(9):
        day = first_day + timedelta(days=offset)
        if day.weekday() not in window.weekdays:
            continue
        start, end = _local_stretch(day, window, zone)
        a = int((start - origin).total_seconds() // 60)
        b = int((end - origin).total_seconds() // 60)
        if b > 0 and a < WEEK_MINUTES and b > a:
            out.append((a, b))
    return tuple(sorted(out))


def _local_stretch(day: date, window: WorkingWindow, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return one day's working stretch as aware datetimes (DST gaps resolve like zoneinfo)."""
    start = datetime.combine(day, window.start, zone)
    end_day = day if window.end > window.start else day + timedelta(days=1)
    end = datetime.combine(end_day, window.end, zone)
    return start, end


def longest_overlap(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> int:
    """Return the longest single stretch, in minutes, that two lists of intervals share."""
    best = 0
    for s1, e1 in a:
        for s2, e2 in b:
            best = max(best, min(e1, e2) - max(s1, s2))
    return best


def shared_working_minutes(a: WorkingWindow, b: WorkingWindow, *, week_start: datetime) -> int:
    """Return the longest stretch of working time two people share in the week from
    `week_start` (minutes; 0 when their hours never meet or a time zone is unknown).

    The one definition of "shared working time": the matcher's hard limit applies it to
    every pair through `working_intervals` and `longest_overlap`.
    """
    return longest_overlap(working_intervals(a, week_start), working_intervals(b, week_start))
