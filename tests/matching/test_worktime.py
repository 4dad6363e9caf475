"""Working windows in each person's own time zone, day by day (DST included)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.matching.worktime import (
    WorkingWindow,
    default_window,
    shared_working_minutes,
    working_intervals,
)

MONDAY = datetime(2026, 2, 16, 0, tzinfo=UTC)


def test_standard_hours_are_five_stretches_of_eight_hours_in_the_persons_zone():
    stretches = working_intervals(WorkingWindow("Europe/London"), MONDAY)
    assert stretches == tuple((d * 1440 + 540, d * 1440 + 1020) for d in range(5))


def test_a_week_in_which_one_zone_changes_its_clocks_changes_only_the_days_after():
    # New York moves to summer time on Sunday 8 March 2026; London stays on GMT until the 29th.
    week = datetime(2026, 3, 2, 0, tzinfo=UTC)
    ny = working_intervals(WorkingWindow("America/New_York"), week)
    assert [(a % 1440, b % 1440) for a, b in ny] == [(14 * 60, 22 * 60)] * 5
    after = working_intervals(WorkingWindow("America/New_York"), datetime(2026, 3, 9, tzinfo=UTC))
    assert [(a % 1440, b % 1440) for a, b in after] == [(13 * 60, 21 * 60)] * 5


def test_shared_time_is_the_longest_common_stretch():
    london, kolkata = WorkingWindow("Europe/London"), WorkingWindow("Asia/Kolkata")
    assert shared_working_minutes(london, kolkata, week_start=MONDAY) == 150  # 09:00-11:30 GMT
    tokyo, new_york = WorkingWindow("Asia/Tokyo"), WorkingWindow("America/New_York")
    assert shared_working_minutes(tokyo, new_york, week_start=MONDAY) == 0
    # Other hours plug in per person: a New Yorker working 18:00-02:00 (23:00-07:00 UTC)
    # shares most of Tokyo's day (00:00-08:00 UTC).
    late = WorkingWindow("America/New_York", start=time(18), end=time(2))
    assert shared_working_minutes(tokyo, late, week_start=MONDAY) == 420


def test_across_the_date_line_weekdays_are_each_persons_own():
    auckland, los_angeles = WorkingWindow("Pacific/Auckland"), WorkingWindow("America/Los_Angeles")
    # Auckland's Tuesday 09:00-14:00 (NZDT) is Los Angeles' Monday 12:00-17:00 (PST); their
    # Friday afternoon is Auckland's Saturday, shared with no one.
    assert shared_working_minutes(auckland, los_angeles, week_start=MONDAY) == 300


def test_unknown_zones_give_no_working_time_and_naive_times_are_refused():
    assert working_intervals(WorkingWindow("Mars/Olympus"), MONDAY) == ()
    assert default_window(None) is None
    with pytest.raises(ValueError):
        working_intervals(WorkingWindow("Europe/London"), MONDAY.replace(tzinfo=None))
