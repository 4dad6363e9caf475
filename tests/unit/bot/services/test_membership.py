"""`/peercoach pause` and `skip`: when a person's break ends, or why their words were refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.schedule import Schedule, round_times_after
from bot.services.membership import UsageError, parse_pause, skip_until

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, an hour before London's round
WEEKLY_LONDON = Schedule(timezone="Europe/London")


@pytest.mark.parametrize(
    ("words", "weeks"),
    [([], 1), (["3", "weeks"], 3), (["3w"], 3), (["2", "WK"], 2), (["1"], 1), (["52"], 52)],
)
def test_a_pause_of_some_weeks_ends_that_long_from_now(words: list[str], weeks: int) -> None:
    assert parse_pause(words, now=NOW, schedule=WEEKLY_LONDON) == NOW + timedelta(weeks=weeks)


def test_a_pause_with_no_length_lasts_one_cycle() -> None:
    fortnightly = Schedule(cadence_weeks=2, timezone="Europe/London")
    assert parse_pause([], now=NOW, schedule=fortnightly) == NOW + timedelta(weeks=2)


@pytest.mark.parametrize(
    ("zone", "day", "ends"),
    [
        ("Europe/London", "2026-12-31", datetime(2026, 12, 31, 0, tzinfo=UTC)),
        ("Europe/London", "2027-07-01", datetime(2027, 6, 30, 23, tzinfo=UTC)),
        ("America/New_York", "2026-12-31", datetime(2026, 12, 31, 5, tzinfo=UTC)),
    ],
)
def test_a_pause_until_a_day_ends_at_its_midnight_in_the_programmes_zone(
    zone: str, day: str, ends: datetime
) -> None:
    assert parse_pause(["until", day], now=NOW, schedule=Schedule(timezone=zone)) == ends


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["until", "31/12/2026"], "I couldn't read `31/12/2026` as a date: use YYYY-MM-DD."),
        (["until", "2026-11-23"], "That date has already passed: pick a day in the future."),
        (["0"], "Pause for at least one week."),
        (["53", "weeks"], "You can pause for up to a year"),
        (["until", "2028-01-01"], "You can pause for up to a year"),
        (["forever"], "Try `/peercoach pause`, `/peercoach pause 3 weeks`"),
        (["100"], "Try `/peercoach pause`"),
    ],
)
def test_words_it_cannot_use_are_answered_with_what_to_type(words: list[str], message: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_pause(words, now=NOW, schedule=WEEKLY_LONDON)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize("cadence", [1, 2, 4])
def test_skipping_sits_out_the_next_round_only(cadence: int) -> None:
    schedule = Schedule(cadence_weeks=cadence, timezone="Europe/London")
    next_round = round_times_after(schedule, NOW)

    ends = skip_until(now=NOW, schedule=schedule)

    assert next_round < ends < round_times_after(schedule, next_round)
