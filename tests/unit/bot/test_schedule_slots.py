"""bot.schedule.due_slot: which scheduled slot runs at a moment, as a pure rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.schedule import Schedule, due_slot

WEEKLY = Schedule()  # Mondays 09:00 UTC
MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
GRACE, COOLDOWN = timedelta(hours=24), timedelta(minutes=15)


def due(
    now: datetime,
    *,
    schedule: Schedule = WEEKLY,
    started: datetime | None = MONDAY_9 - timedelta(weeks=4),
    changed: datetime | None = None,
    last_scheduled: datetime | None = None,
    last_started: datetime | None = None,
) -> datetime | None:
    return due_slot(
        schedule,
        now,
        grace=GRACE,
        programme_started_at=started,
        schedule_changed_at=changed,
        last_scheduled_at=last_scheduled,
        last_started_at=last_started or last_scheduled,
        cooldown=COOLDOWN,
    )


def test_the_slot_runs_on_time_and_as_a_catch_up_within_grace() -> None:
    assert due(MONDAY_9) == MONDAY_9
    assert due(MONDAY_9 + timedelta(hours=23)) == MONDAY_9
    assert due(MONDAY_9 + timedelta(hours=25)) is None


def test_no_slot_before_the_programme_started_or_before_a_change() -> None:
    assert due(MONDAY_9 + timedelta(hours=1), started=None) is None
    assert due(MONDAY_9 + timedelta(hours=1), started=MONDAY_9 + timedelta(hours=1)) is None
    assert due(MONDAY_9 + timedelta(hours=1), changed=MONDAY_9 + timedelta(minutes=30)) is None
    assert due(MONDAY_9 + timedelta(weeks=1), changed=MONDAY_9 + timedelta(minutes=30))


def test_a_slot_in_the_current_rounds_cycle_does_not_run() -> None:
    evening = Schedule(hour=17)
    assert due(MONDAY_9 + timedelta(hours=8), schedule=evening, last_scheduled=MONDAY_9) is None
    next_week = MONDAY_9 + timedelta(weeks=1, hours=8)
    assert due(next_week, schedule=evening, last_scheduled=MONDAY_9) == next_week
    # Moved earlier by a few hours, or across a clock change: no week is dropped.
    early = Schedule(hour=7)
    slot = MONDAY_9 + timedelta(weeks=1, hours=-2)
    assert due(slot, schedule=early, last_scheduled=MONDAY_9) == slot


def test_an_admins_round_just_before_the_slot_stands_for_it() -> None:
    assert due(MONDAY_9, last_started=MONDAY_9 - timedelta(minutes=5)) is None
    assert due(MONDAY_9, last_started=MONDAY_9 - timedelta(days=2)) == MONDAY_9
