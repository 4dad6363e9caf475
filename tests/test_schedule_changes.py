"""Issue 12, schedule changes and the first round: a change applies to slots after it and
after the current round; a catch-up never runs a slot from before the programme started or
before the change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import Round
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intros, set_schedule
from tests.test_admin import ADMIN, open_settings, settings_values

FOUR = ["U001", "U002", "U003", "U004"]


def change_hour(sandbox: Sandbox, hour: int) -> None:
    """The admin moves the round hour in the settings modal."""
    view = open_settings(sandbox)
    response = sandbox.people.submit(ADMIN, view, settings_values(hour=str(hour)))
    assert response.status == 200 and response.body == b""
    sandbox.settle()
    assert "apply from the next round" in dms_to(sandbox, ADMIN)[-1].text


def round_starts(sandbox: Sandbox) -> list:
    with sandbox.deps.unit_of_work() as session:
        return list(session.scalars(select(Round.started_at).order_by(Round.id)))


def test_moving_the_hour_after_the_round_does_not_start_a_second_one_that_day(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    assert len(sandbox.tick().rounds_started) == 1

    go_to(sandbox, MONDAY_9 + timedelta(hours=1))  # 10:00: the admin moves rounds to 17:00
    change_hour(sandbox, 17)
    next_round = MONDAY_9 + timedelta(weeks=1, hours=8)  # next Monday 17:00, not today's
    assert f"Next round: <!date^{int(next_round.timestamp())}^" in (
        sandbox.people.command("U001", "status").text
    )
    reply = sandbox.people.command("U004", "pause").text  # sits out next Monday 17:00
    assert f"<!date^{int((next_round + timedelta(weeks=1)).timestamp())}^" in reply
    for later in (timedelta(hours=8), timedelta(hours=8, minutes=1), timedelta(hours=20)):
        go_to(sandbox, MONDAY_9 + later)  # 17:00, 17:01 and the catch-up window
        assert sandbox.tick().rounds_started == []

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))  # next Monday 09:00: no longer a slot
    assert sandbox.tick().rounds_started == []
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1, hours=8))  # next Monday 17:00
    assert len(sandbox.tick().rounds_started) == 1
    assert round_starts(sandbox) == [MONDAY_9, MONDAY_9 + timedelta(weeks=1, hours=8)]
    assert len(intros(sandbox)) == 3  # U004 sat that one out: a pair and a pair, then a trio


def test_a_fresh_install_does_not_catch_up_the_slot_before_the_first_member_joined(
    sandbox: Sandbox,
) -> None:
    go_to(sandbox, MONDAY_9 + timedelta(hours=1))  # default schedule: Mondays 09:00 UTC
    sandbox.join("U001")  # the first person joins Monday 10:00
    sandbox.clock.advance(minutes=1)
    assert sandbox.tick().rounds_started == []
    sandbox.join("U002")
    assert sandbox.tick().rounds_started == []
    assert [m.text for m in dms_to(sandbox, "U001") if "couldn't find a peer" in m.text] == []

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    assert len(sandbox.tick().rounds_started) == 1
    assert len(intros(sandbox)) == 1


def test_a_change_never_catches_up_a_slot_that_passed_before_it(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in FOUR:
        sandbox.join(user)
    set_schedule(sandbox, hour=17)
    go_to(sandbox, MONDAY_9 + timedelta(hours=8))  # last week's round, Monday 17:00
    assert len(sandbox.tick().rounds_started) == 1

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1, hours=1))  # Monday 10:00 a week later
    change_hour(sandbox, 9)  # today's 09:00 slot passed before the change
    sandbox.clock.advance(minutes=1)
    assert sandbox.tick().rounds_started == []
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1, hours=8))  # nor does the old 17:00 run
    assert sandbox.tick().rounds_started == []

    go_to(sandbox, MONDAY_9 + timedelta(weeks=2))
    assert len(sandbox.tick().rounds_started) == 1


def test_a_slot_missed_while_the_app_was_down_is_still_caught_up_once(
    sandbox: Sandbox,
) -> None:
    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9 + timedelta(hours=5))  # down from before 09:00 until 14:00
    assert len(sandbox.tick().rounds_started) == 1
    sandbox.clock.advance(minutes=1)
    assert sandbox.tick().rounds_started == []
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))  # the next slot runs on time
    assert len(sandbox.tick().rounds_started) == 1


def test_a_scheduled_slot_just_after_an_admins_round_does_not_start_another(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9 - timedelta(minutes=5))
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()
    go_to(sandbox, MONDAY_9)
    assert sandbox.tick().rounds_started == []
    assert len(round_starts(sandbox)) == 1
