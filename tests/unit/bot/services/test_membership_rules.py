"""Pure membership rules: who may take part, and when a pause brings someone back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.enums import Unpairable
from bot.errors import UsageError
from bot.schedule import Schedule
from bot.services.membership import parse_pause, skip_until, why_not_pairable

TEAM = "T0PEERS"
LONDON = Schedule(timezone="Europe/London")


def person(**flags: object) -> dict[str, object]:
    return {"id": "U1", "team_id": TEAM, "deleted": False, "is_bot": False} | flags


@pytest.mark.parametrize(
    ("flags", "guests", "reason"),
    [
        ({}, False, None),
        ({"id": "UAPP"}, False, Unpairable.APP),
        ({"is_bot": True}, False, Unpairable.BOT),
        ({"id": "USLACKBOT"}, False, Unpairable.BOT),
        ({"deleted": True}, False, Unpairable.DEACTIVATED),
        ({"is_restricted": True}, False, Unpairable.GUEST),
        ({"is_restricted": True, "is_ultra_restricted": True}, False, Unpairable.GUEST),
        ({"is_restricted": True}, True, None),
        ({"is_stranger": True}, True, Unpairable.EXTERNAL),
        ({"team_id": "T0OTHER"}, True, Unpairable.EXTERNAL),
    ],
)
def test_who_may_take_part(flags: dict, guests: bool, reason: Unpairable | None) -> None:
    user = person(**flags)
    assert why_not_pairable(user, team_id=TEAM, app_user_id="UAPP", include_guests=guests) == (
        reason
    )


def test_pause_sits_out_the_next_round_whatever_the_clocks_do() -> None:
    after_round = datetime(2026, 10, 19, 8, 30, tzinfo=UTC)  # Mon 09:30 BST
    back = datetime(2026, 11, 2, 9, tzinfo=UTC)  # Mon 09:00 GMT
    assert parse_pause([], now=after_round, schedule=LONDON) == back
    assert skip_until(now=after_round, schedule=LONDON) == back
    before_round = datetime(2026, 10, 19, 7, 30, tzinfo=UTC)  # Mon 08:30 BST
    assert parse_pause([], now=before_round, schedule=LONDON) == datetime(
        2026, 10, 26, 9, tzinfo=UTC
    )


def test_pause_weeks_are_local_calendar_weeks() -> None:
    monday_0830_gmt = datetime(2027, 3, 22, 8, 30, tzinfo=UTC)
    # A week later is 08:30 BST (07:30 UTC): the 09:00 BST round that morning pairs them.
    assert parse_pause(["1", "week"], now=monday_0830_gmt, schedule=LONDON) == datetime(
        2027, 3, 29, 8, tzinfo=UTC
    )
    with pytest.raises(UsageError):
        parse_pause(["53", "weeks"], now=monday_0830_gmt, schedule=LONDON)
