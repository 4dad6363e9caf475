"""Working hours: a person's meeting windows in their own zone, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.meetings import WorkingHours


def test_default_hours_are_nine_to_five_on_weekdays_in_the_persons_zone() -> None:
    # Mon 30 Nov .. Sun 6 Dec 2026, New York is UTC-5 in winter.
    windows = WorkingHours().windows(
        "America/New_York", datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)
    )
    assert len(windows) == 5
    assert windows[0] == (
        datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 22, 0, tzinfo=UTC),
    )
    assert all(start.weekday() < 5 for start, _ in windows)


def test_windows_keep_their_wall_clock_hours_across_a_daylight_saving_change() -> None:
    # Europe switches to summer time on Sunday 29 March 2026.
    windows = WorkingHours().windows(
        "Europe/Berlin", datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    friday, monday = windows[0], windows[1]
    assert friday[0] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert monday[0] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_no_meeting_days_and_custom_hours_are_left_out() -> None:
    hours = WorkingHours(start_minute=8 * 60, end_minute=12 * 60, no_meeting_days=frozenset({2}))
    monday, friday = datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)
    windows = hours.windows("UTC", monday, friday)
    assert [w[0].weekday() for w in windows] == [0, 1, 3, 4]
    assert all((w[1] - w[0]).total_seconds() == 4 * 3600 for w in windows)
    assert "no meetings on Wednesday" in hours.describe()


def test_empty_or_inverted_hours_are_refused() -> None:
    with pytest.raises(ValueError):
        WorkingHours(start_minute=600, end_minute=540)
    with pytest.raises(ValueError):
        WorkingHours().windows("UTC", datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001
