"""When rounds start: the programme's local day and hour, summer and winter, every N weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.schedule import Schedule, latest_round_time, round_times_after

LONDON, NEW_YORK = "Europe/London", "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Mondays at 09:00 local. Monday 2026-03-23 is a round week for every cadence; London's clocks
# go forward on 2026-03-29 and back on 2026-10-25, New York's on 2026-03-08 and 2026-11-01.
@pytest.mark.parametrize(
    ("zone", "cadence", "after", "expected"),
    [
        (LONDON, 1, utc(2026, 3, 23, 8, 59), utc(2026, 3, 23, 9)),
        (LONDON, 1, utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)),
        (LONDON, 1, utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)),
        (NEW_YORK, 1, utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)),
        (NEW_YORK, 1, utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)),
        (LONDON, 2, utc(2026, 3, 23, 9), utc(2026, 4, 6, 8)),
        (LONDON, 2, utc(2026, 3, 24), utc(2026, 4, 6, 8)),
        (LONDON, 4, utc(2026, 3, 23, 9), utc(2026, 4, 20, 8)),
        (NEW_YORK, 4, utc(2026, 2, 23, 14), utc(2026, 3, 23, 13)),
    ],
    ids=[
        "London, a minute before",
        "London, into summer time",
        "London, out of summer time",
        "New York, into daylight time",
        "New York, out of daylight time",
        "fortnightly, from a round",
        "fortnightly, from the week between",
        "four-weekly, into summer time",
        "four-weekly New York, into daylight time",
    ],
)
def test_the_next_round_is_at_the_local_hour_whatever_the_season(
    zone: str, cadence: int, after: datetime, expected: datetime
) -> None:
    schedule = Schedule(cadence_weeks=cadence, day_of_week=0, hour=9, timezone=zone)
    assert round_times_after(schedule, after) == expected


def test_the_latest_round_is_the_one_just_started_or_the_one_before() -> None:
    schedule = Schedule(timezone=LONDON)
    assert latest_round_time(schedule, utc(2026, 3, 30, 8)) == utc(2026, 3, 30, 8)
    assert latest_round_time(schedule, utc(2026, 3, 30, 7, 59)) == utc(2026, 3, 23, 9)


def test_a_round_set_in_the_hour_the_clocks_skip_starts_when_they_jump() -> None:
    # 01:00 does not exist in London on 2026-03-29: the round starts at 02:00 BST (01:00 UTC).
    schedule = Schedule(day_of_week=6, hour=1, timezone=LONDON)
    assert round_times_after(schedule, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)


def test_a_round_set_in_the_hour_the_clocks_repeat_starts_once() -> None:
    # 01:00 happens twice in London on 2026-10-25: the round takes the first (BST) one.
    schedule = Schedule(day_of_week=6, hour=1, timezone=LONDON)
    first = round_times_after(schedule, utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0)
    assert round_times_after(schedule, first) == utc(2026, 11, 1, 1)


@given(
    moment=st.integers(0, 4 * 365 * 24 * 3600).map(
        lambda s: utc(2025, 1, 1) + timedelta(seconds=s)
    ),
    cadence=st.sampled_from([1, 2, 4]),
    day=st.integers(0, 6),
    hour=st.integers(3, 23),  # clear of both zones' skipped and repeated hours
    zone=st.sampled_from([LONDON, NEW_YORK]),
)
def test_rounds_fall_on_the_local_day_and_hour_every_n_weeks(
    moment: datetime, cadence: int, day: int, hour: int, zone: str
) -> None:
    schedule = Schedule(cadence_weeks=cadence, day_of_week=day, hour=hour, timezone=zone)

    latest = latest_round_time(schedule, moment)
    following = round_times_after(schedule, latest)

    assert latest <= moment < following
    assert round_times_after(schedule, moment) == following
    for start in (latest, following):
        local = start.astimezone(ZoneInfo(zone))
        assert (local.weekday(), local.hour, local.minute) == (day, hour, 0)
    gap = following - latest
    assert abs(gap - timedelta(weeks=cadence)) <= timedelta(hours=1)
