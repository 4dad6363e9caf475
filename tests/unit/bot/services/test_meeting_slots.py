"""Suggested meeting slots: inside everyone's hours across zones and DST, on different days;
with no overlap, the least-bad slot, naming who pays, the cost rotating across rounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.meetings import SlotPerson, WorkingHours
from bot.services.meetings import suggest_slots

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHECKIN = MONDAY + timedelta(days=4)
ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Asia/Kathmandu",  # UTC+5:45: its hours are off the half-hour grid
    "UTC",
]


def inside(person: SlotPerson, start: datetime, end: datetime) -> bool:
    day = timedelta(days=1)
    windows = person.hours.windows(person.tz_name, start - day, end + day)
    return any(low <= start and end <= high for low, high in windows)


def test_slots_lie_inside_everyones_hours_on_different_days() -> None:
    people = [
        SlotPerson("UA", WorkingHours(), "Europe/London"),
        SlotPerson("UB", WorkingHours(), "America/New_York"),
    ]
    slots = suggest_slots(people, start=MONDAY + timedelta(hours=1), end=CHECKIN)
    assert len(slots) == 3
    for slot in slots:
        assert not slot.costs
        assert all(inside(p, slot.start, slot.end) for p in people)
        assert slot.start >= MONDAY + timedelta(hours=1) and slot.end <= CHECKIN
        assert slot.start.minute in (0, 30)
    days = {s.start.astimezone(UTC).date() for s in slots}
    assert len(days) == 3


def test_slots_respect_daylight_saving_in_the_week_it_changes() -> None:
    # Europe left summer time on 25 Oct 2026, the US leaves it on 1 Nov: Berlin's 09:00-17:00
    # and New York's 08:00-16:00 share 12:00-16:00 UTC before, 13:00-16:00 UTC after.
    start = datetime(2026, 10, 29, 9, 0, tzinfo=UTC)  # a Thursday
    people = [
        SlotPerson("UA", WorkingHours(), "Europe/Berlin"),
        SlotPerson("UB", WorkingHours(start_minute=8 * 60), "America/New_York"),
    ]
    slots = suggest_slots(people, start=start, end=start + timedelta(days=7))
    assert len(slots) == 3
    assert slots[0].start < datetime(2026, 11, 1, tzinfo=UTC) < slots[-1].start
    for slot in slots:
        assert all(inside(p, slot.start, slot.end) for p in people)
    assert slots[-1].start.hour >= 13  # New York's 08:00 is 13:00 UTC after the change


def test_no_meeting_days_are_never_suggested() -> None:
    people = [
        SlotPerson("UA", WorkingHours(no_meeting_days=frozenset({1, 2})), "UTC"),
        SlotPerson("UB", WorkingHours(), "UTC"),
    ]
    slots = suggest_slots(people, start=MONDAY, end=MONDAY + timedelta(days=7))
    assert {s.start.weekday() for s in slots} <= {0, 3, 4}


def test_no_overlap_names_who_pays_and_the_cost_rotates() -> None:
    # New York and Tokyo are 14 hours apart: no half hour is inside both.
    paid = {"UNY": 0, "UTK": 0}
    payers = []
    for _ in range(4):
        people = [
            SlotPerson("UNY", WorkingHours(), "America/New_York", paid["UNY"]),
            SlotPerson("UTK", WorkingHours(), "Asia/Tokyo", paid["UTK"]),
        ]
        slots = suggest_slots(people, start=MONDAY, end=CHECKIN)
        assert slots
        first = slots[0]
        assert first.costs, "a no-overlap slot names whose morning or evening it costs"
        (payer, kind), *_ = first.costs
        assert len(first.costs) == 1
        assert kind in ("morning", "evening")
        other = next(p for p in people if p.user_id != payer)
        assert inside(other, first.start, first.end)
        payers.append(payer)
        paid[payer] += 1
    assert payers[0] != payers[1] and payers[1] != payers[2]
    assert paid == {"UNY": 2, "UTK": 2}


@settings(max_examples=60, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=2, max_size=4),
    start_hour=st.integers(min_value=6, max_value=11),
    length=st.integers(min_value=6, max_value=10),
    day_offset=st.integers(min_value=0, max_value=200),
)
def test_every_suggested_slot_fits_everyone_or_names_who_pays(
    zones: list[str], start_hour: int, length: int, day_offset: int
) -> None:
    start = MONDAY + timedelta(days=day_offset)
    hours = WorkingHours(start_minute=start_hour * 60, end_minute=(start_hour + length) * 60)
    people = [SlotPerson(f"U{i}", hours, z) for i, z in enumerate(zones)]
    slots = suggest_slots(people, start=start, end=start + timedelta(days=7))
    assert len(slots) <= 3
    for slot in slots:
        paying = {user_id for user_id, _ in slot.costs}
        for person in people:
            assert inside(person, slot.start, slot.end) != (person.user_id in paying)
    for i in range(len(people)):
        days = [s.start.astimezone(ZoneInfo(zones[i])).date() for s in slots]
        assert len(days) == len(set(days))


def weighted_cost(people: list[SlotPerson], start: datetime) -> int:
    """Minutes outside everyone's hours, weighted by what each already paid (brute force)."""
    total = 0
    end = start + timedelta(minutes=30)
    for person in people:
        windows = person.hours.windows(
            person.tz_name, start - timedelta(days=3), end + timedelta(days=3)
        )
        shift = min(
            (max(timedelta(0), end - high) + max(timedelta(0), low - start))
            for low, high in windows
        )
        total += int(shift.total_seconds() // 60) * (1 + person.past_costs)
    return total


@settings(max_examples=40, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=2, max_size=3),
    paid=st.lists(st.integers(min_value=0, max_value=3), min_size=3, max_size=3),
    day_offset=st.integers(min_value=0, max_value=200),
)
def test_the_least_bad_slot_costs_no_more_than_any_half_hour(
    zones: list[str], paid: list[int], day_offset: int
) -> None:
    start = MONDAY + timedelta(days=day_offset)
    people = [SlotPerson(f"U{i}", WorkingHours(), z, paid[i]) for i, z in enumerate(zones)]
    slots = suggest_slots(people, start=start, end=start + timedelta(days=4))
    if not slots or not slots[0].costs:
        return
    every = [start + timedelta(minutes=30 * n) for n in range(4 * 48 - 1)]
    cheapest = min(weighted_cost(people, moment) for moment in every)
    assert weighted_cost(people, slots[0].start) == cheapest
